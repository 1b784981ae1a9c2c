#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vsocktop end to end, on vsock-refdev sim replays (never a live vsock
# capture: this machine's vsock belongs to its hypervisor):
#  - the curses screen in a private tmux server (what is on screen while a
#    credit stall is open, the keys, a terminal too small, NO_COLOR);
#  - batch mode (-b): the same findings as vsock-report -q, -n, -f, -o;
#  - a remote stream over TCP on localhost (vsock-trace --from --stream);
#  - bad input.
set -u
. "$(dirname "$0")/lib.sh"
TOP=$BUILD/vsocktop
REFDEV=$BUILD/vsock-refdev
TRACE=$BUILD/vsock-trace

for b in "$TOP" "$REFDEV" "$REPORT" "$TRACE"; do
	[ -x "$b" ] || { fail top_setup "$b missing (make)"; exit 1; }
done
# the screen runs in tmux's own directory: absolute paths
ABS_TOP=$(cd "$(dirname "$TOP")" && pwd)/$(basename "$TOP")

# a directory of its own name: lib.sh's /tmp/vstest.* twice vanished in
# the middle of a run while other test runs went on beside it
rm -rf "$TMP"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vs-top.XXXXXX")
TM=(tmux -L "vstest-$$" -f /dev/null)
BG=()
cleanup() {
	"${TM[@]}" kill-server >/dev/null 2>&1
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/vstest-$$"
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# a tmux of its own, also when the tests run inside one
unset TMUX

# ---------------------------------------------------------------- inputs
# STALL: three bulk connections; both systems withhold their credit
# updates from 50 ms to the end (2.5 s), so every writer stalls: a's on
# 3:1024->2:5000 and 3:1026->2:5002, b's on 2:5001->3:1025. Small: the
# writers run at full speed for 50 ms only (a few MiB per trace). Writes
# of 4 KiB fill the 256 KiB buffer exactly: credit stops at 0.
STALL=$TMP/stall
"$REFDEV" sim -q --workload bulk --flows 3 --duration-ms 2500 --write-size 4096 \
	--fault withhold-credit:at=50ms,for=2450ms \
	--fault withhold-credit:at=50ms,for=2450ms,system=a \
	--out "$STALL" 2>"$TMP/sim.err"
rc=$?
"$REPORT" -q a="$STALL/a.trace" b="$STALL/b.trace" >"$TMP/stall.report" 2>&1
report_rc=$?
if [ $rc -ne 0 ] || [ $report_rc -ne 1 ] ||
	! grep -q '^credit_stall a 3:1024->2:5000 ' "$TMP/stall.report"; then
	fail top_setup "sim exit $rc, vsock-report exit $report_rc: $(head -c 300 "$TMP/sim.err" "$TMP/stall.report" | tr '\n' ' ')"
	exit 1
fi
# CLEAN: small messages both ways, nothing to find
CLEAN=$TMP/clean
"$REFDEV" sim -q --workload many --flows 2 --duration-ms 500 --out "$CLEAN" 2>"$TMP/sim.err"
rc=$?
"$REPORT" -q a="$CLEAN/a.trace" b="$CLEAN/b.trace" >"$TMP/clean.report" 2>&1
report_rc=$?
if [ $rc -ne 0 ] || [ $report_rc -ne 0 ] || [ -s "$TMP/clean.report" ]; then
	fail top_setup "clean sim exit $rc, vsock-report exit $report_rc: $(head -c 300 "$TMP/clean.report")"
	exit 1
fi

# batch mode ends with "vsocktop - end of input: N events from NAME (N
# lost), ..." and "vsocktop - findings", then the findings
# findings_after_end FILE: the lines after that
findings_after_end() {
	sed -n '/^vsocktop - findings$/,$p' "$1" | tail -n +2
}
has_end_marker() {
	grep -q '^vsocktop - end of input: [0-9]' "$1" && grep -qx 'vsocktop - findings' "$1"
}

# ------------------------------------------------------- the screen (tmux)
SCR=
# grab SESSION: the screen's text into SCR
grab() { SCR=$("${TM[@]}" capture-pane -p -t "$1" 2>/dev/null); }
# on_screen ERE...: every pattern matches a line of SCR
on_screen() {
	local p
	for p in "$@"; do grep -Eq -- "$p" <<<"$SCR" || return 1; done
}
# wait_screen SESSION SECONDS ERE...: poll until all the patterns are on
# screen; SCR holds the last screen
wait_screen() {
	local s=$1 i n=$(($2 * 10))
	shift 2
	for ((i = 0; i < n; i++)); do
		grab "$s"
		on_screen "$@" && return 0
		sleep 0.1
	done
	return 1
}
# keys SESSION KEY...: send tmux key names
keys() {
	local s=$1
	shift
	"${TM[@]}" send-keys -t "$s" "$@"
}
# cell COLUMN FLOW: that column's cell in FLOW's row of SCR (columns are
# right-aligned under their names, the names in the FLOW header line)
cell() {
	awk -v name="$1" -v flow="$2" '
		!e && index($0, "FLOW ") == 1 {
			p = index($0, name)
			if (p) e = p + length(name) - 1
			next
		}
		e && index($0, flow " ") == 1 {
			n = split(substr($0, 1, e), a, " ")
			print a[n]
			exit
		}' <<<"$SCR"
}
# list_flows: the flows of the rows on SCR, in order
list_flows() { grep -Eo '^[0-9]+:[0-9]+>[0-9]+:[0-9]+' <<<"$SCR"; }
# wait_gone SESSION SECONDS: the session's process has exited
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		"${TM[@]}" has-session -t "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
# wait_file FILE SECONDS
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

TUI_TESTS="top_tui_flow top_tui_free_zero top_tui_stall_ongoing top_tui_color
	top_key_pause top_tui_stall_finished top_key_sort top_key_reverse top_key_filter
	top_key_filter_clear top_key_detail top_key_esc top_key_help
	top_small_terminal top_small_terminal_back top_key_quit_exit1
	top_no_color"
if ! command -v tmux >/dev/null; then
	for t in $TUI_TESTS; do skip "$t" "tmux is not installed"; done
else
	F1='3:1024>2:5000'
	# 1. the replay at speed 1: the open stall is on screen
	"${TM[@]}" new-session -d -s top -x 160 -y 45 -c "$PWD" \
		"env TERM=xterm-256color LANG=C.UTF-8 '$ABS_TOP' -d 0.25 -r a='$STALL/a.trace' -r b='$STALL/b.trace'; echo EXIT=\$? >'$TMP/top.exit'"
	seen_flow=false seen_zero=false seen_ongoing=false color=false
	for ((i = 0; i < 80; i++)); do
		grab top
		grep -q "^$F1 " <<<"$SCR" && seen_flow=true
		[ "$(cell 'FREE>' "$F1")" = 0 ] && seen_zero=true
		grep -Eq '^credit_stall a 3:1024->2:5000 t=[0-9.]+ for [0-9.]+ ms\+ \(ongoing\)' <<<"$SCR" &&
			seen_ongoing=true
		if ! $color && grep -q "^$F1 " <<<"$SCR"; then
			# the header bar in colour (black on cyan), not just reverse
			"${TM[@]}" capture-pane -e -p -t top | head -1 | grep -q $'\e\\[46m' && color=true
		fi
		$seen_zero && $seen_ongoing && $color && break
		grep -q 'end of input' <<<"$SCR" && break
		sleep 0.1
	done
	if $seen_flow; then pass top_tui_flow; else
		fail top_tui_flow "no row $F1 on screen: $(head -c 400 <<<"$SCR" | tr '\n' '|')"
	fi
	if $seen_zero; then pass top_tui_free_zero; else
		fail top_tui_free_zero "FREE> of $F1 never read 0; last: '$(cell 'FREE>' "$F1")'"
	fi
	if $seen_ongoing; then pass top_tui_stall_ongoing; else
		fail top_tui_stall_ongoing "no 'credit_stall a 3:1024->2:5000 ... (ongoing)' line; last screen's findings: $(sed -n '/^FINDINGS/,$p' <<<"$SCR" | tr '\n' '|')"
	fi
	if $color; then pass top_tui_color; else
		fail top_tui_color "the header bar is not black on cyan (TERM=xterm-256color)"
	fi
	# space pauses the replay (the clock on the title stops), and resumes it
	title_t() { sed -n '1s/.* - t=\([0-9.]*\).*/\1/p' <<<"$SCR"; }
	keys top Space
	if wait_screen top 3 '^vsocktop - .*\[PAUSED\]'; then
		p1=$(title_t)
		if on_screen 'end of input'; then
			skip top_key_pause "the replay ended before it could be paused"
			keys top Space
		else
			sleep 0.7 # nothing may move meanwhile
			grab top
			p2=$(title_t)
			keys top Space
			for ((i = 0; i < 30; i++)); do
				grab top
				! on_screen 'PAUSED' && [ "$(title_t)" != "$p1" ] && break
				sleep 0.1
			done
			if [ "$p1" = "$p2" ] && ! on_screen 'PAUSED' && [ "$(title_t)" != "$p1" ]; then
				pass top_key_pause
			else
				fail top_key_pause "t=$p1 on pausing, t=$p2 0.7 s later, then '$(head -1 <<<"$SCR")'"
			fi
		fi
	else
		fail top_key_pause "no [PAUSED] on the title: $(head -1 <<<"$SCR")"
		keys top Space
	fi
	# the end of the replay: the stall is a finished finding, credit is back
	if wait_screen top 10 'end of input' '^credit_stall a 3:1024->2:5000 t=[0-9.]+ for [0-9.]+ ms: 3:1024->2:5000 on a waited ' &&
		! grep -q '(ongoing)' <<<"$SCR" && [ "$(cell 'FREE>' "$F1")" = 262144 ]; then
		pass top_tui_stall_finished
	else
		fail top_tui_stall_finished "FREE> '$(cell 'FREE>' "$F1")'; screen: $(grep -E 'end of input|^credit_stall' <<<"$SCR" | tr '\n' '|')"
	fi

	# 2. the keys
	keys top s
	if wait_screen top 3 '^sort: stalled  filter: none'; then
		pass top_key_sort
	else
		fail top_key_sort "status line: $(grep '^sort:' <<<"$SCR")"
	fi
	before=$(list_flows)
	keys top r
	if wait_screen top 3 '^sort: stalled \(reversed\)' &&
		[ "$(list_flows)" = "$(tac <<<"$before")" ] && [ "$(wc -l <<<"$before")" -eq 3 ]; then
		pass top_key_reverse
	else
		fail top_key_reverse "status '$(grep '^sort:' <<<"$SCR")', rows $(tr '\n' ' ' <<<"$before")then $(list_flows | tr '\n' ' ')"
	fi
	keys top f
	wait_screen top 3 '^filter \(CID or CID:PORT'
	keys top 2 : 5 0 0 1 Enter
	if wait_screen top 3 '^sort: .*filter: 2:5001  1 connection( |$)' '^3:1025>2:5001 ' &&
		[ "$(list_flows)" = '3:1025>2:5001' ]; then
		pass top_key_filter
	else
		fail top_key_filter "status '$(grep '^sort:' <<<"$SCR")', rows: $(list_flows | tr '\n' ' ')"
	fi
	keys top f
	wait_screen top 3 '^filter \(CID or CID:PORT, empty clears\): 2:5001'
	keys top BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace
	wait_screen top 3 '^filter \(CID or CID:PORT, empty clears\): *$'
	keys top Enter
	if wait_screen top 3 '^sort: .*filter: none  3 connections' "^$F1 " '^3:1025>2:5001 ' '^3:1026>2:5002 '; then
		pass top_key_filter_clear
	else
		fail top_key_filter_clear "status '$(grep '^sort:' <<<"$SCR")', rows: $(list_flows | tr '\n' ' ')"
	fi
	keys top Enter
	if wait_screen top 3 '^Connection A=3:10[0-9]+  B=2:50[0-9]+  state ' '^credit A>B' '^credit B>A' \
		'^ +[0-9]+\.[0-9]{9} +[ab] +(A>B|B>A) +(tx|rx) +RW +[0-9]+'; then
		pass top_key_detail
	else
		fail top_key_detail "screen: $(head -c 600 <<<"$SCR" | tr '\n' '|')"
	fi
	keys top Escape
	if wait_screen top 3 '^FLOW +SEEN +STATE' "^$F1 " && ! on_screen '^Connection A='; then
		pass top_key_esc
	else
		fail top_key_esc "screen: $(head -c 400 <<<"$SCR" | tr '\n' '|')"
	fi
	keys top h
	if wait_screen top 3 '^ vsocktop keys' 'q +quit' && ! on_screen '^FLOW '; then
		pass top_key_help
	else
		fail top_key_help "screen: $(head -c 400 <<<"$SCR" | tr '\n' '|')"
	fi
	keys top Escape
	wait_screen top 3 "^$F1 "

	# 3. a terminal too small, and back
	"${TM[@]}" resize-window -t top -x 30 -y 8
	if wait_screen top 3 '^terminal too small' && ! on_screen '^FLOW '; then
		pass top_small_terminal
	else
		fail top_small_terminal "screen: $(tr '\n' '|' <<<"$SCR")"
	fi
	"${TM[@]}" resize-window -t top -x 160 -y 45
	if wait_screen top 3 '^FLOW +SEEN' "^$F1 " '^FINDINGS \(3\)' && ! on_screen 'terminal too small'; then
		pass top_small_terminal_back
	else
		fail top_small_terminal_back "screen: $(head -c 400 <<<"$SCR" | tr '\n' '|')"
	fi

	# q: the process ends, with status 1 (findings)
	keys top q
	if wait_gone top 5 && wait_file "$TMP/top.exit" 3 &&
		[ "$(cat "$TMP/top.exit")" = EXIT=1 ]; then
		pass top_key_quit_exit1
	else
		fail top_key_quit_exit1 "session $("${TM[@]}" has-session -t top 2>/dev/null && echo alive || echo gone), $(cat "$TMP/top.exit" 2>/dev/null || echo 'no exit status')"
	fi

	# 4. NO_COLOR: the list, in reverse video only; a clean run exits 0
	"${TM[@]}" new-session -d -s nc -x 160 -y 45 -c "$PWD" \
		"env TERM=xterm-256color NO_COLOR=1 '$ABS_TOP' -d 0.25 -r a='$CLEAN/a.trace' -r b='$CLEAN/b.trace'; echo EXIT=\$? >'$TMP/nc.exit'"
	if wait_screen nc 8 'end of input' '^FLOW +SEEN' '^3:1024>2:5000 ' '^3:1025>2:5001 ' '^FINDINGS \(0\)'; then
		esc=$("${TM[@]}" capture-pane -e -p -t nc)
		keys nc q
		if grep -q $'\e\\[7m' <<<"$esc" && ! grep -Eq $'\e\\[(3[0-7]|4[0-7]|38;|48;)' <<<"$esc" &&
			wait_gone nc 5 && wait_file "$TMP/nc.exit" 3 && [ "$(cat "$TMP/nc.exit")" = EXIT=0 ]; then
			pass top_no_color
		else
			fail top_no_color "colour codes on screen or exit '$(cat "$TMP/nc.exit" 2>/dev/null)': $(grep -Eo $'\e\\[[0-9;]*m' <<<"$esc" | sort -u | tr '\n\033' ' ^')"
		fi
	else
		fail top_no_color "screen: $(head -c 400 <<<"$SCR" | tr '\n' '|')"
	fi
	"${TM[@]}" kill-server >/dev/null 2>&1
fi

# not a terminal, without -b: exit 2, one line
"$TOP" -r a="$STALL/a.trace" -r b="$STALL/b.trace" </dev/null >"$TMP/nt.out" 2>"$TMP/nt.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/nt.err")" -eq 1 ] &&
	grep -q '^vsocktop: error: .*not a terminal' "$TMP/nt.err" && [ ! -s "$TMP/nt.out" ]; then
	pass top_not_a_terminal
