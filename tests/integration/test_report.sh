#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vsock-report end to end: the seed 000 pair, a real kernel's credit stall,
# a clean real capture, two systems with a clock offset, bad input.
. "$(dirname "$0")/lib.sh"
FX=tests/fixtures

# --- seed 000: Android's three packets to the Linux host never arrived
"$REPORT" -j linux=$FX/text/seed000-linux.trace android=$FX/text/seed000-android.trace >"$TMP/seed.json"
rc=$?
check seed000_exit_findings [ "$rc" -eq 1 ]
check seed000_offset_unknown jqt "$TMP/seed.json" \
	'.systems[1].name == "android" and .systems[1].clock_offset_ns == null and .systems[1].offset_uncertainty_ns == null'
check seed000_android_packets_never_arrived jqt "$TMP/seed.json" \
	'[.findings[] | select(.flow == "1000:5555->2:2844408420" and (.kind == "lost_packet" or .kind == "unanswered_interrupt") and .system == "android" and .count == 3)] | length == 1'
check seed000_events_parsed jqt "$TMP/seed.json" \
	'.systems[0].events == 1 and .systems[1].events == 5 and ([.systems[].skipped_lines] | add) == 0'
"$REPORT" linux=$FX/text/seed000-linux.trace android=$FX/text/seed000-android.trace >"$TMP/seed.txt"
check seed000_text_says_offset_unknown grep -q "offset unknown" "$TMP/seed.txt"
check seed000_text_names_flow grep -q "3 packets sent by android on 1000:5555->2:2844408420" "$TMP/seed.txt"

# --- a real kernel's credit stall (Debian 6.1 in QEMU, vsock_loopback):
# the writer's last RW before the reader resumed is at 2.470489, the
# CREDIT_UPDATE that ended the stall at 2.925229 (tests/fixtures/real/README)
real=$FX/real/loopback-stall.trace
stop=$(awk '/vsockscope-test: reader stop/ { sub(":", "", $4); print $4; exit }' "$real")
resume=$(awk '/vsockscope-test: reader resume/ { sub(":", "", $4); print $4; exit }' "$real")
"$REPORT" -j "$real" >"$TMP/stall.json"
check real_stall_exit_findings [ $? -eq 1 ]
check real_stall_one_finding jqt "$TMP/stall.json" \
	'[.findings[] | select(.kind == "credit_stall")] | length == 1'
check real_stall_start jqt "$TMP/stall.json" \
	'.findings[0].start_ns == 2470489000 and .findings[0].flow == "1:361110866->1:5000"'
check real_stall_duration jqt "$TMP/stall.json" \
	'.findings[0].end_ns == 2925229000 and .findings[0].duration_ns == 454740000 and .findings[0].ended_by == "a credit update"'
# and it lies inside the window the test program marked
check real_stall_inside_markers jqt "$TMP/stall.json" \
	"(.findings[0].start_ns >= ($stop * 1e9 | floor)) and (.findings[0].end_ns >= ($resume * 1e9 | floor)) and (.findings[0].end_ns - ($resume * 1e9 | floor) < 5000000)"
check real_stall_no_other_findings jqt "$TMP/stall.json" '.findings | length == 1'
# a longer threshold than the stall: no finding, exit 0
"$REPORT" -q --stall-ms 500 "$real" >/dev/null
check real_stall_threshold [ $? -eq 0 ]

# --- the clean real capture: request/response, nothing to report
"$REPORT" -j $FX/real/loopback-rr.trace >"$TMP/rr.json"
check real_rr_clean [ $? -eq 0 ]
check real_rr_flows jqt "$TMP/rr.json" \
	'([.flows[] | select(.tx_packets > 0)] | length) == 2 and .totals.findings == 0 and ([.flows[].unmatched] | add) == 0'

# --- two systems, guest clock = host + 1000.123456789 s, packet 77 lost
awk -v OFF=1000123456789 -v N=200 -v DROP=77 -v DRIFT=0 \
	-v HOST="$TMP/host.trace" -v GUEST="$TMP/guest.trace" -f tests/integration/mkpair.awk
"$REPORT" -j host="$TMP/host.trace" guest="$TMP/guest.trace" >"$TMP/pair.json"
check pair_exit_findings [ $? -eq 1 ]
check pair_offset_within_uncertainty jqt "$TMP/pair.json" \
	'.systems[1].clock_offset_ns != null and ((.systems[1].clock_offset_ns + 1000123456789) | fabs) <= .systems[1].offset_uncertainty_ns + 1000'
check pair_uncertainty_below_half_rtt jqt "$TMP/pair.json" \
	'.systems[1].offset_uncertainty_ns <= 60000'
check pair_one_lost_packet jqt "$TMP/pair.json" \
	'[.findings[] | select(.kind == "lost_packet")] as $l | ($l | length) == 1 and $l[0].count == 1 and $l[0].flow == "2:1024->3:5000" and $l[0].system == "host"'
