#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# serve-tier.sh BUILD_DIR [check|bench] - the real-kernel tier: Debian's
# kernel in QEMU (software emulation) with its virtio-vsock driver talking to
# vsock-refdev serve over vhost-user, host programs on the hybrid vsock
# sockets, captures from the guest's tracefs analysed with serve's own.
#
# check: one line per test, PASS/FAIL/SKIP <name>[: why] (tests/run.sh
#        counts them); every test is SKIPPED with the reason when QEMU or
#        the kernel cannot be had.
# bench: guest -> host throughput through serve against vsock_loopback in
#        the same guest, one line "serve-throughput: ..."; then the cost of
#        capturing, one line "trace-overhead: ...".
#        VM_BENCH=tracebench runs only the second boot (trace-overhead);
#        TRACEBENCH_PROBES="vsock irq alloc,irq" adds a BPF run per probe
#        list to each round, printed as "trace-overhead-probes: ..." (which
#        family costs what); LIST@NAME runs /bin/vsock-trace-NAME instead,
#        a build given in TRACEBENCH_BINS (paths; compares two builds);
#        TRACEBENCH_ROUNDS, TRACEBENCH_MIB: other than 5 rounds of 32 MiB.
#
# Each scenario is one boot (tests/vm/guest-serve.sh says what runs in the
# guest). Work files go to BUILD_DIR/vm/tier/<scenario>/, sockets to a
# short directory under /tmp (Unix socket paths are limited to 107 bytes).

set -u

B=$(cd "${1:?usage: serve-tier.sh BUILD_DIR [check|bench]}" && pwd)
mode=${2:-check}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export VSOCKSCOPE_VM_BUILD=${VSOCKSCOPE_VM_BUILD:-$B/vm}
vm=$VSOCKSCOPE_VM_BUILD
guest=$vm/guest
VSIO=$vm/vsockio
REPORT=$B/vsock-report
REFDEV=$B/vsock-refdev
BUILD_TRACE=$B/vsock-trace
MiB=1048576
TESTS="vm-boot vm-g2h-1B vm-g2h-32conn vm-g2h-1MiB vm-h2g-1B vm-h2g-32conn
vm-h2g-1MiB vm-host-reader-stall vm-loopback-report vm-guest-report
vm-fault-withhold-credit vm-fault-drop-irq vm-fault-stop-rx-refill
vm-trace-tracefs vm-trace-bpf vm-trace-bpf-vring vm-trace-sigkill
vm-top-live"

say() { echo "  $*"; }
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip_all() {
	for t in $TESTS; do echo "SKIP $t: $*"; done
	exit 0
}