else
	fail top_not_a_terminal "exit $rc: $(head -c 300 "$TMP/nt.err" | tr '\n' '|')"
fi

# ------------------------------------------------------------- batch mode
# 5. the same findings as vsock-report -q, and its exit status
"$TOP" -b -s max -d 0.5 -r a="$STALL/a.trace" -r b="$STALL/b.trace" >"$TMP/b.out" 2>"$TMP/b.err"
rc=$?
findings_after_end "$TMP/b.out" >"$TMP/b.find"
if [ $rc -eq 1 ] && has_end_marker "$TMP/b.out" && cmp -s "$TMP/b.find" "$TMP/stall.report"; then
	pass top_batch_same_findings
else
	fail top_batch_same_findings "exit $rc; diff with vsock-report -q: $(diff "$TMP/stall.report" "$TMP/b.find" | head -5 | tr '\n' '|') $(head -c 200 "$TMP/b.err")"
fi
# while the stall was open, an update showed it going on
if grep -Eq '^credit_stall a 3:1024->2:5000 t=[0-9.]+ for [0-9.]+ ms\+ \(ongoing\)' "$TMP/b.out"; then
	pass top_batch_ongoing
else
	fail top_batch_ongoing "no update shows the open stall"
fi
"$TOP" -b -s max -d 0.5 -r a="$CLEAN/a.trace" -r b="$CLEAN/b.trace" >"$TMP/c.out" 2>"$TMP/c.err"
rc=$?
if [ $rc -eq 0 ] && has_end_marker "$TMP/c.out" && [ -z "$(findings_after_end "$TMP/c.out")" ] &&
	grep -q '^3:1024>2:5000 ' "$TMP/c.out"; then
	pass top_batch_clean