check pair_only_that_finding jqt "$TMP/pair.json" '.findings | length == 1'
# the lost packet's time is on the host's clock: the 77th send
t77=$(grep alloc_pkt "$TMP/host.trace" | grep '2:1024 -> 3:5000' | sed -n 77p | awk '{ sub(":", "", $4); print $4 }')
check pair_lost_time jqt "$TMP/pair.json" \
	"(.findings[0].start_ns - ($t77 * 1e9)) | fabs < 1000"
# order of the inputs does not matter to the findings
"$REPORT" -j guest="$TMP/guest.trace" host="$TMP/host.trace" >"$TMP/pair2.json"
check pair_swapped jqt "$TMP/pair2.json" \
	'[.findings[] | select(.kind == "lost_packet" and .flow == "2:1024->3:5000" and .count == 1)] | length == 1'

# drift: 40 ppm over the capture
awk -v OFF=-3000000000 -v N=10000 -v DROP=0 -v DRIFT=40 \
	-v HOST="$TMP/dh.trace" -v GUEST="$TMP/dg.trace" -f tests/integration/mkpair.awk
"$REPORT" -j host="$TMP/dh.trace" guest="$TMP/dg.trace" >"$TMP/drift.json"
check pair_drift_clean [ $? -eq 0 ]
check pair_drift_estimated jqt "$TMP/drift.json" \
	'(.systems[1].clock_drift_ppm - 40 | fabs) < 2'

# --- options
"$REPORT" -j --flow 3:5000 host="$TMP/host.trace" guest="$TMP/guest.trace" >"$TMP/f1.json"
check flow_filter_keeps jqt "$TMP/f1.json" '.totals.lost_packet == 1'
"$REPORT" -j --flow 9:9 host="$TMP/host.trace" guest="$TMP/guest.trace" >"$TMP/f2.json"
check flow_filter_drops jqt "$TMP/f2.json" '.totals.flows == 0 and .totals.findings == 0'
"$REPORT" -j --until 2.4 "$real" >"$TMP/u.json"
check until_cuts_stall jqt "$TMP/u.json" '.totals.credit_stall == 0'
"$REPORT" -j --since 2.4s "$real" >"$TMP/s.json"
check since_keeps_stall jqt "$TMP/s.json" '.totals.credit_stall == 1'
cat "$real" | "$REPORT" -q - >"$TMP/stdin.txt"
check stdin_input [ $? -eq 1 ]
check stdin_finding grep -q '^credit_stall stdin 1:361110866->1:5000' "$TMP/stdin.txt"
cat "$TMP/guest.trace" | "$REPORT" -j host="$TMP/host.trace" guest=- >"$TMP/p3.json"
check stdin_two_pass jqt "$TMP/p3.json" '.systems[1].clock_offset_ns != null and .totals.lost_packet == 1'
"$REPORT" -p "$real" >"$TMP/pretty.json"
check pretty_json_valid jqt "$TMP/pretty.json" '.version == 1'

# --- bad input: a clear one-line error and exit 2, or skipped lines
"$REPORT" /nonexistent/trace 2>"$TMP/err"
rc=$?
check missing_file_exit2 [ "$rc" -eq 2 ]
check missing_file_message grep -qx 'vsock-report: error: failed to open /nonexistent/trace: No such file or directory' "$TMP/err"
head -c 200000 /dev/zero | tr '\0' '\377' >"$TMP/binary"
awk 'BEGIN { srand(3); for (i = 0; i < 50000; i++) printf "%c", int(rand() * 256) }' >>"$TMP/binary"
timeout 20 "$REPORT" "$TMP/binary" >/dev/null 2>"$TMP/err"
rc=$?
check binary_exit2 [ "$rc" -eq 2 ]
check binary_one_line [ "$(wc -l <"$TMP/err")" -eq 1 ]
: >"$TMP/empty"
"$REPORT" "$TMP/empty" 2>/dev/null
check empty_exit2 [ $? -eq 2 ]
"$REPORT" "$TMP" 2>"$TMP/err"
check directory_exit2 [ $? -eq 2 ]
# a capture cut in the middle of a line still gives its report
head -c 150000 "$real" >"$TMP/cut.trace"
"$REPORT" -j "$TMP/cut.trace" >"$TMP/cut.json"
rc=$?
check truncated_reports [ "$rc" -le 1 ]
check truncated_counts_skipped jqt "$TMP/cut.json" '.systems[0].skipped_lines <= 1 and .systems[0].events > 100'
# garbage lines among good ones are counted, not fatal
{ head -20 "$real"; echo "garbage here"; printf 'virtio_transport_alloc_pkt: 1:2 -> \n'; tail -n +21 "$real"; } >"$TMP/mixed.trace"
"$REPORT" -j "$TMP/mixed.trace" >"$TMP/mixed.json"
check garbage_lines_counted jqt "$TMP/mixed.json" '.systems[0].skipped_lines == 2 and .totals.credit_stall == 1'
"$REPORT" --stall-ms abc "$real" 2>"$TMP/err"
check bad_option_exit2 [ $? -eq 2 ]
check bad_option_message grep -q '^vsock-report: error: invalid --stall-ms: abc$' "$TMP/err"
"$REPORT" a=$FX/text/seed000-linux.trace a=$FX/text/seed000-android.trace 2>/dev/null
check duplicate_names_exit2 [ $? -eq 2 ]
