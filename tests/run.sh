#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test runner of `make check`: runs every tier this machine supports and
# ends with one line "N passed, N failed, N skipped". Each test program
# prints "PASS name", "FAIL name: why" or "SKIP name: why" lines; a program
# that dies without saying so counts as a failure.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
export VS_BUILD=$BUILD

pass=0 fail=0 skip=0
failed_names=()

# run_prog LABEL PREFIX CMD...: count its PASS/FAIL/SKIP lines
run_prog() {
	local label=$1 prefix=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	local p f s
	p=$(grep -c '^PASS ' <<<"$out")
	f=$(grep -c '^FAIL ' <<<"$out")
	s=$(grep -c '^SKIP ' <<<"$out")
	sed -n -e 's/^\(PASS\|FAIL\|SKIP\) /\1 '"$prefix"'/p' -e '/^  /p' <<<"$out"
	if [ "$f" -gt 0 ]; then
		while read -r l; do failed_names+=("$l"); done < <(sed -n 's/^FAIL \([^:]*\).*/'"$prefix"'\1/p' <<<"$out")
	fi
	# a crash, a sanitizer report or a non-zero exit without a FAIL line
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; } ||
		grep -q 'ERROR: AddressSanitizer\|runtime error:' <<<"$out"; then
		echo "FAIL $prefix$label: exited $rc"
		grep -m5 -A3 'ERROR: AddressSanitizer\|runtime error:' <<<"$out" | sed 's/^/    /'
		[ "$rc" -ne 0 ] && tail -5 <<<"$out" | sed 's/^/    /'
		f=$((f + 1))
		failed_names+=("$prefix$label")
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && [ "${t%.d}" = "$t" ] || continue
	run_prog "$(basename "$t")" "" "$t"
done

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "$BUILD"/san/test_*; do
	[ -x "$t" ] && [ "${t%.d}" = "$t" ] || continue
	run_prog "$(basename "$t")" "asan:" "$t"
done

echo "== integration tests"
for t in tests/integration/test_*.sh; do
	run_prog "$(basename "$t" .sh)" "" bash "$t" "$BUILD"
done

echo "== real-kernel tier: Debian's kernel in QEMU against vsock-refdev serve"
run_prog vm_tier "" tests/vm/serve-tier.sh "$BUILD" check

echo "== fuzz (short run)"
if [ -x tests/fuzz/run-fuzz.sh ]; then
	run_prog fuzz_text "" tests/fuzz/run-fuzz.sh "$BUILD" "${FUZZ_SECONDS:-20}"
else
	echo "SKIP fuzz: tests/fuzz/run-fuzz.sh missing"
	skip=$((skip + 1))
fi

if [ "${#failed_names[@]}" -gt 0 ]; then
	echo "== failed:"
	printf '   %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