else
	fail top_batch_clean "exit $rc: $(findings_after_end "$TMP/c.out" | head -3 | tr '\n' '|') $(head -c 200 "$TMP/c.err")"
fi
# captures written by vsock-trace --from
if "$TRACE" -q --from "$STALL/a.trace" -o "$TMP/a.vscap" 2>"$TMP/t.err" &&
	"$TRACE" -q --from "$STALL/b.trace" -o "$TMP/b.vscap" 2>>"$TMP/t.err"; then
	"$REPORT" -q a="$TMP/a.vscap" b="$TMP/b.vscap" >"$TMP/cap.report" 2>&1
	report_rc=$?
	"$TOP" -b -s max -d 0.5 -r a="$TMP/a.vscap" -r b="$TMP/b.vscap" >"$TMP/cap.out" 2>"$TMP/cap.err"
	rc=$?
	findings_after_end "$TMP/cap.out" >"$TMP/cap.find"
	if [ $rc -eq 1 ] && [ $report_rc -eq 1 ] && cmp -s "$TMP/cap.find" "$TMP/cap.report" &&
		grep -q '^credit_stall a 3:1024->2:5000 ' "$TMP/cap.find"; then
		pass top_batch_capture_files
	else
		fail top_batch_capture_files "exit $rc (report $report_rc); diff: $(diff "$TMP/cap.report" "$TMP/cap.find" | head -5 | tr '\n' '|') $(head -c 200 "$TMP/cap.err")"
	fi