failed=0
# VM_SCENARIOS: the boots to run (default all), for working on one
want() {
	case " ${VM_SCENARIOS:-clean credit irq refill trace} " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
[ -x "$REPORT" ] && [ -x "$REFDEV" ] || { echo "FAIL vm-tier: build the tools first (make all)"; exit 1; }
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip_all "qemu-system-x86_64 not installed (make deps installs qemu-system-x86)"
command -v jq >/dev/null 2>&1 || skip_all "jq not installed (make deps)"
if ! out=$("$here/prepare.sh" 2>&1); then
	skip_all "cannot fetch the guest kernel: $(echo "$out" | tail -n 1)"
fi

# --- guest programs, static, and the initramfs -------------------------------
mkdir -p "$guest"
build_static() {
	# build_static OUT SRC...: only when a source is newer
	o=$1
	shift
	if [ ! -x "$o" ] || [ -n "$(find "$@" -newer "$o" 2>/dev/null)" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -pthread \
			-o "$o" "$@" || return 1
	fi
}
build_static "$guest/vsockio" "$here/vsockio.c" &&
	build_static "$guest/stallpair" "$here/stallpair.c" &&
	gcc -O2 -Wall -Wextra -Werror -pthread -o "$VSIO" "$here/vsockio.c" &&
	make -s -C "$top" BUILD="$B" "$B/vm/guest/vsock-report" \
		"$B/vm/guest/vsock-trace" "$B/vm/guest/vsocktop" >/dev/null ||
	{ echo "FAIL vm-tier: cannot build the guest programs"; exit 1; }
"$here/mkinitramfs.sh" "$vm/serve.cpio.gz" "$here/guest-serve.sh" \
	"$guest/vsockio" "$guest/stallpair" "$guest/vsock-report" \
	"$guest/vsock-trace" "$guest/vsocktop" ${TRACEBENCH_BINS:-} >"$vm/mkinitramfs.log" 2>&1 ||
	{ echo "FAIL vm-tier: mkinitramfs: $(tail -n 1 "$vm/mkinitramfs.log")"; exit 1; }

sock=$(mktemp -d /tmp/vsv.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$sock"' EXIT INT TERM

# host side helpers, all in the background, logs in $d
hrecv() { "$VSIO" recv "unix:$sock/hy_$1" ${2:-} >"$d/hrecv-$1.log" 2>&1 & }
hget() { "$VSIO" get "unix:$sock/hy_$1" "$d/$2" >"$d/hget-$1.log" 2>&1 & }
# hsend PORT ARGS...: once the guest said it listens (port 7099)
hsend_after_ready() {
	(
		"$VSIO" get "unix:$sock/hy_7099" /dev/null >/dev/null 2>&1
		while [ $# -gt 0 ]; do
			port=$1
			args=$2
			shift 2
			"$VSIO" send "hybrid:$sock/hy:$port" $args -r 20000 \
				>"$d/hsend-$port.log" 2>&1 &
		done
		wait
	) &
}

# the capture shipped over vsock matches what the guest had
shipped() {
	want=$(sed -n "s/^guest: $1 lines [0-9]* md5 \([0-9a-f]*\)\$/\1/p" "$d/console.log")
	[ -s "$d/$2" ] && [ -n "$want" ] &&
		[ "$(md5sum <"$d/$2" | cut -d' ' -f1)" = "$want" ] &&
		! grep -q "^guest: $1 cpu.*overrun: [1-9]" "$d/console.log"
}

# report_json NAME: vsock-report on guest + host captures, JSON to $d/NAME.json
report_json() {
	"$REPORT" -j --irq-timeout-ms "${IRQ_MS:-100}" guest="$d/guest.trace" \
		host="$d/host.trace" >"$d/$1.json" 2>"$d/$1.err"
	rc=$?
	[ $rc -le 1 ] || { say "vsock-report exit $rc: $(cat "$d/$1.err")"; return 1; }
}

finding_summary() {
	jq -r '.findings[] | "\(.kind) on \(.system // "-") \(.flow // "-")"' "$1" 2>/dev/null | sort | uniq -c | sort -rn | head -n 8 |
		sed 's/^/    finding: /'
}

# --- clean: streams, a host reader that pauses, loopback --------------------
d=$vm/tier/clean
mkdir -p "$d"
# host programs first (listeners), serve and the guest after
prep_clean() {
	hrecv 7000
	hrecv 7001 "-n 32"
	hrecv 7002
	hrecv 7200 "-p 524288 -P 800"
	hget 7900 guest.trace
	hget 7901 loopback.trace
	hsend_after_ready 7100 "-b 4096 -w 1" 7101 "-n 32 -b 262144 -w 65536" \
		7102 "-b $((4 * MiB)) -w $MiB"
}
# the host programs need $d and $sock before boot; boot recreates $d, so
# start them from inside a wrapper that boot calls first
boot_with() {
	prep=$1
	shift
	scn=$1
	d=$vm/tier/$scn
	rm -rf "$d"
	mkdir -p "$d"
	rm -rf "$sock"/*
	$prep
	boot "$@"
}
# boot SCENARIO [serve options...]: serve + one guest run, in $d, which
# boot_with made and where the host programs already run
boot() {
	scn=$1
	shift
	d=$vm/tier/$scn
	"$REFDEV" serve --socket "$sock/vu.sock" --uds-path "$sock/hy" \
		--guest-cid 3 --trace "$d/host.trace" --truth "$d/truth.json" \
		--once -v "$@" 2>"$d/serve.log" &
	serve_pid=$!
	i=0
	while [ ! -S "$sock/vu.sock" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	t0=$(date +%s.%N)
	VSOCKSCOPE_VM_APPEND="vstest=$scn ${VSOCKSCOPE_VM_EXTRA_APPEND:-}" \
		VSOCKSCOPE_VM_TIMEOUT=${VM_TIMEOUT:-150} \
		"$here/run-guest.sh" "$vm/serve.cpio.gz" \
		-object memory-backend-memfd,id=mem,size=512M,share=on \
		-machine memory-backend=mem \
		-chardev socket,id=vu,path="$sock/vu.sock" \
		-device vhost-user-vsock-pci,chardev=vu \
		>"$d/console.raw" 2>"$d/qemu.err"
	qrc=$?
	t1=$(date +%s.%N)
	tr -d '\r' <"$d/console.raw" >"$d/console.log"
	i=0
	while kill -0 $serve_pid 2>/dev/null && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill $serve_pid 2>/dev/null
	wait $serve_pid
	src=$?
	# the host programs: what is left after the guest is gone is stuck
	sleep 0.2
	pkill -f "vsockio .*$sock" 2>/dev/null
	say "$scn: boot to power-off $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s, qemu exit $qrc, serve exit $src"
	[ $qrc -eq 0 ] || say "$scn: qemu: $(tail -n 2 "$d/qemu.err" | tr '\n' ' ')"
	return $qrc
}

prep_bench() {
	hrecv 7000 "-n 3"
}
if [ "$mode" = bench ]; then
	vm_bench=${VM_BENCH:-bench tracebench}
	case " $vm_bench " in
	*" bench "*)
		boot_with prep_bench bench || { echo "serve-throughput: FAILED (boot)"; exit 1; }
		# the best of three rounds each
		s=$(sed -n 's/^guest: bench serve vsockio: sent .* (\([0-9.]*\) MB\/s)$/\1/p' "$d/console.log" | sort -n | tail -n 1)
		l=$(sed -n 's/^guest: bench loopback vsockio: sent .* (\([0-9.]*\) MB\/s)$/\1/p' "$d/console.log" | sort -n | tail -n 1)
		if [ -z "$s" ] || [ -z "$l" ] || ! grep -q "data ok" "$d/hrecv-7000.log"; then
			echo "serve-throughput: FAILED (see $d/console.log)"
			exit 1
		fi
		;;
	esac
	tb_line=
	# extra BPF runs, one per probe list: bpf-LIST on the guest's side
	tbp=$(echo ${TRACEBENCH_PROBES:-} | tr ' ' '/')
	case " $vm_bench " in
	*" tracebench "*) tb=1 ;;
	*) tb=0 ;;
	esac
	if [ $tb = 1 ] && VSOCKSCOPE_VM_EXTRA_APPEND="${tbp:+vstbp=$tbp} ${TRACEBENCH_ROUNDS:+vstbr=$TRACEBENCH_ROUNDS} ${TRACEBENCH_MIB:+vstbm=$TRACEBENCH_MIB}" \
		VM_TIMEOUT=${VM_TIMEOUT:-$((150 + 40 * $(echo ${TRACEBENCH_PROBES:-} | wc -w)))} \
		boot_with : tracebench; then
		best() { sed -n "s/^guest: tracebench $1 vsockio: sent .* (\([0-9.]*\) MB\/s)\$/\1/p" "$d/console.log" | sort -n | tail -n 1; }
		n=$(best none)
		t=$(best tracefs)
		bp=$(best bpf)
		tb_line=$(awk -v n="$n" -v t="$t" -v b="$bp" -v r="${TRACEBENCH_ROUNDS:-5}" -v m="${TRACEBENCH_MIB:-32}" 'BEGIN {
			if (n == "" || t == "") { print "trace-overhead: FAILED"; exit }
			printf "trace-overhead: vsock_loopback in 64 KiB writes, best of %d x %d MiB, interleaved: no capture %.1f MB/s; tracefs %.1f MB/s (%.2f x, cost %.1f%%)", r, m, n, t, t / n, 100 * (1 - t / n)
			if (b != "") printf "; bpf %.1f MB/s (%.2f x, cost %.1f%%)", b, b / n, 100 * (1 - b / n)
			else printf "; bpf: not built in"
			printf " (target: BPF cost <= 5%%)\n" }')
		for p in ${TRACEBENCH_PROBES:-}; do
			v=$(best "bpf-$p")
			awk -v n="$n" -v p="$p" -v b="$v" 'BEGIN {
				if (b == "") printf "trace-overhead-probes: bpf -p %s: FAILED\n", p
				else printf "trace-overhead-probes: bpf -p %s: %.1f MB/s (cost %.1f%%)\n", p, b, 100 * (1 - b / n) }'
		done
	fi
	case " $vm_bench " in
	*" bench "*)
		awk -v s="$s" -v l="$l" 'BEGIN { printf "serve-throughput: guest->host through serve %.1f MB/s; guest vsock_loopback %.1f MB/s; ratio %.2f x (target >= 0.5x; best of 3 x 64 MiB in 64 KiB writes each, same VM run, TCG; serve traced)\n", s, l, s / l }'
		;;
	esac
	[ $tb = 0 ] || echo "${tb_line:-trace-overhead: FAILED (boot)}"
	exit 0
fi

if want clean; then
if ! boot_with prep_clean clean; then
	if grep -q '^SKIP:' "$d/console.raw"; then
		skip_all "$(sed -n 's/^SKIP: //p' "$d/console.raw" | head -n 1)"
	fi
	fail vm-boot "guest run failed, see $d/console.log and $d/qemu.err"
else
	pass vm-boot
fi

# the guest's vsockio lines and the host's, per stream
stream() {
	name=$1 gline=$2 hlog=$3
	if grep -q "^guest: $name exit 0" "$d/console.log" &&
		grep -q "data ok" "$hlog" 2>/dev/null; then
		pass "vm-$name"
		say "$name: $(tail -n 1 "$hlog")"
	else
		fail "vm-$name" "guest: $(grep "^guest: $name" "$d/console.log" | head -n 1); host: $(tail -n 1 "$hlog" 2>/dev/null)"
	fi
	: "$gline"
}
stream_h2g() {
	name=$1 hlog=$2
	if grep -q "^guest: $name exit 0 .*data ok" "$d/console.log" &&
		grep -q "^vsockio: sent" "$hlog" 2>/dev/null; then
		pass "vm-$name"
		say "$name: $(grep "^guest: $name" "$d/console.log" | sed 's/.*vsockio: //')"
	else
		fail "vm-$name" "guest: $(grep "^guest: $name" "$d/console.log" | head -n 1); host: $(tail -n 1 "$hlog" 2>/dev/null)"
	fi
}
stream g2h-1B "" "$d/hrecv-7000.log"
stream g2h-32conn "" "$d/hrecv-7001.log"
stream g2h-1MiB "" "$d/hrecv-7002.log"
stream_h2g h2g-1B "$d/hsend-7100.log"
stream_h2g h2g-32conn "$d/hsend-7101.log"
stream_h2g h2g-1MiB "$d/hsend-7102.log"

# a guest writer whose host reader pauses 800 ms: the report must find the
# credit stall on that flow, and the clean streams must give no findings
if ! shipped serve guest.trace; then
	fail vm-host-reader-stall "the guest capture did not arrive intact (see $d/console.log)"
elif ! report_json clean; then
	fail vm-host-reader-stall "vsock-report failed on $d/guest.trace + host.trace"
else
	finding_summary "$d/clean.json"
	n=$(jq '[.findings[] | select(.kind == "credit_stall" and (.flow | test("->2:7200$")))] | length' "$d/clean.json")
	other=$(jq '[.findings[] | select((.flow // "" | test("->2:7200$|2:7200->") | not))] | length' "$d/clean.json")
	dur=$(jq '[.findings[] | select(.kind == "credit_stall" and (.flow | test("->2:7200$"))) | .duration_ns / 1e6 | floor] | max // 0' "$d/clean.json")
	if [ "$n" -ge 1 ] && [ "$other" -eq 0 ] &&
		awk -v d="$dur" 'BEGIN { exit !(d >= 200 && d <= 1200) }'; then
		pass vm-host-reader-stall
		say "host-reader-stall: credit_stall on ->2:7200 for $dur ms (reader paused 800 ms); no other findings"
	else
		fail vm-host-reader-stall "want one credit_stall on ->2:7200 of 200-1200 ms and nothing else; got $n stall(s) (max $dur ms), $other other finding(s) (see $d/clean.json)"
	fi
fi

# vsock_loopback in the guest: the host's analysis and the guest's own
if shipped loopback loopback.trace &&
	"$REPORT" -j "$d/loopback.trace" >"$d/loopback.json" 2>"$d/loopback.err"; [ $? -le 1 ] &&
	[ "$(jq '[.findings[] | select(.kind == "credit_stall")] | length' "$d/loopback.json")" -ge 1 ]; then
	pass vm-loopback-report
	finding_summary "$d/loopback.json"
else
	fail vm-loopback-report "no credit_stall in the guest's vsock_loopback capture (see $d/loopback.json)"
fi
if grep -q '^guest: report: .*credit_stall' "$d/console.log"; then
	pass vm-guest-report
else
	fail vm-guest-report "the static vsock-report in the guest printed no credit_stall (see $d/console.log)"
fi

fi

# --- faults injected by serve -----------------------------------------------
# fault SCENARIO TEST EXPECTED_KINDS FLOW_RE PREP FAULT...
fault_test() {
	scn=$1 t=$2 kinds=$3 flow=$4 prep=$5
	shift 5
	want "$scn" || return 0
	if ! boot_with "$prep" "$scn" --fault "$@"; then
		fail "$t" "guest run failed (see $d/console.log)"
		return
	fi
	if ! shipped serve guest.trace; then
		fail "$t" "the guest capture did not arrive intact (see $d/console.log)"
		return
	fi
	if ! report_json fault; then
		fail "$t" "vsock-report failed"
		return
	fi
	finding_summary "$d/fault.json"
	inj=$(jq '.faults | length' "$d/truth.json" 2>/dev/null)
	# findings of the kinds wanted, on the flow wanted, that start while
	# the fault acted (serve's clock, where the truth is; the report's
	# offsets bring each finding there), give or take the timeout
	ts=$(jq '.faults[0].start_ns // 0' "$d/truth.json" 2>/dev/null)
	te=$(jq '.faults[0].end_ns // (.faults[0].start_ns + 1000000000) // 0' "$d/truth.json" 2>/dev/null)
	n=$(jq --arg k "$kinds" --arg f "$flow" --argjson ts "${ts:-0}" \
		--argjson te "${te:-0}" '
		(.systems | map({(.name): (.clock_offset_ns // 0)}) | add) as $off |
		[.findings[] |
		 select((.kind as $x | $k | split(",") | index($x)) and
			((.flow // "") | test($f))) |
		 (.start_ns + $off[.clock] - $off["host"]) |
		 select(. >= $ts - 150000000 and . <= $te + 500000000)] |
		length' "$d/fault.json")
	if [ "${inj:-0}" -ge 1 ] && [ "$n" -ge 1 ]; then
		pass "$t"
		say "$t: $inj injection(s) in the truth, found as $(jq -r --arg k "$kinds" '[.findings[] | select(.kind as $x | $k | split(",") | index($x)) | .kind] | unique | join(",")' "$d/fault.json")"
	else
		fail "$t" "injections $inj, matching findings $n (want $kinds on $flow while the fault acted; see $d/fault.json, $d/truth.json)"
	fi
}
prep_g2h() {
	hrecv 7000
	hget 7900 guest.trace
}
prep_h2g() {
	hget 7900 guest.trace
	hsend_after_ready 7100 "-t 2500 -w 65536"
}
fault_test credit vm-fault-withhold-credit credit_stall '->2:7000$' prep_g2h \
	"withhold-credit:at=600ms,for=800ms"
# the guest's queues share one interrupt vector (virtio0-virtqueues): a
# call dropped on rx alone is answered by the next tx call
fault_test irq vm-fault-drop-irq unanswered_interrupt,lost_packet '' prep_h2g \
	"drop-irq:at=600ms,count=20" --fault "drop-irq:at=600ms,count=20,what=tx"
fault_test refill vm-fault-stop-rx-refill credit_stall,unanswered_interrupt,lost_packet '' prep_h2g \
	"stop-rx-refill:at=600ms,for=600ms"

# --- vsock-trace in the guest ---------------------------------------------
prep_trace() {
	hrecv 7000 "-n 3"
	hget 7900 cap-tracefs.vscap
	hget 7901 cap-bpf.vscap
	hget 7902 cap-kill.vscap
}
if ! want trace; then
	:
elif ! boot_with prep_trace trace; then
	fail vm-trace-tracefs "guest run failed (see $d/console.log)"
else
	for b in tracefs bpf; do
		t=vm-trace-$b
		if ! grep -q "^guest: vsock-trace $b exit 0" "$d/console.log" ||
			! shipped "cap-$b" "cap-$b.vscap"; then
			fail "$t" "no capture (see $d/console.log)"
			continue
		fi
		"$REPORT" -j "$d/cap-$b.vscap" >"$d/cap-$b.json" 2>"$d/cap-$b.err"
		# the known workload: 1 MiB to 1:7400 (loopback: both ends in
		# this capture) and 1 MiB to 2:7000 (through serve)
		lo=$(jq '[.flows[] | select(.flow | test("->1:7400$")) | .tx_bytes] | add // 0' "$d/cap-$b.json")
		lo_rx=$(jq '[.flows[] | select(.flow | test("->1:7400$")) | .rx_bytes] | add // 0' "$d/cap-$b.json")
		sv=$(jq '[.flows[] | select(.flow | test("->2:7000$")) | .tx_bytes] | add // 0' "$d/cap-$b.json")
		skipped=$(jq '.systems[0].skipped_lines' "$d/cap-$b.json")
		if [ "$lo" -eq $((MiB + 8)) ] && [ "$lo_rx" -eq $((MiB + 8)) ] &&
			[ "$sv" -eq $((MiB + 8)) ] && [ "$skipped" -eq 0 ]; then
			pass "$t"
			say "$t: $(grep "^guest: $b: .*events" "$d/console.log" | sed "s/^guest: $b: //")"
		else
			fail "$t" "loopback tx $lo rx $lo_rx, through serve $sv bytes (want $((MiB + 8)) each), $skipped lines skipped (see $d/cap-$b.json)"
		fi
	done
	# BPF's vring probes see the vsock device's queues
	if [ -s "$d/cap-bpf.vscap" ] &&
		"$BUILD_TRACE" --from "$d/cap-bpf.vscap" --format text -q -o "$d/cap-bpf.txt" &&
		grep -q 'vq_kick: dev=vsock vq=tx' "$d/cap-bpf.txt" &&
		grep -Eq 'vq_(irq|get): dev=vsock vq=rx' "$d/cap-bpf.txt"; then
		pass vm-trace-bpf-vring
		say "vm-trace-bpf-vring: $(grep -c 'dev=vsock' "$d/cap-bpf.txt") vsock queue events; $(grep "^guest: bpf: vsock-trace: bpf backend, [0-9]* events" "$d/console.log" | sed 's/^guest: bpf: //')"
	else
		fail vm-trace-bpf-vring "no vsock queue kicks/interrupts in the BPF capture (see $d/cap-bpf.txt, $d/console.log)"
	fi
	# the capture of a vsock-trace killed mid-stream: every record up to
	# the cut is there, and the packets in it are whole
	if shipped cap-kill cap-kill.vscap &&
		"$REPORT" -j "$d/cap-kill.vscap" >"$d/cap-kill.json" 2>"$d/cap-kill.err"; [ $? -le 1 ] &&
		[ "$(jq '.systems[0].events' "$d/cap-kill.json")" -gt 100 ] &&
		[ "$(jq '.systems[0].skipped_lines' "$d/cap-kill.json")" -eq 0 ]; then
		pass vm-trace-sigkill
		say "vm-trace-sigkill: $(stat -c %s "$d/cap-kill.vscap") bytes, $(jq '.systems[0].events' "$d/cap-kill.json") events read after SIGKILL"
	else
		fail vm-trace-sigkill "the killed capture does not read back (see $d/cap-kill.json, $d/cap-kill.err)"
	fi
	# vsocktop -b on the guest's live traffic: the last update shows the
	# three loopback connections and the one through serve, and some
	# update showed the loopback ones moving data
	sed -n 's/^guest: top: //p' "$d/console.log" >"$d/top.txt"
	last=$(awk '/^vsocktop - update/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$d/top.txt")
	nloop=$(printf '%b' "$last" | grep -cE '^1:[0-9]+>1:7410 ')
	nserve=$(printf '%b' "$last" | grep -cE '^3:[0-9]+>2:7000 ')
	moving=$(grep -E '^1:[0-9]+>1:7410 ' "$d/top.txt" | awk '$4 ~ /[KMG]$/' | wc -l)
	st=$(sed -n 's/^guest: vsocktop exit //p' "$d/console.log")
	if [ "$nloop" = 3 ] && [ "$nserve" -ge 1 ] && [ "$moving" -ge 1 ] &&
		{ [ "$st" = 0 ] || [ "$st" = 1 ]; }; then
		pass vm-top-live
		say "vm-top-live: $(grep -c '^vsocktop - update' "$d/top.txt") updates; last: $nloop loopback + $nserve serve connections; $(grep -m1 'capturing' "$d/top.txt")"
	else
		fail vm-top-live "vsocktop -b showed $nloop of 3 loopback and $nserve serve connections, $moving rows moving, exit '$st' (see $d/top.txt)"
	fi
fi

exit $failed
