#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vsocktop with two live systems: the records of vsock-trace --stream from
# each side of a vsock-refdev sim pair (b's clock 5 s ahead of a's), over
# TCP on localhost, one connecting to vsocktop (--listen) and one waited
# for (--remote, vsock-trace --stream listen:). vsocktop must line the
# clocks up from the packets both saw and end with the findings
# vsock-report prints for the same pair: sent all at once, and (a second,
# request/response pair) paced as live with vsock-trace --speed 1.
# Never touches vsock.
. "$(dirname "$0")/lib.sh"
TOP=$BUILD/vsocktop
TRACE=$BUILD/vsock-trace
REFDEV=$BUILD/vsock-refdev

for b in "$TOP" "$TRACE" "$REFDEV" "$REPORT"; do
	[ -x "$b" ] || { fail top_remote_build "$b missing"; exit 0; }
done

# a free TCP port on localhost (ss from iproute2, which make deps installs)
port() {
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	return 1
}
command -v ss >/dev/null ||
	{ skip top_remote "ss (iproute2) is not installed: make deps"; exit 0; }

d=$TMP/pair
"$REFDEV" sim --workload mix --flows 3 --duration-ms 1500 \
	--clock-offset-ns 5000000000 \
	--fault withhold-credit:at=500ms,for=400ms --out "$d" -q ||
	{ fail top_remote_sim "vsock-refdev sim failed"; exit 0; }
for s in a b; do
	"$TRACE" --from "$d/$s.trace" -o "$d/$s.vscap" -q ||
		{ fail top_remote_convert "vsock-trace --from $s.trace failed"; exit 0; }
done
"$REPORT" -q a="$d/a.trace" b="$d/b.trace" >"$d/report.txt"
echo $? >"$d/report.rc"

# a request/response pair (b's clock 5 s ahead, a packet a sent lost),
# 3 s long, for streams paced as live: a merge that runs ahead of a
# system reports its packets lost. Up to 2 ms of think time between
# exchanges: a live stream is ahead of the other when the clocks are
# estimated, and in traffic of one period the captures' ends align as
# well as their starts
p=$TMP/paced
mkdir -p "$p"
awk -v OFF=5000000000 -v N=1600 -v DROP=1200 -v DRIFT=0 -v THINK=2000000 \
	-v HOST="$p/a.trace" -v GUEST="$p/b.trace" -f "$(dirname "$0")/mkpair.awk"
for s in a b; do
	"$TRACE" --from "$p/$s.trace" --system "$s" -o "$p/$s.vscap" -q ||
		{ fail top_remote_convert "vsock-trace --from paced $s.trace failed"; exit 0; }
done
"$REPORT" -q a="$p/a.trace" b="$p/b.trace" >"$p/report.txt"
echo $? >"$p/report.rc"

