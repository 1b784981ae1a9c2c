#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh OUT.cpio.gz GUEST_SCRIPT [EXTRA_FILE...]
#
# Builds a busybox initramfs for the VM test tier.  The guest's /init mounts
# proc, sys, devtmpfs and tracefs (/sys/kernel/tracing), loads the vsock and
# virtio modules from the kernel extracted by prepare.sh, runs GUEST_SCRIPT
# as /guest.sh, and powers off.  EXTRA_FILEs (static binaries) go to /bin.
#
# Environment:
#   VSOCKSCOPE_VM_BUILD    build directory (default build/vm)
#   VSOCKSCOPE_VM_MODULES  module names to load, dependencies are added
#                          (default: vsock loopback + virtio transports)

set -eu

me=mkinitramfs.sh
die() { echo "$me: error: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $me OUT.cpio.gz GUEST_SCRIPT [EXTRA_FILE...]"
outfile=$1
script=$2
shift 2

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${VSOCKSCOPE_VM_BUILD:-$top/build/vm}
mods=${VSOCKSCOPE_VM_MODULES:-"vsock vmw_vsock_virtio_transport_common vsock_loopback virtio virtio_ring virtio_pci vmw_vsock_virtio_transport"}

command -v cpio >/dev/null 2>&1 || die "cpio not found (apt-get install cpio)"
[ -x "$build/busybox" ] || die "$build/busybox missing (run tests/vm/prepare.sh)"
[ -f "$script" ] || die "guest script $script not found"
kver=$(ls "$build/kernel/lib/modules" 2>/dev/null | head -n 1)
[ -n "$kver" ] || die "no kernel in $build/kernel (run tests/vm/prepare.sh)"
moddir=$build/kernel/lib/modules/$kver

root=$build/initramfs.root
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
	 "$root/run" "$root/etc" "$root/lib/modules"
ln -s bin "$root/sbin"
ln -s . "$root/usr"

# busybox with its applet links
cp "$build/busybox" "$root/bin/busybox"
for a in $("$build/busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done

# --- modules ------------------------------------------------------------------
# There is no modules.dep in an extracted (not installed) kernel package, so
# read each module's "depends=" from its .modinfo section and order them
# dependencies-first.  Built-in modules (modules.builtin) need nothing.
index=$build/modules.index
(cd "$moddir" && find kernel -name '*.ko*') |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
	       gsub(/-/, "_", n); print n, $0 }' >"$index"
modpath() {
	# module name -> .ko path relative to moddir ('-' and '_' are equivalent)
	awk -v n="$(echo "$1" | tr - _)" '$1 == n { print $2; exit }' "$index"
}
moddeps() {
	# .ko (possibly compressed) -> its depends= names, space separated
	case $1 in
	*.xz)  xz -dc "$1" ;;
	*.zst) zstd -dcq "$1" ;;
	*.gz)  gzip -dc "$1" ;;
	*)     cat "$1" ;;
	esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr , ' '
}
is_builtin() {
	n=$(echo "$1" | tr - _)
	tr - _ <"$moddir/modules.builtin" 2>/dev/null | grep -q "/$n\.ko\$"
}

order=
visit() {
	# depth-first, dependencies first; $order gets each module once
	case " $order " in *" $1 "*) return 0 ;; esac
	if is_builtin "$1"; then
		return 0
	fi
	p=$(modpath "$1")
	[ -n "$p" ] || die "module $1 not found under $moddir"
	for d in $(moddeps "$moddir/$p"); do
		visit "$d"
	done
	# re-check: a dependency cycle cannot happen, but a name may have been
	# added while visiting dependencies
	case " $order " in *" $1 "*) return 0 ;; esac
	order="$order $1"
}
for m in $mods; do
	visit "$(echo "$m" | tr - _)"
done

: >"$root/etc/modules"
for m in $order; do
	p=$(modpath "$m")
	dst=$root/lib/modules/$m.ko
	# busybox insmod reads plain ELF only: decompress
	case $p in
	*.xz)  xz -dc "$moddir/$p" >"$dst" ;;
	*.zst) zstd -dcq "$moddir/$p" >"$dst" ;;
	*.gz)  gzip -dc "$moddir/$p" >"$dst" ;;
	*)     cp "$moddir/$p" "$dst" ;;
	esac
	echo "$m" >>"$root/etc/modules"
done

# --- payload ----------------------------------------------------------------
cp "$script" "$root/guest.sh"
chmod 755 "$root/guest.sh"
for f in "$@"; do
	[ -f "$f" ] || die "extra file $f not found"
	cp "$f" "$root/bin/"
	chmod 755 "$root/bin/$(basename "$f")"
done

cat >"$root/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
	echo "init: cannot mount tracefs"
for m in $(cat /etc/modules); do
	insmod /lib/modules/$m.ko || echo "init: insmod $m failed"
done
echo "init: kernel $(uname -r), modules: $(cat /etc/modules | tr '\n' ' ')"
/bin/sh /guest.sh
echo "init: guest script exit $?"
sync
poweroff -f
EOF
chmod 755 "$root/init"

mkdir -p "$(dirname "$outfile")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -9 >"$outfile.tmp"
mv "$outfile.tmp" "$outfile"
echo "$me: $outfile (kernel $kver, modules:$order)"
