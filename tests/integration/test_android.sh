#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Android (arm64) vsock-trace: make android cross-builds it static;
# here it runs under qemu-aarch64-static. --help works, and a text trace
# converted to a capture and back gives the same bytes as on x86_64.
set -u
BUILD=${1:-build}
TMP=$(mktemp -d /tmp/vs-android.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
X86=$BUILD/vsock-trace
ARM=$BUILD/android/vsock-trace
FIX=tests/fixtures/real/loopback-stall.trace
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
names="android_build android_help android_capture_same android_text_same"
if ! command -v aarch64-linux-gnu-gcc >/dev/null ||
	! command -v qemu-aarch64-static >/dev/null ||
	[ ! -f /usr/lib/aarch64-linux-gnu/libtracefs.a ]; then
	for n in $names; do
		echo "SKIP $n: needs gcc-aarch64-linux-gnu, qemu-user-static and the arm64 libraries (make deps)"
	done
	exit 0
fi
if make -s BUILD="$BUILD" android >"$TMP/build.log" 2>&1 && [ -x "$ARM" ] &&
	file "$ARM" | grep -q 'ARM aarch64.*statically linked'; then
	pass android_build
else
	fail android_build "$(tail -n 3 "$TMP/build.log" | tr '\n' ' ')"
	exit 1
fi
out=$(qemu-aarch64-static "$ARM" --help 2>&1)
[ $? -eq 0 ] && grep -q '^Usage: vsock-trace' <<<"$out" && pass android_help ||
	fail android_help "$(head -n 2 <<<"$out")"
# the same system name on both, so the headers match too
qemu-aarch64-static "$ARM" --from "$FIX" --system fix -q -o "$TMP/arm.vscap" &&
	"$X86" --from "$FIX" --system fix -q -o "$TMP/x86.vscap" &&
	cmp -s "$TMP/arm.vscap" "$TMP/x86.vscap" && pass android_capture_same ||
	fail android_capture_same "the arm64 capture differs from the x86_64 one"
qemu-aarch64-static "$ARM" --from "$TMP/x86.vscap" --format text -q -o "$TMP/arm.txt" &&
	"$X86" --from "$TMP/arm.vscap" --format text -q -o "$TMP/x86.txt" &&
	cmp -s "$TMP/arm.txt" "$TMP/x86.txt" &&
	[ "$(grep -c 'virtio_transport' "$TMP/x86.txt")" -eq "$(grep -c 'virtio_transport' "$FIX")" ] &&
	pass android_text_same ||
	fail android_text_same "capture -> text differs between arm64 and x86_64, or lost packets"
