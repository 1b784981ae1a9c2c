#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# report-bench.sh BUILD_DIR - throughput and memory of vsock-report.
#
# Expects BUILD_DIR/vsock-report, BUILD_DIR/gentrace and BUILD_DIR/maxrss
# (make bench builds them; /usr/bin/time is used when maxrss is missing).
# Generates a 2.5M-line and a 0.6M-line trace into BUILD_DIR/bench/ (kept
# and reused while gentrace is unchanged), then measures in the same run the
# best-of-3 wall time of `wc -l FILE` and of `vsock-report -q FILE`, and the
# peak RSS of vsock-report on both. vsock-report exiting with 0 or 1 is
# success; 2 or a signal is a failure.
#
# Exit status: 0 measured, 1 failed.

set -u

LARGE_LINES=${LARGE_LINES:-2500000}
SMALL_LINES=${SMALL_LINES:-600000}
FLOWS=${FLOWS:-1000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 1
fi
B=$1
REPORT=$B/vsock-report
GEN=$B/gentrace
OUT=$B/bench
export LC_ALL=C

fail() {
	echo "report-bench: $*" >&2
	exit 1
}

[ -x "$REPORT" ] || fail "$REPORT missing (make all)"
[ -x "$GEN" ] || fail "$GEN missing (make $B/gentrace)"
if [ -x "$B/maxrss" ]; then
	MEASURE="maxrss"
elif [ -x /usr/bin/time ]; then
	MEASURE="time"
else
	fail "need $B/maxrss (make $B/maxrss) or /usr/bin/time (Debian: time)"
fi
mkdir -p "$OUT" || exit 1

# measure RESULT_FILE CMD... : "<wall s> <maxrss KiB> <exit status>"
measure() {
	res=$1
	shift
	if [ $MEASURE = maxrss ]; then
		"$B/maxrss" -o "$res" "$@" >/dev/null 2>>"$OUT/stderr.log"
	else
		/usr/bin/time -o "$res" -f '%e %M %x' "$@" \
			>/dev/null 2>>"$OUT/stderr.log"
		# GNU time writes "Command exited with non-zero status N" first
		tail -n 1 "$res" >"$res.tmp" && mv "$res.tmp" "$res"
	fi
}

gen() {
	f=$OUT/trace-$1.txt
	if [ -s "$f" ] && [ -z "$(find "$GEN" -newer "$f")" ]; then
		return
	fi
	if ! "$GEN" --lines "$1" --flows "$FLOWS" --seed "$SEED" >"$f.tmp"; then
		rm -f "$f.tmp"
		fail "gentrace failed"
	fi
	mv "$f.tmp" "$f" || exit 1
}

gen "$LARGE_LINES"
gen "$SMALL_LINES"
: >"$OUT/stderr.log"

# best (lowest) wall time and highest RSS over $RUNS runs of each
best_wc_large=; best_rep_large=; rss_large=0
best_wc_small=; best_rep_small=; rss_small=0

min() {
	if [ -z "$1" ]; then echo "$2"; else
		awk -v a="$1" -v b="$2" 'BEGIN { print (b < a) ? b : a }'
	fi
}

max() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'
}

one() {
	size=$1
	f=$OUT/trace-$2.txt
	measure "$OUT/wc.res" wc -l "$f"
	read -r wt _ wx _ <"$OUT/wc.res"
	[ "$wx" = 0 ] || fail "wc -l $f failed"
	measure "$OUT/rep.res" "$REPORT" -q "$f"
	read -r rt rr rx _ <"$OUT/rep.res"
	case $rx in
	0 | 1) ;;
	*) fail "vsock-report -q $f exited with $rx (see $OUT/stderr.log)" ;;
	esac
	if [ "$size" = large ]; then
		best_wc_large=$(min "$best_wc_large" "$wt")
		best_rep_large=$(min "$best_rep_large" "$rt")
		rss_large=$(max "$rss_large" "$rr")
	else
		best_wc_small=$(min "$best_wc_small" "$wt")
		best_rep_small=$(min "$best_rep_small" "$rt")
		rss_small=$(max "$rss_small" "$rr")
	fi
}

# warm the page cache, then interleave the runs so both tools see the
# same machine state
cat "$OUT/trace-$LARGE_LINES.txt" "$OUT/trace-$SMALL_LINES.txt" >/dev/null
i=0
while [ $i -lt "$RUNS" ]; do
	one large "$LARGE_LINES"
	one small "$SMALL_LINES"
	i=$((i + 1))
done

awk -v nl="$LARGE_LINES" -v ns="$SMALL_LINES" \
	-v wl="$best_wc_large" -v rl="$best_rep_large" -v ml="$rss_large" \
	-v ws="$best_wc_small" -v rs="$best_rep_small" -v ms="$rss_small" \
	-v runs="$RUNS" -v tool="$MEASURE" '
BEGIN {
	# /usr/bin/time has 10 ms resolution: never divide by zero
	if (rl <= 0) rl = 0.001
	if (rs <= 0) rs = 0.001
	if (ms <= 0) ms = 1
	printf "%-7s %9s %11s %13s %11s %9s %12s\n", "trace", "lines",
		"wc -l (s)", "report (s)", "Mlines/s", "vs wc", "peak KiB"
	printf "%-7s %9d %11.3f %13.3f %11.2f %8.2fx %12d\n", "small", ns,
		ws, rs, ns / rs / 1e6, ws / rs, ms
	printf "%-7s %9d %11.3f %13.3f %11.2f %8.2fx %12d\n", "large", nl,
		wl, rl, nl / rl / 1e6, wl / rl, ml
	printf "(best of %d runs; peak RSS by %s)\n", runs, tool
	printf "report-throughput: %d lines in %.3f s = %.2f Mlines/s; " \
		"wc -l: %.3f s; ratio %.2f x (target >= 0.25x)\n",
		nl, rl, nl / rl / 1e6, wl, wl / rl
	printf "report-rss: small %d KiB, large %d KiB, ratio %.2f " \
		"(target: independent of length)\n", ms, ml, ml / ms
}'
