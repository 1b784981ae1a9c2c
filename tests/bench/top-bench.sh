#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# top-bench.sh BUILD_DIR - the CPU cost of vsocktop, as a fraction of one
# core, at one update a second with 1000 flows and 100k events/s.
#
# Expects BUILD_DIR/vsocktop, BUILD_DIR/vsock-trace, BUILD_DIR/vsock-report,
# BUILD_DIR/gentrace and BUILD_DIR/maxrss (make bench builds them).
# Generates a 1000-flow trace into BUILD_DIR/bench/ (kept and reused while
# gentrace is unchanged), converts
# it to a capture file with vsock-trace --from, and replays each at the
# --speed that makes its events arrive at RATE events per second of wall
# time (the trace's events divided by its time span give its own rate).
# Each replay runs DUR seconds, REPS times (default 3: the machine is
# shared and a run can lose a tenth to its neighbours); the line gives the
# lowest and every run's figure:
#
#   vsocktop -b -d 1 -r FILE -s SPEED     batch, output to a file
#   vsocktop -d 1 -r FILE -s SPEED        the screen, in a detached tmux
#                                         session of COLSxLINES (skipped
#                                         when tmux is missing)
#
# and the process's CPU time (utime + stime from /proc/PID/stat, read just
# before it is stopped) over the wall time since it started is its cost.
# The baseline, measured in the same run (best of REPS): vsock-report -q
# analysing the whole capture offline, its CPU time per event times RATE;
# each line gives its cost as a multiple of that too, which varies less
# with the neighbours on a shared machine than the percentage does.
# The rate achieved, measured in the same run, is printed beside it: the
# ev/s vsocktop itself shows in its last update (per second of the trace)
# times the speed; it says the replay kept up.
#
# Exit status: 0 measured, 1 failed.

set -u

FLOWS=${FLOWS:-1000}
SEED=${SEED:-1}
RATE=${RATE:-100000}
DUR=${DUR:-20}
COLS=${COLS:-200}
LINES=${LINES:-50}
TARGET=${TARGET:-2}
REPS=${REPS:-3}

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 1
fi
B=$1
TOP=$B/vsocktop
TRACE=$B/vsock-trace
REPORT=$B/vsock-report
MAXRSS=$B/maxrss
GEN=$B/gentrace
OUT=$B/bench
export LC_ALL=C

fail() {
	echo "top-bench: $*" >&2
	exit 1
}

[ -x "$TOP" ] || fail "$TOP missing (make all)"
[ -x "$TRACE" ] || fail "$TRACE missing (make all)"
[ -x "$GEN" ] || fail "$GEN missing (make $B/gentrace)"
[ -x "$REPORT" ] || fail "$REPORT missing (make all)"
[ -x "$MAXRSS" ] || fail "$MAXRSS missing (make $B/maxrss)"
[ -r /proc/self/stat ] || fail "/proc is not mounted"
HZ=$(getconf CLK_TCK) || fail "getconf CLK_TCK failed"
mkdir -p "$OUT" || exit 1

# gentrace writes about 85k events per second of trace time: enough lines
# for DUR seconds at RATE, and a few seconds more for the start
LINES_N=$(((DUR + 5) * RATE + 100))
TXT=$OUT/top-$FLOWS-$LINES_N.txt
CAP=$TXT.vscap
if [ ! -s "$TXT" ] || [ -n "$(find "$GEN" -newer "$TXT")" ]; then
	"$GEN" --lines "$LINES_N" --flows "$FLOWS" --seed "$SEED" \
		>"$TXT.tmp" || { rm -f "$TXT.tmp"; fail "gentrace failed"; }
	mv "$TXT.tmp" "$TXT" || exit 1
fi
if [ ! -s "$CAP" ] || [ -n "$(find "$TXT" "$TRACE" -newer "$CAP")" ]; then
	"$TRACE" -q --from "$TXT" -o "$CAP.tmp" ||
		{ rm -f "$CAP.tmp"; fail "vsock-trace --from $TXT failed"; }
	mv "$CAP.tmp" "$CAP" || exit 1
fi

# events (non-comment lines) and time span of the trace
set -- $(awk '!/^#/ {
	for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = substr($i, 1, length($i) - 1); break }
	if (!n++) first = t
	last = t
} END { printf "%d %.6f %.6f\n", n, first, last }' "$TXT")
EVENTS=$1
SPAN=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.6f", b - a }')
SPEED=$(awk -v n="$EVENTS" -v s="$SPAN" -v r="$RATE" \
	'BEGIN { if (s <= 0) exit 1; printf "%.4f", r * s / n }') ||
	fail "the trace $TXT has no time span"
WALL=$(awk -v n="$EVENTS" -v s="$SPAN" -v sp="$SPEED" \
	'BEGIN { printf "%.1f", s / sp }')
awk -v n="$EVENTS" -v s="$SPAN" -v w="$WALL" -v sp="$SPEED" -v d="$DUR" \
	'BEGIN { if (w < d) exit 1 }' ||
	fail "the trace lasts $WALL s at x$SPEED, less than DUR=$DUR s"