else
	fail top_batch_capture_files "vsock-trace --from failed: $(head -c 200 "$TMP/t.err")"
fi

# 6. -n, -f, -o
"$TOP" -b -s max -d 0.5 -n 2 -r a="$STALL/a.trace" -r b="$STALL/b.trace" >"$TMP/n.out" 2>&1
n=$(grep -c '^vsocktop - update ' "$TMP/n.out")
# stopped by -n, the findings are the report's on the input cut there
cut=$(sed -n 's/^vsocktop - update 2, t=\([0-9.]*\) .*/\1/p' "$TMP/n.out")
"$REPORT" -q --until "${cut:-0}" a="$STALL/a.trace" b="$STALL/b.trace" >"$TMP/n.report" 2>&1
findings_after_end "$TMP/n.out" >"$TMP/n.find"
if [ "$n" -eq 2 ] && has_end_marker "$TMP/n.out" && [ -n "$cut" ] &&
	cmp -s "$TMP/n.find" "$TMP/n.report"; then
	pass top_batch_iterations
else
	fail top_batch_iterations "$n updates (want 2), end marker $(has_end_marker "$TMP/n.out" && echo yes || echo no), cut at '$cut'; diff with vsock-report --until: $(diff "$TMP/n.find" "$TMP/n.report" | head -4 | tr '\n' '|')"
