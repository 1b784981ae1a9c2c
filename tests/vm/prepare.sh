#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# prepare.sh - fetch what the real-kernel (QEMU) test tier needs, without
# touching the host's /boot or module tree.
#
#   tests/vm/prepare.sh              download + extract (idempotent)
#   tests/vm/prepare.sh --print-deps print the Debian packages the VM tier
#                                    needs on the host (for `make deps`)
#
# Result, under build/vm/ (override with VSOCKSCOPE_VM_BUILD):
#   kernel/boot/vmlinuz-<kver>      Debian's linux-image-amd64 kernel
#   kernel/lib/modules/<kver>/      its modules (never depmod'ed, never loaded
#                                   on the host)
#   busybox                         a static busybox for the guest initramfs
#
# Environment: VSOCKSCOPE_KERNEL_PKG=linux-image-6.1.0-NN-amd64 pins the
# kernel package instead of following linux-image-amd64.

set -eu

# Host packages: qemu-system-x86 (qemu-system-x86_64 + seabios), busybox-static
# (guest userland), cpio (initramfs), gcc + libc6-dev (static guest programs).
# apt, dpkg, gzip and coreutils (timeout) are essential and always present.
DEPS="qemu-system-x86 busybox-static cpio gcc libc6-dev"

me=prepare.sh
die() { echo "$me: error: $*" >&2; exit 1; }

if [ "${1:-}" = "--print-deps" ]; then
	echo "$DEPS"
	exit 0
fi

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${VSOCKSCOPE_VM_BUILD:-$top/build/vm}
mkdir -p "$out/debs"

for c in apt-get apt-cache dpkg-deb; do
	command -v "$c" >/dev/null 2>&1 ||
		die "$c not found: this script needs a Debian host (apt, dpkg)"
done

# --- kernel -----------------------------------------------------------------
pkg=${VSOCKSCOPE_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	[ -n "$pkg" ] ||
		die "cannot resolve linux-image-amd64 to a kernel package (run apt-get update?)"
fi

stamp=$out/kernel/.debian-package
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkg" ] &&
   ls "$out"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
	echo "$me: kernel: $pkg (already extracted)"
else
	deb=$(ls "$out/debs/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		echo "$me: downloading $pkg"
		# apt-get download writes into the current directory
		(cd "$out/debs" && apt-get download -q "$pkg" >/dev/null 2>"$out/debs/apt.err") ||
			die "apt-get download $pkg failed: $(tail -n 1 "$out/debs/apt.err")"
		deb=$(ls "$out/debs/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
		[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
	fi
	rm -rf "$out/kernel.tmp" "$out/kernel"
	mkdir -p "$out/kernel.tmp"
	dpkg-deb -x "$deb" "$out/kernel.tmp" || die "dpkg-deb -x $deb failed"
	echo "$pkg" >"$out/kernel.tmp/.debian-package"
	mv "$out/kernel.tmp" "$out/kernel"
	echo "$me: kernel: $pkg extracted to $out/kernel"
fi
kver=$(ls "$out/kernel/lib/modules" | head -n 1)
[ -n "$kver" ] && ls "$out/kernel/boot/vmlinuz-$kver" >/dev/null 2>&1 ||
	die "extracted kernel package has no vmlinuz/modules"

# --- busybox ----------------------------------------------------------------
# Prefer the installed busybox-static; otherwise download and extract it, so
# the host never needs the package installed for this script to work.
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
	bb=/bin/busybox
else
	if [ ! -x "$out/busybox-static/bin/busybox" ]; then
		echo "$me: busybox-static not installed, downloading it"
		rm -f "$out/debs"/busybox-static_*.deb
		(cd "$out/debs" && apt-get download -q busybox-static >/dev/null 2>"$out/debs/apt.err") ||
			die "apt-get download busybox-static failed: $(tail -n 1 "$out/debs/apt.err")"
		rm -rf "$out/busybox-static"
		dpkg-deb -x "$out/debs"/busybox-static_*.deb "$out/busybox-static" ||
			die "dpkg-deb -x busybox-static failed"
	fi
	bb=$out/busybox-static/bin/busybox
fi
[ -x "$bb" ] || die "no busybox binary at $bb"
if ! cmp -s "$bb" "$out/busybox" 2>/dev/null; then
	cp "$bb" "$out/busybox.tmp" && mv "$out/busybox.tmp" "$out/busybox"
fi
echo "$me: busybox: $out/busybox (from $bb)"

# --- host tools the other scripts use -----------------------------------------
missing=
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing="$missing libc6-dev"
if [ -n "$missing" ]; then
	die "missing host packages:$missing (apt-get install$missing)"
fi
echo "$me: ok: kernel $kver"
