#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# refdev-bench.sh BUILD_DIR - vsock-refdev sim throughput, one bulk flow in
# 64 KiB writes (traces written, data checked), against a Unix socketpair
# moving the same bytes in the same writes, measured in the same run.
set -u
B=$1
OUT=$B/bench/refdev
DUR=${REFDEV_BENCH_MS:-2000}
rm -rf "$OUT"
mkdir -p "$OUT"
line=$("$B/vsock-refdev" sim --workload bulk --flows 1 --duration-ms "$DUR" \
	--write-size 65536 --out "$OUT/run" 2>&1) || {
	echo "refdev-bench: vsock-refdev failed: $line" >&2
	exit 1
}
bytes=$(echo "$line" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
# the sim's wall time: the writers run DUR ms; the drain and close after
# it are not counted
sim_rate=$(awk -v b="$bytes" -v d="$DUR" 'BEGIN { printf "%.0f", b / (d / 1000) }')
best=0
for i in 1 2 3; do
	r=$("$B/sockpair" "$bytes" 65536) || exit 1
	[ "$r" -gt "$best" ] && best=$r
done
awk -v s="$sim_rate" -v p="$best" -v b="$bytes" -v d="$DUR" 'BEGIN {
	printf "refdev-throughput: sim bulk 64 KiB writes %.0f MB/s (%.0f MB in %s ms, traced, data checked); socketpair %.0f MB/s; ratio %.2f x (target >= 2x)\n",
		s / 1e6, b / 1e6, d, p / 1e6, s / p }'
rm -rf "$OUT"
