#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vsock-refdev serve without a virtual machine: tests/integration/
# vu-frontend.c stands in for QEMU. A REQUEST to a port nobody listens on
# comes back as RST; garbage descriptors on the transmit queue stop that
# queue with an error, the device keeps answering vhost-user, and the
# truth says why the queue broke. Plus the command line's errors.
set -u
BUILD=${1:-build}
REFDEV=$BUILD/vsock-refdev
FE=$BUILD/vu-frontend
TMP=$(mktemp -d /tmp/vs-serve.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
[ -x "$REFDEV" ] && [ -x "$FE" ] || { fail serve_setup "$REFDEV or $FE missing"; exit 1; }

# run_fe NAME MODE: serve --once + the stand-in; sets rc, src
run_fe() {
	local name=$1 mode=$2
	rm -f "$TMP"/*.sock "$TMP"/hy*
	"$REFDEV" serve --socket "$TMP/vu.sock" --uds-path "$TMP/hy" \
		--guest-cid 3 --trace "$TMP/$name.trace" \
		--truth "$TMP/$name.json" --once 2>"$TMP/$name.err" &
	local pid=$!
	"$FE" "$TMP/vu.sock" "$mode" >"$TMP/$name.out" 2>&1
	rc=$?
	for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill $pid 2>/dev/null
	wait $pid
	src=$?
}

run_fe good good
if [ $rc -eq 0 ] && [ $src -eq 0 ] && grep -q 'refused with RST' "$TMP/good.out"; then
	pass serve_refuses_unknown_port
else
	fail serve_refuses_unknown_port "frontend $rc, serve $src: $(tail -n 1 "$TMP/good.out") / $(tail -n 1 "$TMP/good.err")"
fi
if grep -q 'virtio_transport_recv_pkt: 3:1234 -> 2:9 .*op=REQUEST' "$TMP/good.trace" &&
	grep -q 'virtio_transport_alloc_pkt: 2:9 -> 3:1234 .*op=RST' "$TMP/good.trace" &&
	[ "$(jq '.refused' "$TMP/good.json")" = 1 ]; then
	pass serve_trace_and_truth
else
	fail serve_trace_and_truth "REQUEST/RST not in $TMP/good.trace or refused != 1"
fi

run_fe garbage garbage
if [ $rc -eq 0 ] && [ $src -eq 0 ] && grep -q 'still answers' "$TMP/garbage.out"; then
	pass serve_survives_garbage_descriptors
else
	fail serve_survives_garbage_descriptors "frontend $rc, serve $src: $(tail -n 1 "$TMP/garbage.out")"
fi
if grep -q 'error: failed to use the tx queue' "$TMP/garbage.err" &&
	[ "$(jq -r '.broken // "" | test("tx queue")' "$TMP/garbage.json")" = true ]; then
	pass serve_reports_broken_ring
	echo "  $(grep -m1 'failed to use' "$TMP/garbage.err")"
else
	fail serve_reports_broken_ring "no error line or truth: $(head -c 300 "$TMP/garbage.err")"
fi

# QEMU going and coming back (reconnect=): the device serves it again
rm -f "$TMP"/*.sock "$TMP"/hy*
"$REFDEV" serve --socket "$TMP/vu.sock" --uds-path "$TMP/hy" --guest-cid 3 \
	2>"$TMP/again.err" &
pid=$!
ok=1
for i in 1 2 3; do
	"$FE" "$TMP/vu.sock" good >"$TMP/again$i.out" 2>&1 || ok=0
done
kill -TERM $pid
wait $pid
src=$?
if [ $ok -eq 1 ] && [ $src -eq 0 ] &&
	grep -q 'serve: 3 front-end(s), 0 connection(s) (3 refused)' "$TMP/again.err"; then
	pass serve_frontend_reconnects
else
	fail serve_frontend_reconnects "ok=$ok exit $src: $(tail -n 1 "$TMP/again.err")"
fi

# the command line
out=$("$REFDEV" serve --socket "$TMP/x" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'error: serve needs --socket, --uds-path and --guest-cid' <<<"$out" &&
	pass serve_missing_options || fail serve_missing_options "exit $rc: $out"
out=$("$REFDEV" serve --socket "$TMP/x" --uds-path "$TMP/y" --guest-cid 2 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'invalid --guest-cid' <<<"$out" &&
	pass serve_bad_cid || fail serve_bad_cid "exit $rc: $out"
out=$("$REFDEV" serve --socket "$TMP/x" --uds-path "$TMP/y" --guest-cid 3 --fault fail-alloc:what=rx 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'what=tx' <<<"$out" &&
	pass serve_bad_fault || fail serve_bad_fault "exit $rc: $out"
out=$("$REFDEV" serve --socket /nonexistent/dir/s --uds-path "$TMP/y" --guest-cid 3 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q '^vsock-refdev: error: failed to listen on /nonexistent/dir/s: ' <<<"$out" &&
	pass serve_cannot_listen || fail serve_cannot_listen "exit $rc: $out"