fi
"$TOP" -b -s max -d 0.5 -f 2:5001 -r a="$STALL/a.trace" -r b="$STALL/b.trace" >"$TMP/f.out" 2>&1
rows=$(grep -Ec '^[0-9]+:[0-9]+>[0-9]+:[0-9]+ ' "$TMP/f.out")
other=$(grep -E '^[0-9]+:[0-9]+>[0-9]+:[0-9]+ ' "$TMP/f.out" | grep -Evc '(^|>)2:5001 ')
updates=$(grep -c '^vsocktop - update ' "$TMP/f.out")
if [ "$rows" -gt 0 ] && [ "$other" -eq 0 ] && [ "$rows" -eq "$updates" ] &&
	[ "$(grep -c '^vsocktop - update .*, 1 connection, sort rate, filter 2:5001$' "$TMP/f.out")" -eq "$updates" ]; then
	pass top_batch_filter
else
	fail top_batch_filter "$rows rows in $updates updates, $other without 2:5001"
fi
"$TOP" -b -s max -d 0.5 -o flow -r a="$STALL/a.trace" -r b="$STALL/b.trace" >"$TMP/o.out" 2>&1
# every update's rows in (CID, port) order, three of them
bad=$(awk '
	/^vsocktop - update / { if (n && n != 3) bad++; n = 0; prev = ""; ups++
		if ($0 !~ /sort flow$/) bad++; next }
	/^[0-9]+:[0-9]+>[0-9]+:[0-9]+ / {
		split($1, f, /[:>]/)
		k = sprintf("%020d %010d %020d %010d", f[1], f[2], f[3], f[4])
		if (prev != "" && k < prev) bad++
		prev = k; n++ }
	END { if (n != 3 || !ups) bad++; print bad + 0 }' "$TMP/o.out")
if [ "$bad" -eq 0 ]; then
	pass top_batch_sort_flow
else
	fail top_batch_sort_flow "$bad updates out of order or without 3 rows"
fi

# ------------------------------------------------- a remote stream over TCP
# 7. vsocktop listens, vsock-trace --from sends a saved trace to it
# free_port FROM: a TCP port nothing listens on, from FROM up
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		[ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo $p; return 0; }
	done
	return 1
}
# wait_listen PORT: until something listens there (5 s)
wait_listen() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_exit PID SECONDS: its exit status in WRC ("timeout": killed)
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1"
		wait "$1"
		WRC=timeout
	else
		wait "$1"
		WRC=$?
	fi
	BG=()
}
REMOTE_TESTS="top_listen_screen_while_waiting top_listen_updates_while_waiting
	top_remote_stream top_remote_findings top_remote_idle_updates"
