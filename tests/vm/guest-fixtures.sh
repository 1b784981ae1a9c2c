#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-fixtures.sh - runs INSIDE the QEMU guest (as /guest.sh, see
# mkinitramfs.sh).  Captures vsock_loopback traffic from stallpair in a
# private tracefs instance and prints each capture to the console between
#   =====VSOCKSCOPE-TRACE-BEGIN <name>=====
#   =====VSOCKSCOPE-TRACE-END <name>=====
# make-fixtures.sh cuts the captures out of the console log.

T=/sys/kernel/tracing
I=$T/instances/vstest

[ -d "$T/events" ] || mount -t tracefs tracefs "$T" || exit 1
mkdir "$I" || exit 1
echo 8192 >"$I/buffer_size_kb"
echo 'bytes_req>=4096' >"$I/events/kmem/kmalloc/filter"
for e in vsock/virtio_transport_alloc_pkt vsock/virtio_transport_recv_pkt \
	 irq/irq_handler_entry kmem/kmalloc kmem/mm_page_alloc; do
	echo 1 >"$I/events/$e/enable" || echo "guest: cannot enable $e"
done
echo "guest: trace_clock $(cat "$I/trace_clock")"

capture() {
	name=$1
	shift
	echo 0 >"$I/tracing_on"
	: >"$I/trace"
	echo 1 >"$I/tracing_on"
	stallpair -m "$I/trace_marker" "$@"
	rc=$?
	echo 0 >"$I/tracing_on"
	echo "guest: stallpair $name exit $rc"
	for s in "$I"/per_cpu/cpu*/stats; do
		echo "guest: $name $(basename "$(dirname "$s")"):" \
		     "$(grep -E '^(entries|overrun|dropped events):' "$s" |
			tr '\n' ' ' | sed 's/ *$//; s/  */ /g')"
	done
	# snapshot first: the host side checks the copy against this digest
	cat "$I/trace" >"/tmp/$name.trace"
	echo "guest: $name lines $(wc -l <"/tmp/$name.trace") md5 $(md5sum <"/tmp/$name.trace" | cut -d' ' -f1)"
	echo "=====VSOCKSCOPE-TRACE-BEGIN $name====="
	cat "/tmp/$name.trace"
	echo "=====VSOCKSCOPE-TRACE-END $name====="
	rm -f "/tmp/$name.trace"
}

capture stall -p 5000
capture rr --rr -p 5001

rmdir "$I"
