#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The documents against the tools: the options of each tool's --help and
# of its manual page (vsock-report(1), vsock-refdev(8), vsock-trace(8),
# vsocktop(8)) are the same, vsocktop's batch columns are in its FIELDS, the
# fault kinds and workloads of vsock-refdev --help each have an entry in
# vsock-refdev(8), every manual page formats without warnings, and the
# README's commands run on the shipped examples.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 2
MAN1=man/vsock-report.1
MAN5=man/vsock-text.5
MAN8=man/vsock-refdev.8
REFDEV=$BUILD/vsock-refdev
[ -x "$REPORT" ] || { fail docs_setup "$REPORT missing (make all)"; exit 1; }
[ -x "$REFDEV" ] || { fail docs_setup "$REFDEV missing (make all)"; exit 1; }

# --- long options: --help <-> OPTIONS section of the manual page
# check_options PREFIX PAGE SECTION TOOL [ARG...]: the options of
# TOOL ARG... --help and of PAGE's SECTION are the same, both ways, with the
# same argument names
check_options() {
	local pre=$1 page=$2 sect=$3 missing extra bad opt arg
	shift 3
	"$@" --help >"$TMP/help" 2>&1
	check "${pre}help_exit0" [ $? -eq 0 ]
	# option lines of --help start with "-x, --opt" or "--opt"
	sed -n 's/^ \{2,\}\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' "$TMP/help" |
		sort -u >"$TMP/help.opts"
	# roff escapes "-" as "\-": undo, then take every --word of the section
	sed -n "/^\\.SH $sect\$/,/^\\.SH /p" "$page" | sed '1d; $d' |
		sed 's/\\-/-/g' |
		grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$TMP/man.opts"
	check "${pre}help_has_options" [ -s "$TMP/help.opts" ]
	check "${pre}man_has_options" [ -s "$TMP/man.opts" ]
	missing=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	if [ -z "$missing" ]; then
		pass "${pre}man_documents_every_option"
	else
		fail "${pre}man_documents_every_option" "not in $page OPTIONS: $missing"
	fi
	extra=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
	if [ -z "$extra" ]; then
		pass "${pre}man_options_exist"
	else
		fail "${pre}man_options_exist" "in $page $sect but not in --help: $extra"
	fi
	# every option the manual gives a .TP entry has one in --help too, with
	# the same argument name
	sed -n "/^\\.SH $sect\$/,/^\\.SH /p" "$page" | sed 's/\\-/-/g' |
		sed -n 's/^\.BI --\([a-z-]*\) " \([A-Z]*\)"$/--\1 \2/p' >"$TMP/man.args"
	bad=
	while read -r opt arg; do
		grep -Eq -- "(^|[ ,])$opt $arg( |$)" "$TMP/help" || bad="$bad $opt"
	done <"$TMP/man.args"
	if [ -s "$TMP/man.args" ] && [ -z "$bad" ]; then
		pass "${pre}man_option_arguments"
	else
		fail "${pre}man_option_arguments" "argument differs from --help for:${bad:- (none found)}"
	fi
}
check_options "" "$MAN1" OPTIONS "$REPORT"
check_options refdev_ "$MAN8" OPTIONS "$REFDEV"
check_options refdev_serve_ "$MAN8" "SERVE OPTIONS" "$REFDEV" serve
if [ -x "$BUILD/vsock-trace" ]; then
	check_options trace_ man/vsock-trace.8 OPTIONS "$BUILD/vsock-trace"
	for s in FIELDS OVERHEAD; do
		check "trace_man_has_$s" grep -q "^\.SH $s\$" man/vsock-trace.8
	done
fi