base=$((20000 + $$ % 20000))
if ! command -v ss >/dev/null; then
	for t in $REMOTE_TESTS; do skip "$t" "ss (iproute2) is not installed"; done
elif ! p1=$(free_port $base) || ! p2=$(free_port $((p1 + 1))) ||
	! p3=$(free_port $((p2 + 1))); then
	for t in $REMOTE_TESTS; do skip "$t" "no free TCP port from $base"; done
else
	# the screen draws and takes keys while nobody has connected yet
	if command -v tmux >/dev/null; then
		"${TM[@]}" new-session -d -s ls -x 160 -y 45 -c "$PWD" \
			"env TERM=xterm-256color '$ABS_TOP' --listen peer=tcp:127.0.0.1:$p1; echo EXIT=\$? >'$TMP/ls.exit'"
		wait_listen "$p1"
		if wait_screen ls 3 "listening on tcp:127.0.0.1:$p1" '^FLOW +SEEN' '^peer +ev/s' &&
			keys ls q && wait_gone ls 3; then
			pass top_listen_screen_while_waiting
		else
			fail top_listen_screen_while_waiting "$("${TM[@]}" has-session -t ls 2>/dev/null && echo 'still running after q' || echo ended), screen: '$(head -c 300 <<<"$SCR" | tr '\n' '|')'"
		fi
		"${TM[@]}" kill-server >/dev/null 2>&1
	else
		skip top_listen_screen_while_waiting "tmux is not installed"
	fi

	"$TOP" -b -d 0.5 --listen peer=tcp:127.0.0.1:$p2 >"$TMP/r.out" 2>"$TMP/r.err" &
	rpid=$!
	BG+=("$rpid")
	wait_listen "$p2"
	# batch updates go on every -d while nobody has connected yet
	for ((i = 0; i < 20; i++)); do
		grep -q '^vsocktop - update ' "$TMP/r.out" && break
		sleep 0.1
	done
	if grep -q "^vsocktop - update 1, .*listening on tcp:127.0.0.1:$p2" "$TMP/r.out"; then
		pass top_listen_updates_while_waiting
	else
		fail top_listen_updates_while_waiting "no update in 2 s with -d 0.5 while waiting for a connection"
	fi
	"$TRACE" --from "$STALL/a.trace" --stream tcp:127.0.0.1:$p2 -o /dev/null 2>"$TMP/st.err"
	trc=$?
	sent=$(sed -n 's/^vsock-trace: .*: \([0-9]*\) events, .*/\1/p' "$TMP/st.err")
	wait_exit "$rpid" 10
	"$REPORT" -q peer="$STALL/a.trace" >"$TMP/peer.report" 2>&1
	findings_after_end "$TMP/r.out" >"$TMP/r.find"
	if [ $trc -eq 0 ] && grep -q "^3:1024>2:5000 *peer " "$TMP/r.out" &&
		grep -q "^3:1025>2:5001 *peer " "$TMP/r.out" && grep -q "^peer  *ev/s" "$TMP/r.out" &&
		grep -qx "vsocktop - end of input: ${sent:-?} events from peer (0 lost)" "$TMP/r.out"; then
		pass top_remote_stream
	else
		fail top_remote_stream "vsock-trace exit $trc, sent ${sent:-?} events; vsocktop exit $WRC: '$(grep '^vsocktop - end of input' "$TMP/r.out")' $(head -c 300 "$TMP/r.err")"
	fi
	if [ "$WRC" = 1 ] && has_end_marker "$TMP/r.out" && grep -q '^credit_stall peer 3:1024->2:5000 ' "$TMP/r.find" &&
		cmp -s "$TMP/r.find" "$TMP/peer.report"; then
		pass top_remote_findings
	else
		fail top_remote_findings "exit $WRC; diff with vsock-report -q peer=: $(diff "$TMP/peer.report" "$TMP/r.find" | head -5 | tr '\n' '|')"
	fi

	# a stream that connects, sends part of a capture and goes quiet:
	# the updates go on
	if [ -s "$TMP/a.vscap" ]; then
		"$TOP" -b -d 0.5 --listen peer=tcp:127.0.0.1:$p3 >"$TMP/i.out" 2>"$TMP/i.err" &
		rpid=$!
		BG+=("$rpid")
		if wait_listen "$p3" && exec {sfd}<>"/dev/tcp/127.0.0.1/$p3"; then
			head -c 300000 "$TMP/a.vscap" >&$sfd
			for ((i = 0; i < 20; i++)); do
				grep -q '^3:1024>2:5000 ' "$TMP/i.out" && break
				sleep 0.1
			done
			n1=$(grep -c '^vsocktop - update ' "$TMP/i.out")
			for ((i = 0; i < 25; i++)); do
				[ "$(grep -c '^vsocktop - update ' "$TMP/i.out")" -ge $((n1 + 2)) ] && break
				sleep 0.1
			done
			n2=$(grep -c '^vsocktop - update ' "$TMP/i.out")
			exec {sfd}>&-
			wait_exit "$rpid" 5
			if [ "$n2" -ge $((n1 + 2)) ] && grep -q '^3:1024>2:5000 ' "$TMP/i.out"; then
				pass top_remote_idle_updates
			else
				fail top_remote_idle_updates "updates $n1, then $n2 after 2.5 s with the stream connected and quiet (-d 0.5); exit after close: $WRC"
			fi
		else
			kill "$rpid"
			wait "$rpid"
			BG=()
			fail top_remote_idle_updates "could not connect to 127.0.0.1:$p3"
		fi
	else
		skip top_remote_idle_updates "no capture file (vsock-trace --from failed above)"
	fi