# run NAME [DIR [HOLD_MS [SPEED]]]: both streams of DIR (a.vscap, b.vscap,
# report.txt: default the sim pair) into one vsocktop, its findings
# against the report's; with SPEED, each stream paced to it, as live
run() {
	local name=$1 d=${2:-$d} hold=${3:-10000} pace= pa pb tp rc rrc
	[ -n "${4:-}" ] && pace="--speed $4"
	rrc=$(cat "$d/report.rc")
	pa=$(port)
	pb=$(port)
	# b is waited for by its vsock-trace; a connects to vsocktop
	# shellcheck disable=SC2086
	"$TRACE" --from "$d/b.vscap" $pace --stream "listen:tcp:127.0.0.1:$pb" \
		-o /dev/null -q 2>"$TMP/$name-b.err" &
	tp=$!
	(
		for _ in $(seq 100); do
			# shellcheck disable=SC2086
			"$TRACE" --from "$d/a.vscap" $pace --stream "tcp:127.0.0.1:$pa" \
				-o /dev/null -q 2>"$TMP/$name-a.err" && exit 0
			sleep 0.1
		done
		exit 1
	) &
	for _ in $(seq 50); do
		grep -q waiting "$TMP/$name-b.err" 2>/dev/null && break
		sleep 0.1
	done
	# One CI run in five (2026-12-04) reported b's packets lost: a stream
	# read that found nothing new stamped its quiet time after the time
	# the merge compared it with, the difference wrapped, and the merge
	# stopped waiting for that system (fixed 2026-12-05; the paced run
	# below shows it every time). The long hold stays: streams end with
	# EOF, so it costs time only when a producer is starved.
	timeout 120 "$TOP" -b -d 0.5 --hold-ms "$hold" --listen "a=tcp:127.0.0.1:$pa" \
		--remote "b=tcp:127.0.0.1:$pb" >"$TMP/$name.out" \
		2>"$TMP/$name.err"
	rc=$?
	wait
	kill $tp 2>/dev/null
	sed -n '/^vsocktop - findings$/,$p' "$TMP/$name.out" |
		tail -n +2 >"$TMP/$name.findings"
	if [ $rc -ne $rrc ]; then
		fail "$name" "vsocktop exit $rc, vsock-report $rrc ($(tail -n 1 "$TMP/$name.err"))"
	elif ! awk '/^b .*clock: [-+][0-9.]+ us \+-[0-9.]+ us$/ {
			n = split($0, w, " "); off = w[n - 3]; unc = substr(w[n - 1], 3)
			d = off + 5000000; if (d < 0) d = -d
			if (d <= unc + 1) ok = 1 }
			END { exit !ok }' "$TMP/$name.out"; then
		fail "$name" "b's clock not within its uncertainty of -5 s: $(grep '^b ' "$TMP/$name.out" | tail -n 1)"
	elif ! cmp -s "$TMP/$name.findings" "$d/report.txt"; then
		fail "$name" "findings differ from vsock-report's: $(diff "$TMP/$name.findings" "$d/report.txt" | head -n 3 | tr '\n' ' ')"
	elif grep -q "came too late" "$TMP/$name.out"; then
		fail "$name" "$(grep -m1 "came too late" "$TMP/$name.out")"
	else
		pass "$name"
		echo "  $name: $(wc -l <"$TMP/$name.findings") findings as vsock-report; $(grep "^b " "$TMP/$name.out" | tail -n 1 | sed "s/.*clock/clock/")"
	fi
}

grep -q '^credit_stall a ' "$d/report.txt" ||
	fail top_remote_report "vsock-report found no credit stall in the pair"
run top_remote_pair_same_findings
run top_remote_pair_again
grep -q '^lost_packet a ' "$p/report.txt" ||
	fail top_remote_report "vsock-report found no lost packet in the paced pair"
# live pace, and a hold a paced stream keeps to: the merge waits for each
run top_remote_paced_same_findings "$p" 1000 1

# a stream that is not a capture: a clear error, exit 2
p=$(port)
(
	sleep 0.5
	exec 3<>"/dev/tcp/127.0.0.1/$p" && printf 'not a capture\n' >&3
) 2>/dev/null &
timeout 20 "$TOP" -b -d 0.5 --listen "x=tcp:127.0.0.1:$p" >/dev/null 2>"$TMP/bad.err"
rc=$?
wait
if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -le 2 ] &&
	grep -q '^vsocktop: error: failed to read the stream tcp:127.0.0.1:[0-9]*: ' "$TMP/bad.err"; then
	pass top_remote_not_a_capture
else
	fail top_remote_not_a_capture "exit $rc: $(tr '\n' ' ' <"$TMP/bad.err")"
fi

# nothing listening: a one-line error, exit 2
p=$(port)
timeout 10 "$TOP" -b --remote "tcp:127.0.0.1:$p" >/dev/null 2>"$TMP/refused.err"
rc=$?
if [ $rc -eq 2 ] && grep -q '^vsocktop: error: failed to open the stream: cannot connect to tcp:127.0.0.1:[0-9]*: Connection refused$' "$TMP/refused.err"; then
	pass top_remote_refused
else
	fail top_remote_refused "exit $rc: $(tr '\n' ' ' <"$TMP/refused.err")"
fi
exit 0
