#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: vsock-report on the example captures shipped in examples/.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
R=$BUILD/vsock-report

run() {
	echo "\$ vsock-report $*"
	"$R" "$@"
	rc=$?
	echo "(exit status $rc: $([ $rc -eq 0 ] && echo "no findings" || { [ $rc -eq 1 ] && echo "findings"; } || echo error))"
	echo
	[ $rc -le 1 ]
}

cat <<'TXT'
== 1. A fault goes in, the report names it.
   vsock-refdev sim runs two systems over a userspace virtio-vsock: a (the
   driver, a guest) and b (the device, a host), each writing its trace on
   its own clock (b's runs 123.456789 s ahead and 25 ppm fast). At 300 ms
   b stops sending credit updates for 400 ms (withhold-credit).

TXT
out=$BUILD/demo-sim
rm -rf "$out"
echo "\$ vsock-refdev sim --workload bulk --flows 4 --duration-ms 1000 --clock-offset-ns 123456789000 --clock-drift-ppm 25 --fault withhold-credit:at=300ms,for=400ms --out $out"
$BUILD/vsock-refdev sim --workload bulk --flows 4 --duration-ms 1000 \
	--clock-offset-ns 123456789000 --clock-drift-ppm 25 \
	--fault withhold-credit:at=300ms,for=400ms --out "$out" || exit 2
echo "\$ jq -c '.faults[]' $out/truth.json"
if command -v jq >/dev/null; then
	jq -c '.faults[] | {expected, injected, system, flow, start_ns, end_ns, observed}' "$out/truth.json"
else
	cat "$out/truth.json"
fi
echo
run a="$out/a.trace" b="$out/b.trace" || exit 2
cat <<'TXT'
== 2. A Linux host and an Android guest, traced by hand (seed 000).
   adb to Android hangs after a long test. Both systems had vsock:* trace
   events on; each trace was saved with `cat trace`. Two unrelated clocks.

TXT
run linux=examples/seed000-linux.trace android=examples/seed000-android.trace || exit 2
cat <<'TXT'
== 3. A real kernel's credit stall (Debian 6.1, vsock_loopback in a QEMU
   guest): the reader stops reading for 600 ms, the writer runs out of
   credit. The trace is the guest's tracefs output, nothing else.

TXT
run examples/guest-credit-stall.trace || exit 2
echo "(JSON: add -j; one line per finding: -q; see man/vsock-report.1)"
