# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the integration tests: each test prints one
# PASS/FAIL/SKIP line per case (see tests/run.sh).
BUILD=${1:-${VS_BUILD:-build}}
REPORT=$BUILD/vsock-report
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vstest.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

# check NAME CONDITION-COMMAND... : PASS if the command succeeds
check() {
	local name=$1
	shift
	if "$@"; then
		echo "PASS $name"
	else
		echo "FAIL $name: $*"
	fi
}

fail() { echo "FAIL $1: $2"; }
pass() { echo "PASS $1"; }
skip() { echo "SKIP $1: $2"; }

# jqt FILE EXPR: true when the jq expression yields true
jqt() { [ "$(jq -e "$2" "$1" 2>/dev/null)" = true ]; }
