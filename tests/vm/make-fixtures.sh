#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# make-fixtures.sh - regenerate tests/fixtures/real/ from a QEMU guest:
#   loopback-stall.trace   vsock_loopback credit stall (stallpair)
#   loopback-rr.trace      request/response, no stall (stallpair --rr)
#   README                 how they were made, and the stall window
#
# All vsock traffic and vsock tracing happen inside the guest only.
# Exit 4 (with a SKIP line) when QEMU or the kernel is unavailable.

set -eu

me=make-fixtures.sh
die() { echo "$me: error: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${VSOCKSCOPE_VM_BUILD:-$top/build/vm}
fix=$top/tests/fixtures/real
mkdir -p "$build" "$fix"

"$here/prepare.sh"

gcc -static -O2 -Wall -Wextra -Werror -pthread \
	-o "$build/stallpair" "$here/stallpair.c" || die "building stallpair failed"
"$here/mkinitramfs.sh" "$build/fixtures.cpio.gz" "$here/guest-fixtures.sh" \
	"$build/stallpair"

log=$build/fixtures-console.log
t0=$(date +%s.%N)
rc=0
"$here/run-guest.sh" "$build/fixtures.cpio.gz" >"$log.raw" 2>"$log.err" || rc=$?
t1=$(date +%s.%N)
cat "$log.err" >&2
if [ $rc -eq 4 ]; then
	grep '^SKIP:' "$log.raw"
	exit 4
fi
[ $rc -eq 0 ] || die "guest run failed (exit $rc), console in $log.raw"
tr -d '\r' <"$log.raw" >"$log"
wall=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')

extract() {
	# $1 name, $2 output: cut the capture out of the console log and
	# check it against the digest the guest printed
	awk -v b="=====VSOCKSCOPE-TRACE-BEGIN $1=====" \
	    -v e="=====VSOCKSCOPE-TRACE-END $1=====" \
	    '$0 == e { f = 0 } f { print } $0 == b { f = 1 }' "$log" >"$2.tmp"
	want=$(sed -n "s/^guest: $1 lines [0-9]* md5 \([0-9a-f]*\)\$/\1/p" "$log")
	got=$(md5sum <"$2.tmp" | cut -d' ' -f1)
	[ -n "$want" ] || die "$1: no capture in the console log ($log)"
	[ "$want" = "$got" ] || die "$1: console copy is damaged (md5 $got, guest said $want)"
	grep -q "^guest: $1 cpu0: .* overrun: 0 dropped events: 0\$" "$log" ||
		die "$1: the guest's ring buffer lost events"
	size=$(wc -c <"$2.tmp")
	[ "$size" -lt 2097152 ] || die "$1: capture is $size bytes (> 2 MiB)"
	mv "$2.tmp" "$2"
}
extract stall "$fix/loopback-stall.trace"
extract rr "$fix/loopback-rr.trace"

# --- the stall window as seen in the trace -----------------------------------
ts() {
	# timestamps (seconds) of the lines matching the awk regex $1
	awk -v re="$1" '$0 ~ re {
		for (i = 1; i <= NF; i++)
			if ($i ~ /^[0-9]+\.[0-9]+:$/) { sub(/:$/, "", $i); print $i; break }
	}' "$fix/loopback-stall.trace"
}
stop=$(ts 'tracing_mark_write: vsockscope-test: reader stop$')
resume=$(ts 'tracing_mark_write: vsockscope-test: reader resume$')
[ -n "$stop" ] && [ -n "$resume" ] || die "stall: markers missing from the trace"
wr=$(ts '^ *writer-[0-9]+ .*virtio_transport_alloc_pkt: .* op=RW ')
last=$(echo "$wr" | awk -v r="$resume" '$1 < r { t = $1 } END { print t }')
first=$(echo "$wr" | awk -v r="$resume" '$1 > r { print; exit }')
in_stop=$(echo "$wr" | awk -v s="$stop" -v r="$resume" \
	'$1 > s && $1 < r { n++ } END { print n + 0 }')
[ -n "$last" ] && [ -n "$first" ] || die "stall: writer's alloc_pkt lines missing"
gap_ms=$(echo "$last $first" | awk '{ printf "%.1f", ($2 - $1) * 1000 }')
stall_ok=$(echo "$last $first" | awk '{ print ($2 - $1 > 0.2) ? "yes" : "no" }')
[ "$stall_ok" = yes ] || die "stall: no writer stall in the trace (gap ${gap_ms} ms)"
grep -q 'virtio_transport_recv_pkt: .* buf_alloc=[0-9]* fwd_cnt=[0-9]*' \
	"$fix/loopback-stall.trace" || die "stall: recv_pkt lines carry no buf_alloc/fwd_cnt"
