#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# run-guest.sh INITRAMFS [QEMU_EXTRA_ARGS...]
#
# Boots the kernel extracted by prepare.sh with INITRAMFS under QEMU (q35,
# 512M, serial console on stdout) and returns when the guest powers off.
# KVM is used when /dev/kvm exists and works, TCG otherwise.
#
# Exit: QEMU's status; 124 on timeout; 4 with a "SKIP: reason" line when
# QEMU or the kernel is not available.
#
# Environment:
#   VSOCKSCOPE_VM_BUILD    build directory (default build/vm)
#   VSOCKSCOPE_VM_TIMEOUT  seconds before the guest is killed (default 120)
#   VSOCKSCOPE_VM_ACCEL    force "kvm" or "tcg"
#   VSOCKSCOPE_VM_APPEND   extra kernel command line

set -eu

if [ $# -lt 1 ]; then
	echo "usage: run-guest.sh INITRAMFS [QEMU_EXTRA_ARGS...]" >&2
	exit 2
fi
initrd=$1
shift

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VSOCKSCOPE_VM_BUILD:-$top/build/vm}
tmo=${VSOCKSCOPE_VM_TIMEOUT:-120}
qemu="qemu-system-x86_64"

skip() { echo "SKIP: $*"; exit 4; }

command -v "$qemu" >/dev/null 2>&1 ||
	skip "$qemu not found (apt-get install qemu-system-x86)"
command -v timeout >/dev/null 2>&1 || skip "timeout(1) not found"
kernel=
for k in "$build"/kernel/boot/vmlinuz-*; do
	[ -f "$k" ] && kernel=$k
done
[ -n "$kernel" ] || skip "no kernel in $build/kernel/boot (run tests/vm/prepare.sh)"
[ -f "$initrd" ] || { echo "run-guest.sh: error: $initrd not found" >&2; exit 2; }

# KVM only if it really boots this kernel: /dev/kvm can exist and open yet
# hang the guest (seen with nested virtualisation: SeaBIOS runs, the kernel
# never starts).  The probe boots the kernel without a root file system, so a
# working guest panics and, with panic=-1 -no-reboot, exits by itself.  The
# verdict is cached per kernel in the build directory.
probe_kvm() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	cache=$build/accel-probe.$(basename "$kernel")
	if [ -f "$cache" ]; then
		[ "$(cat "$cache")" = kvm ]
		return
	fi
	echo "run-guest.sh: probing KVM (one time, cached in $cache)" >&2
	if timeout -k 2 20 "$qemu" -accel kvm -machine q35 -m 256M -nodefaults \
		-display none -serial none -monitor none -no-reboot \
		-kernel "$kernel" -append "panic=-1 quiet" \
		</dev/null >/dev/null 2>&1; then
		echo kvm >"$cache"
		return 0
	fi
	echo tcg >"$cache"
	return 1
}

accel=${VSOCKSCOPE_VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if probe_kvm; then
		accel=kvm
	fi
fi
echo "run-guest.sh: $(basename "$kernel"), accel=$accel, timeout ${tmo}s" >&2

# The console is the guest's ttyS0 on our stdout; stdin is not the guest's.
exec timeout -k 5 "$tmo" "$qemu" \
	-machine q35 -accel "$accel" -m 512M \
	-nographic -no-reboot -nodefaults -serial stdio -monitor none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 ${VSOCKSCOPE_VM_APPEND:-}" \
	"$@" </dev/null