if [ -x "$BUILD/vsocktop" ]; then
	check_options top_ man/vsocktop.8 OPTIONS "$BUILD/vsocktop"
	for s in KEYS FIELDS "BATCH MODE" OVERHEAD "EXIT STATUS"; do
		check "top_man_has_$(tr ' ' _ <<<"$s")" grep -q "^\.SH $s\$" man/vsocktop.8
	done
	# every column the batch output heads has its entry in FIELDS
	"$BUILD/vsocktop" -b -n 1 -s max -r tests/fixtures/real/loopback-stall.trace \
		>"$TMP/top.out" 2>&1 </dev/null
	sed -n '/^FLOW /{p;q;}' "$TMP/top.out" | tr -s ' ' '\n' | sed '/^$/d' >"$TMP/top.cols"
	sed -n '/^\.SH FIELDS$/,/^\.SH /p' man/vsocktop.8 | sed 's/\\-/-/g' |
		sed -n 's/^\.BR\{0,1\} \(.*\)$/\1/p' | tr -d '",' | tr -s ' ' '\n' |
		sort -u >"$TMP/top.fields"
	check top_batch_has_columns [ "$(grep -c . "$TMP/top.cols")" -ge 10 ]
	missing=$(sort -u "$TMP/top.cols" | comm -23 - "$TMP/top.fields" | tr '\n' ' ')
	if [ -z "$missing" ]; then
		pass top_man_documents_every_column
	else
		fail top_man_documents_every_column "not in man/vsocktop.8 FIELDS: $missing"
	fi
fi

# --- vsock-refdev: every fault kind and workload --help names has its own
# entry (a .TP tag line) in the FAULTS and WORKLOADS sections
"$REFDEV" --help >"$TMP/help" 2>&1
# the words after "kinds:" up to the ";" that ends the list
sed -n '/kinds:/,/;/p' "$TMP/help" | tr '\n' ' ' |
	sed 's/.*kinds://; s/;.*//' | tr -s ' ,' '\n\n' | sed '/^$/d' >"$TMP/kinds"
sed -n 's/^ *--workload W *\(.*\) or \([a-z]*\) (default.*/\1, \2/p' "$TMP/help" |
	tr -s ' ,' '\n\n' | sed '/^$/d' >"$TMP/workloads"
# tag_missing SECTION FILE: the words of FILE without a ".B word" line
# directly after a .TP in SECTION of the manual page
tag_missing() {
	sed -n "/^\\.SH $1/,/^\\.SH /p" "$MAN8" | sed 's/\\-/-/g' |
		sed -n '/^\.TP/{n;s/^\.B \([a-z-]*\)$/\1/p;}' | sort -u >"$TMP/tags"
	sort -u "$2" | comm -23 - "$TMP/tags" | tr '\n' ' '
}
check refdev_help_has_kinds [ "$(grep -c . "$TMP/kinds")" -ge 6 ]
check refdev_help_has_workloads [ "$(grep -c . "$TMP/workloads")" -ge 4 ]
missing=$(tag_missing FAULTS "$TMP/kinds")
if [ -z "$missing" ]; then
	pass refdev_man_documents_every_fault
else
	fail refdev_man_documents_every_fault "not in $MAN8 FAULTS: $missing"
fi
missing=$(tag_missing WORKLOADS "$TMP/workloads")
if [ -z "$missing" ]; then
	pass refdev_man_documents_every_workload
else
	fail refdev_man_documents_every_workload "not in $MAN8 WORKLOADS: $missing"
fi

# --- the manual pages format without warnings
for page in man/*.[1-8]; do
	name=groff_$(basename "$page" | tr '.-' '__')
	if ! command -v groff >/dev/null 2>&1; then
		skip "$name" "groff not installed (Debian: groff-base)"
		continue
	fi
	out=$(groff -man -ww -z "$page" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		pass "$name"
	else
		fail "$name" "$(head -3 <<<"$out" | tr '\n' ' ')"
	fi
done

# --- the README
check readme_make_demo grep -q 'make demo' README.md
check readme_make_check grep -q 'make check' README.md
# fenced code lines of the "Using vsock-report" section that start with
# "vsock-report " (or "$ vsock-report "); a pipe after it is not run
awk '/^## /{ sect = ($0 ~ /^## Using vsock-report/) } sect' README.md |
	awk '/^```/{ code = !code; next } code' |
	sed -n 's/^\$ //; /^vsock-report /p' | sed 's/ |.*//' >"$TMP/readme.cmds"
check readme_has_commands [ -s "$TMP/readme.cmds" ]
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	read -ra argv <<<"${cmd#vsock-report }"
	"$REPORT" "${argv[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	if [ "$rc" -le 1 ] && [ ! -s "$TMP/err" ]; then
		pass "readme_command_$n"
	else
		fail "readme_command_$n" "'$cmd' exited $rc: $(head -1 "$TMP/err")"
	fi
done <"$TMP/readme.cmds"
