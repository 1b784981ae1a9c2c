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
== 1. A Linux host and an Android guest, traced by hand (seed 000).
   adb to Android hangs after a long test. Both systems had vsock:* trace
   events on; each trace was saved with `cat trace`. Two unrelated clocks.

TXT
run linux=examples/seed000-linux.trace android=examples/seed000-android.trace || exit 2
cat <<'TXT'
== 2. A real kernel's credit stall (Debian 6.1, vsock_loopback in a QEMU
   guest): the reader stops reading for 600 ms, the writer runs out of
   credit. The trace is the guest's tracefs output, nothing else.

TXT
run examples/guest-credit-stall.trace || exit 2
echo "(JSON: add -j; one line per finding: -q; see man/vsock-report.1)"
