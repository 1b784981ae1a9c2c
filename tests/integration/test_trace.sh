#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vsock-trace on the build host. This machine's vsock belongs to its
# hypervisor: these tests never ask for the vsock probes, only irq and
# alloc (and vring/mbox, to see them refused without attaching anything
# vsock-related). The guest tier tests vsock capture.
set -u
BUILD=${1:-build}
TRACE=$BUILD/vsock-trace
REPORT=$BUILD/vsock-report
TMP=$(mktemp -d /tmp/vs-trace.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# busy SECONDS: disk writes that wait for the device (interrupts to see),
# in the background; the file is on the build directory's disk, not tmpfs
busy() {
	(
		end=$((SECONDS + $1))
		while [ $SECONDS -lt "$end" ]; do
			dd if=/dev/zero of="$BUILD/.trace-io" bs=4k count=8 \
				oflag=direct,dsync 2>/dev/null
		done
		rm -f "$BUILD/.trace-io"
	) &
}
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
check() { # NAME CMD...
	local n=$1
	shift
	if "$@"; then pass "$n"; else fail "$n" "$*"; fi
}
[ -x "$TRACE" ] || { fail trace_setup "$TRACE missing"; exit 1; }

# --- the command line (no root needed) ---
out=$("$TRACE" --probes vsock,bogus 2>&1); rc=$?
check trace_bad_probes [ $rc -eq 2 ]
check trace_bad_probes_message grep -q "^vsock-trace: error: invalid --probes: unknown probe family 'bogus'" <<<"$out"
out=$("$TRACE" --backend dtrace 2>&1); rc=$?
check trace_bad_backend [ $rc -eq 2 ]
out=$("$TRACE" --duration -1 2>&1); rc=$?
check trace_bad_duration [ $rc -eq 2 ]
"$TRACE" --help >"$TMP/help" 2>&1
check trace_help [ $? -eq 0 ]
# -o -: standard output, the same bytes as a file, and no file named "-"
FIX=tests/fixtures/text/seed000-linux.trace
if [ -r "$FIX" ]; then
	had=$([ -e ./- ] && echo y)
	"$TRACE" -q --from "$FIX" -o - >"$TMP/stdout.vscap" &&
		"$TRACE" -q --from "$FIX" -o "$TMP/file.vscap" &&
		[ -s "$TMP/file.vscap" ] &&
		cmp -s "$TMP/stdout.vscap" "$TMP/file.vscap" &&
		{ [ -n "$had" ] || [ ! -e ./- ]; }
	check trace_output_dash_is_stdout [ $? -eq 0 ]
	[ -n "$had" ] || rm -f ./-
else
	fail trace_output_dash_is_stdout "$FIX missing"
fi

if [ "$(id -u)" != 0 ]; then
	for t in trace_tracefs_irq trace_tracefs_report trace_tracefs_refused trace_sigint_summary trace_stream_tcp trace_capture_read trace_capture_sigkill_readable trace_bpf_auto_irq trace_bpf_vring_refused trace_nothing_attached_exit1 trace_tracefs_instance_gone; do
		skip "$t" "needs root"
	done
	exit 0
fi
tfs=/sys/kernel/tracing
if [ ! -d "$tfs/events" ]; then
	# not mounted: vsock-trace mounts it, as trace-cmd does
	"$TRACE" --backend tracefs -p irq -d 0.1 -q -o "$TMP/mount.vscap" \
		2>"$TMP/mount.err"
	if [ -d "$tfs/events" ]; then
		pass trace_tracefs_mounts
	else
		echo "# $(head -n 1 "$TMP/mount.err")"
	fi
fi
if [ ! -d "$tfs/events" ]; then
	for t in trace_tracefs_irq trace_tracefs_report trace_tracefs_refused trace_sigint_summary trace_stream_tcp trace_capture_read trace_capture_sigkill_readable trace_bpf_auto_irq trace_bpf_vring_refused trace_nothing_attached_exit1 trace_tracefs_instance_gone; do
		skip "$t" "tracefs is not mounted at $tfs"
	done
	exit 0
fi

# --- tracefs backend: interrupts and failed allocations, 1.5 s ---
# something to interrupt for: a little disk and timer work
busy 2
"$TRACE" --backend tracefs --format text -p irq,alloc -d 1.5 \
	-o "$TMP/irq.trace" 2>"$TMP/irq.err"
rc=$?
n=$(grep -c ' irq_handler_entry: irq=[0-9]* name=' "$TMP/irq.trace")
wait
if [ $rc -eq 0 ] && [ "$n" -gt 0 ] &&
	grep -q '^vsock-trace: tracefs backend, [0-9]* events, irq [0-9]*' "$TMP/irq.err" &&
	! grep -q 'refused: \(irq\|alloc\)' "$TMP/irq.err"; then
	pass trace_tracefs_irq
	echo "  $(grep 'events,' "$TMP/irq.err")"
else
	fail trace_tracefs_irq "exit $rc, $n irq lines: $(tr '\n' ' ' <"$TMP/irq.err")"
fi
# what it wrote, vsock-report reads as a capture of this system
out=$("$REPORT" -j "$TMP/irq.trace" 2>&1)
if [ $? -le 1 ] && [ "$(jq '.systems[0].events' <<<"$out")" -ge "$n" ] &&
	[ "$(jq '.systems[0].skipped_lines' <<<"$out")" -eq 0 ]; then
	pass trace_tracefs_report
else
	fail trace_tracefs_report "vsock-report: $(head -c 300 <<<"$out")"
fi
# families with no tracepoint: refused with a reason, the rest goes on
"$TRACE" --backend tracefs --format text -p irq,vring,mbox -d 0.3 \
	-o "$TMP/r.trace" 2>"$TMP/r.err"
rc=$?
if [ $rc -eq 0 ] &&
	grep -q '^vsock-trace: refused: vring vring_interrupt: no tracepoint' "$TMP/r.err" &&
	grep -q '^vsock-trace: refused: mbox ' "$TMP/r.err"; then
	pass trace_tracefs_refused
else
	fail trace_tracefs_refused "exit $rc: $(tr '\n' ' ' <"$TMP/r.err")"
fi
# SIGINT: stops cleanly with its summary
busy 1
"$TRACE" --backend tracefs --format text -p irq -o "$TMP/int.trace" 2>"$TMP/int.err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
wait
if [ $rc -eq 0 ] && grep -q 'events[,;] .*lost$' "$TMP/int.err" &&
	head -n 1 "$TMP/int.trace" | grep -q '^# tracer'; then
	pass trace_sigint_summary
else
	fail trace_sigint_summary "exit $rc: $(tr '\n' ' ' <"$TMP/int.err")"
fi
# --stream: the same records to a TCP listener, and the file too
if [ -x "$BUILD/vsockio" ]; then
	port=$((20000 + $$ % 20000))
	"$BUILD/vsockio" get "tcp:$port" "$TMP/stream.trace" &
	lpid=$!
	sleep 0.2
	busy 1
	"$TRACE" --backend tracefs --format text -p irq -d 0.5 \
		--stream "tcp:127.0.0.1:$port" -o "$TMP/file.trace" 2>"$TMP/s.err"
	rc=$?
	wait $lpid
	if [ $rc -eq 0 ] && [ -s "$TMP/stream.trace" ] &&
		cmp -s "$TMP/stream.trace" "$TMP/file.trace"; then
		pass trace_stream_tcp
	else
		fail trace_stream_tcp "exit $rc: $(tr '\n' ' ' <"$TMP/s.err")"
	fi
else
	skip trace_stream_tcp "$BUILD/vsockio missing (make $BUILD/vsockio)"
fi
# the capture format (the default): vsock-report reads it, and one killed
# with SIGKILL in the middle is readable up to its last whole record
busy 2
"$TRACE" --backend tracefs -p irq -d 1 -o "$TMP/irq.vscap" 2>"$TMP/c.err"
rc=$?
out=$("$REPORT" -j "$TMP/irq.vscap" 2>&1)
if [ $rc -eq 0 ] && head -c 8 "$TMP/irq.vscap" | grep -q 'VSCAPT' &&
	[ "$(jq '.systems[0].events' <<<"$out")" -gt 0 ]; then
	pass trace_capture_read
else
	fail trace_capture_read "exit $rc: $(head -c 200 <<<"$out")"
fi
busy 4
"$TRACE" --backend tracefs -p irq -o "$TMP/kill.vscap" 2>"$TMP/kill.err" &
pid=$!
# killed once it has captured for a while (records reach the file every
# 100 ms)
for i in $(seq 50); do
	grep -q capturing "$TMP/kill.err" && break
	sleep 0.1
done
sleep 1.5
kill -KILL $pid
wait $pid 2>/dev/null
wait
out=$("$REPORT" -j "$TMP/kill.vscap" 2>&1)
rc=$?
if [ $rc -le 1 ] && [ "$(jq '.systems[0].events' <<<"$out")" -gt 0 ]; then
	pass trace_capture_sigkill_readable
	echo "  killed capture: $(stat -c %s "$TMP/kill.vscap") bytes, $(jq '.systems[0].events' <<<"$out") events read"
else
	fail trace_capture_sigkill_readable "vsock-report exit $rc: $(head -c 200 <<<"$out")"
fi
# --- BPF backend: interrupts and failed allocations; auto picks it; the
# function probes (vring) refused on a kernel without fentry/kprobes ---
busy 3
"$TRACE" -p irq,alloc -d 1.5 -o "$TMP/bpf.vscap" 2>"$TMP/bpf.err"
wait
rc=$?
out=$("$REPORT" -j "$TMP/bpf.vscap" 2>&1)
if [ $rc -eq 0 ] && grep -q '^vsock-trace: bpf backend, clock mono' "$TMP/bpf.err" &&
	[ "$(jq '.systems[0].events' <<<"$out")" -gt 0 ]; then
	pass trace_bpf_auto_irq
	echo "  $(grep 'events,' "$TMP/bpf.err")"
elif grep -q 'not BPF:' "$TMP/bpf.err"; then
	skip trace_bpf_auto_irq "BPF refused here: $(grep 'not BPF' "$TMP/bpf.err")"
else
	fail trace_bpf_auto_irq "exit $rc: $(tr '\n' ' ' <"$TMP/bpf.err")"
fi
"$TRACE" -b bpf -p irq,vring -d 0.3 -o /dev/null 2>"$TMP/v.err"
rc=$?
if [ $rc -eq 0 ] && grep -q "refused: vring vring_interrupt(): fentry: .*; kprobe: " "$TMP/v.err"; then
	pass trace_bpf_vring_refused
elif [ $rc -eq 0 ] && ! grep -q 'refused: vring' "$TMP/v.err"; then
	skip trace_bpf_vring_refused "this kernel attaches the vring probes (fentry or kprobe)"
else
	fail trace_bpf_vring_refused "exit $rc: $(tr '\n' ' ' <"$TMP/v.err")"
fi
"$TRACE" -p vring -d 0.2 -o /dev/null 2>"$TMP/n.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "error: failed to start capturing: BPF: .*; tracefs: " "$TMP/n.err"; then
	pass trace_nothing_attached_exit1
else
	fail trace_nothing_attached_exit1 "exit $rc: $(tr '\n' ' ' <"$TMP/n.err")"
fi

# the private instance is gone afterwards (the killed run's, too: the next
# run removes it), and nothing in the global buffer was turned on
"$TRACE" --backend tracefs -p irq -d 0.1 -q -o /dev/null
if ! ls "$tfs/instances" | grep -q '^vsockscope-' &&
	[ "$(cat "$tfs/events/irq/irq_handler_entry/enable")" = 0 ]; then
	pass trace_tracefs_instance_gone
else
	fail trace_tracefs_instance_gone "$(ls "$tfs/instances")"
fi
