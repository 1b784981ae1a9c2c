#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# run-fuzz.sh BUILD_DIR SECONDS - build the fuzz_text libFuzzer target
# against lib/*.c and run it for SECONDS over a copy of tests/fuzz/corpus.
#
# Prints one line and exits (kselftest codes):
#   PASS fuzz_text (N runs)                      0
#   FAIL fuzz_text: <reason> (<crash file>)      1
#   SKIP fuzz_text: <reason>                     4
# Work files (objects, the working corpus, crash files, fuzz.log) stay in
# BUILD_DIR/fuzz; nothing is written under tests/.

set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
case $2 in
''|*[!0-9]*) echo "$0: SECONDS must be a number" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1/fuzz" || exit 1
out=$(cd "$1/fuzz" && pwd)
secs=$2
CLANG=${CLANG:-clang}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CFLAGS_FUZZ="-g -O1 -fno-omit-frame-pointer -std=gnu11 -I$top/lib"

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP fuzz_text: $CLANG not found (Debian: clang libclang-rt-14-dev)"
	exit 4
fi

# the fuzzer runtime (libclang-rt-*-dev) is a separate package
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$out/probe.c"
# shellcheck disable=SC2086 # $SAN and $CFLAGS_FUZZ are lists of flags
if ! "$CLANG" $SAN -o "$out/probe" "$out/probe.c" >"$out/probe.log" 2>&1; then
	echo "SKIP fuzz_text: $CLANG cannot link -fsanitize=fuzzer (Debian: libclang-rt-14-dev); see $out/probe.log"
	exit 4
fi

# every lib/*.c that compiles goes in; one that does not is reported
objs=
excluded=
: >"$out/build.log"
# shellcheck disable=SC2086
for src in "$top"/lib/*.c; do
	[ -e "$src" ] || continue
	obj="$out/$(basename "$src" .c).o"
	if "$CLANG" $CFLAGS_FUZZ -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -c "$src" -o "$obj" \
		>>"$out/build.log" 2>&1; then
		objs="$objs $obj"
	else
		excluded="$excluded $(basename "$src")"
	fi
done
[ -n "$excluded" ] && echo "run-fuzz: excluded (do not compile):$excluded" >&2
# shellcheck disable=SC2086 # word splitting of $objs is wanted
if ! "$CLANG" $CFLAGS_FUZZ $SAN -o "$out/fuzz_text" \
	"$top/tests/fuzz/fuzz_text.c" $objs >>"$out/build.log" 2>&1; then
	echo "FAIL fuzz_text: build failed, see $out/build.log"
	exit 1
fi

# work on a copy: new corpus entries never land in the repository
rm -rf "$out/corpus" "$out"/crash-* "$out"/leak-* "$out"/timeout-* \
	"$out"/oom-* "$out"/slow-unit-*
mkdir -p "$out/corpus"
cp "$top"/tests/fuzz/corpus/* "$out/corpus/" || exit 1

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$out/fuzz_text" -max_total_time="$secs" -timeout=10 \
	-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
	-dict="$top/tests/fuzz/fuzz_text.dict" \
	-artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1
rc=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
	"$out/fuzz.log" | tail -n 1)
[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' \
	"$out/fuzz.log" | tail -n 1)

if [ $rc -eq 0 ]; then
	echo "PASS fuzz_text (${runs:-?} runs)"
	exit 0
fi
artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out/fuzz.log" |
	tail -n 1)
reason=$(grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_text: |.*runtime error)' \
	"$out/fuzz.log" | sed 's/^==[0-9]*==//')
[ -n "$reason" ] || reason="fuzzer exited with status $rc"
echo "FAIL fuzz_text: $reason (${artifact:-no crash file}; log $out/fuzz.log)"
exit 1