credit_resume=$(awk -v r="$resume" '/virtio_transport_recv_pkt: .* op=CREDIT_UPDATE / {
	for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+\.[0-9]+:$/) { t = $i; sub(/:$/, "", t) }
	if (t + 0 > r + 0) { print t, $NF; exit } }' "$fix/loopback-stall.trace")

kver=$(sed -n 's/.*init: kernel \([^,]*\),.*/\1/p' "$log" | head -n 1)
kpkg=$(cat "$build/kernel/.debian-package")
kdeb=$(ls "$build"/debs/"${kpkg}"_*.deb | head -n 1)
kpkgver=$(dpkg-deb -f "$kdeb" Version)
accel=$(sed -n 's/.*accel=\([a-z]*\).*/\1/p' "$log.err" | head -n 1)
case $accel in
kvm) accel_text="KVM" ;;
*) accel_text="software emulation (TCG)" ;;
esac
summary() { grep "^stallpair: $1" "$log" | sed 's/^/    /'; }

cat >"$fix/README" <<EOF
Real-kernel tracefs captures of vsock_loopback traffic
=======================================================

Made by tests/vm/make-fixtures.sh (run as root on the build host; all vsock
traffic and vsock tracing happen inside a QEMU guest, never on the host).

Kernel:   Debian $kpkg $kpkgver (uname -r: $kver), downloaded with
          apt-get download and booted directly (never installed on the host)
Guest:    qemu-system-x86_64 -machine q35 -m 512M, 1 vCPU,
          $accel_text, busybox initramfs (tests/vm/mkinitramfs.sh),
          modules vsock, vmw_vsock_virtio_transport_common, vsock_loopback
Capture:  private tracefs instance /sys/kernel/tracing/instances/vstest,
          trace_clock "local" (seconds since guest boot), buffer_size_kb 8192,
          no overruns, no dropped events; events:
            vsock/virtio_transport_alloc_pkt
            vsock/virtio_transport_recv_pkt
            irq/irq_handler_entry
            kmem/kmalloc          (filter: bytes_req>=4096)
            kmem/mm_page_alloc
          Phase changes are "tracing_mark_write: vsockscope-test: ..." lines,
          written to the instance's own trace_marker by the test program.
          The files are the instance's "trace" file, verbatim (md5-checked
          after the trip over the serial console).
Program:  tests/vm/stallpair.c, statically linked; AF_VSOCK SOCK_STREAM to
          VMADDR_CID_LOCAL (1), over vsock_loopback.

loopback-stall.trace  ($(wc -c <"$fix/loopback-stall.trace") bytes)
    stallpair -p 5000 (defaults: 4096-byte writes every 2 ms, reader reads
    300 ms, stops 600 ms, resumes 300 ms; socket buffer 256 KiB). Thread
    names: "writer" (client, connect + write), "reader" (accept + read);
    recv_pkt runs in a kworker (the loopback work queue).
$(summary 'reader:')
$(summary 'writer:')

    Stall window (trace timestamps, seconds):
      marker "reader stop"                          $stop
      marker "reader resume"                        $resume
      writer's last alloc_pkt op=RW before resume   $last
      writer's first alloc_pkt op=RW after resume   $first
      writer idle (credit exhausted)                $gap_ms ms
      writer's op=RW packets while stopped          $in_stop
      first CREDIT_UPDATE received after resume     ${credit_resume:-none}

    Between "reader stop" and the writer's last RW packet the writer uses up
    the 256 KiB of credit it had (64 x 4096 bytes); from then until the
    reader resumes, no op=RW alloc_pkt lines appear. recv_pkt lines carry
    buf_alloc= and fwd_cnt=. This kernel sends a CREDIT_UPDATE each time
    the reader empties its receive queue (rx_bytes below SO_RCVLOWAT).

loopback-rr.trace  ($(wc -c <"$fix/loopback-rr.trace") bytes)
    stallpair --rr -p 5001: 50 round trips, 128-byte request, 1024-byte
    response, 2 ms pause between rounds, no stall. Thread names
    "rr-client" and "rr-server".
$(summary 'rr-')

Regenerate: tests/vm/make-fixtures.sh   (boot + run: ${wall} s wall, accel=$accel)
EOF
echo "$me: wrote $fix/loopback-stall.trace $fix/loopback-rr.trace $fix/README"
echo "$me: stall: stop $stop resume $resume, writer last $last first $first (${gap_ms} ms), ${wall} s"