# cpu_ticks PID: utime + stime of PID in clock ticks ("" when it is gone)
cpu_ticks() {
	# the command name may hold spaces: count fields after its ")"
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

now() {
	awk '{ print $1 }' /proc/uptime
}

# pct TICKS WALL: CPU time over wall time, in percent
pct() {
	awk -v t="$1" -v w="$2" -v hz="$HZ" 'BEGIN { printf "%.2f", 100 * t / hz / w }'
}

# report LABEL PCT WALL SHOWN RUNS: the line for the best of REPS runs
report() {
	awk -v l="$1" -v pct="$2" -v w="$3" -v f="$FLOWS" -v runs="$5" \
		-v r="$RATE" -v tg="$TARGET" -v shown="$4" -v sp="$SPEED" \
		-v base="$BASE_PCT" 'BEGIN {
		# the ev/s vsocktop shows is per second of the trace: times the speed
		# it is per second of wall time
		v = shown + 0
		if (shown ~ /K$/) v *= 1e3
		else if (shown ~ /M$/) v *= 1e6
		got = v > 0 ? sprintf("%.0fk", v * sp / 1000) : "?"
		printf "top-cpu: %s at 1 Hz, %d flows, %dk events/s replayed: " \
			"%.2f %% of a core over %.0f s (target <= %g %%; " \
			"runs:%s), %.2f x the baseline; achieved %s events/s\n", \
			l, f, r / 1000, pct, w, tg, runs, pct / base, got
	}'
}

# baseline: vsock-report -q on the capture, REPS times; sets BASE_PCT
baseline() {
	best=
	for i in $(seq "$REPS"); do
		"$MAXRSS" -o "$OUT/top-base.res" "$REPORT" -q "$CAP" \
			>/dev/null 2>"$OUT/top-base.err"
		read -r _ _ rx cpu _ <"$OUT/top-base.res" ||
			fail "maxrss wrote no result"
		case $rx in
		0 | 1) ;;
		*) fail "vsock-report -q $CAP exited with $rx: $(head -1 "$OUT/top-base.err")" ;;
		esac
		if [ -z "$best" ] ||
			awk -v a="$cpu" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$cpu
		fi
	done
	BASE_PCT=$(awk -v c="$best" -v n="$EVENTS" -v r="$RATE" \
		'BEGIN { printf "%.4f", 100 * c / n * r }')
	awk -v c="$best" -v n="$EVENTS" -v p="$BASE_PCT" -v r="$RATE" 'BEGIN {
		printf "top-cpu: baseline: vsock-report -q on the capture: " \
			"%d events in %.3f s of CPU (best of '"$REPS"'), " \
			"%.2f %% of a core at %dk events/s\n", n, c, p, r / 1000
	}'
}

# batch FILE: vsocktop -b for DUR seconds; sets ticks, wall and shown
batch() {
	"$TOP" -b -d 1 -r "$1" -s "$SPEED" >"$OUT/top-batch.out" \
		2>"$OUT/top-batch.err" &
	pid=$!
	t0=$(now)
	sleep "$DUR"
	ticks=$(cpu_ticks $pid)
	t1=$(now)
	kill $pid 2>/dev/null
	wait $pid
	rc=$?
	[ -n "$ticks" ] || fail "vsocktop -b -r $1 ended early ($rc): $(head -1 "$OUT/top-batch.err")"
	# the last update's first system line: "NAME ev/s 100K ..."
	shown=$(awk '$2 == "ev/s" { s = $3 } END { print s }' "$OUT/top-batch.out")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# screen FILE: the curses screen in a detached tmux session, the same
screen() {
	# a server of its own each run: the one before may still be exiting
	nscreen=$((${nscreen:-0} + 1))
	sock=vsockscope-top-bench-$$-$nscreen
	tmux -L "$sock" -f /dev/null new-session -d -s bench -x "$COLS" \
		-y "$LINES" "exec $TOP -d 1 -r $1 -s $SPEED 2>$OUT/top-tui.err" ||
		fail "tmux could not start a session"
	pid=$(tmux -L "$sock" list-panes -t bench -F '#{pane_pid}')
	t0=$(now)
	sleep "$DUR"
	ticks=$(cpu_ticks "$pid")
	t1=$(now)
	tmux -L "$sock" capture-pane -p -t bench >"$OUT/top-tui.screen" 2>/dev/null
	tmux -L "$sock" kill-server 2>/dev/null
	[ -n "$ticks" ] || fail "vsocktop -r $1 in tmux ended early: $(head -1 "$OUT/top-tui.err")"
	shown=$(awk '$2 == "ev/s" { print $3; exit }' "$OUT/top-tui.screen")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
}

# measure KIND FILE LABEL: KIND (batch or screen) REPS times, the best
measure() {
	best= runs=
	for i in $(seq "$REPS"); do
		"$1" "$2"
		p=$(pct "$ticks" "$wall")
		runs="$runs $p"
		if [ -z "$best" ] ||
			awk -v a="$p" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$p bwall=$wall bshown=${shown:-?}
		fi
	done
	report "$3" "$best" "$bwall" "$bshown" "$runs"
}

echo "top-bench: $EVENTS events over $SPAN s of trace, replayed at x$SPEED" \
	"= $RATE events/s for $DUR s each"
cat "$TXT" "$CAP" >/dev/null
baseline
measure batch "$TXT" "vsocktop -b (text trace)"
measure batch "$CAP" "vsocktop -b (capture file)"
if command -v tmux >/dev/null 2>&1; then
	measure screen "$TXT" "vsocktop screen ${COLS}x$LINES (text trace)"
	measure screen "$CAP" "vsocktop screen ${COLS}x$LINES (capture file)"
else
	echo "top-cpu: vsocktop screen: SKIP (tmux not installed; Debian: tmux)"
fi
