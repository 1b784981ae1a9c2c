#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The documents against the tool: the options of --help and of
# man/vsock-report.1 are the same, both manual pages format without
# warnings, and the README's commands run on the shipped examples.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 2
MAN1=man/vsock-report.1
MAN5=man/vsock-text.5
[ -x "$REPORT" ] || { fail docs_setup "$REPORT missing (make all)"; exit 1; }

# --- long options: --help <-> OPTIONS section of the manual page
"$REPORT" --help >"$TMP/help" 2>&1
check help_exit0 [ $? -eq 0 ]
# option lines of --help start with "-x, --opt" or "--opt"
sed -n 's/^ \{2,\}\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' "$TMP/help" |
	sort -u >"$TMP/help.opts"
# roff escapes "-" as "\-": undo, then take every --word of the section
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$MAN1" | sed 's/\\-/-/g' |
	grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$TMP/man.opts"
check help_has_options [ -s "$TMP/help.opts" ]
check man_has_options [ -s "$TMP/man.opts" ]
missing=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
if [ -z "$missing" ]; then
	pass man_documents_every_option
else
	fail man_documents_every_option "not in $MAN1 OPTIONS: $missing"
fi
extra=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
if [ -z "$extra" ]; then
	pass man_options_exist
else
	fail man_options_exist "in $MAN1 OPTIONS but not in --help: $extra"
fi
# every option the manual gives a .TP entry has one in --help too, with
# the same argument name
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$MAN1" | sed 's/\\-/-/g' |
	sed -n 's/^\.BI --\([a-z-]*\) " \([A-Z]*\)"$/--\1 \2/p' >"$TMP/man.args"
bad=
while read -r opt arg; do
	grep -Eq -- "(^|[ ,])$opt $arg( |$)" "$TMP/help" || bad="$bad $opt"
done <"$TMP/man.args"
if [ -s "$TMP/man.args" ] && [ -z "$bad" ]; then
	pass man_option_arguments
else
	fail man_option_arguments "argument differs from --help for:${bad:- (none found)}"
fi

# --- the manual pages format without warnings
for page in "$MAN1" "$MAN5"; do
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