fi

# ---------------------------------------------------------------- bad input
# 8. exit 2 and one line saying what is wrong
# bad NAME PATTERN ARGS...: vsocktop ARGS exits 2 with one line matching
bad() {
	local name=$1 pat=$2 rc
	shift 2
	"$TOP" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$TMP/bad.err")" -eq 1 ] &&
		grep -Eq "$pat" "$TMP/bad.err" && [ ! -s "$TMP/bad.out" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc: $(head -c 300 "$TMP/bad.err" | tr '\n' '|')"
	fi
}
bad top_bad_missing_file '^vsocktop: error: failed to open /nonexistent/x\.trace: No such file or directory$' \
	-b -s max -r /nonexistent/x.trace
bad top_bad_missing_second_file '^vsocktop: error: failed to open /nonexistent/b\.trace: ' \
	-b -s max -r a="$STALL/a.trace" -r b=/nonexistent/b.trace
bad top_bad_speed '^vsocktop: error: invalid --speed: fast ' -b -s fast -r "$STALL/a.trace"
bad top_bad_speed_zero '^vsocktop: error: invalid --speed: 0 ' -b --speed 0 -r "$STALL/a.trace"
bad top_bad_sort '^vsocktop: error: invalid --sort: bogus ' -b -o bogus -r "$STALL/a.trace"
bad top_bad_filter '^vsocktop: error: invalid --filter: 2:x ' -b -f 2:x -r "$STALL/a.trace"
bad top_bad_filter_empty_port '^vsocktop: error: invalid --filter: 2: ' -b --filter 2: -r "$STALL/a.trace"
bad top_bad_no_events '^vsocktop: error: failed to read .*: no trace event in it$' -b -s max -r /dev/null
exit 0
