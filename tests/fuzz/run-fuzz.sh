#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# run-fuzz.sh BUILD_DIR SECONDS - build the libFuzzer targets against
# lib/*.c and run each for SECONDS over a copy of its corpus:
#   fuzz_text     the tracefs text parser      tests/fuzz/corpus
#   fuzz_capture  the capture file reader      tests/fuzz/corpus-capture
#
# Prints one line per target and exits (kselftest codes) with the worst:
#   PASS fuzz_T (N runs)                         0
#   FAIL fuzz_T: <reason> (<crash file>)         1
#   SKIP fuzz_T: <reason>                        4
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

TARGETS="text capture"
skip_all() {
	for t in $TARGETS; do echo "SKIP fuzz_$t: $*"; done
	exit 4
}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	skip_all "$CLANG not found (Debian: clang libclang-rt-14-dev)"
fi

# the fuzzer runtime (libclang-rt-*-dev) is a separate package
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	>"$out/probe.c"
# shellcheck disable=SC2086 # $SAN and $CFLAGS_FUZZ are lists of flags
if ! "$CLANG" $SAN -o "$out/probe" "$out/probe.c" >"$out/probe.log" 2>&1; then
	skip_all "$CLANG cannot link -fsanitize=fuzzer (Debian: libclang-rt-14-dev); see $out/probe.log"
fi

# every lib/*.c that compiles goes in; one that does not is reported
objs=
excluded=
: >"$out/build.log"
# shellcheck disable=SC2086
for src in "$top"/lib/*.c; do
	[ -e "$src" ] || continue
	# the live capture backends need the kernel's libraries: not parsers
	case $(basename "$src") in source_tracefs.c | source_bpf.c) continue ;; esac
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
worst=0
for t in $TARGETS; do
	corpus=$top/tests/fuzz/corpus
	[ "$t" = text ] || corpus=$top/tests/fuzz/corpus-$t
	dict=
	[ -f "$top/tests/fuzz/fuzz_$t.dict" ] &&
		dict=-dict="$top/tests/fuzz/fuzz_$t.dict"
	# shellcheck disable=SC2086 # word splitting of $objs is wanted
	if ! "$CLANG" $CFLAGS_FUZZ $SAN -o "$out/fuzz_$t" \
		"$top/tests/fuzz/fuzz_$t.c" $objs >>"$out/build.log" 2>&1; then
		echo "FAIL fuzz_$t: build failed, see $out/build.log"
		worst=1
		continue
	fi
	# work on a copy: new corpus entries never land in the repository
	w=$out/$t
	rm -rf "$w"
	mkdir -p "$w/corpus"
	cp "$corpus"/* "$w/corpus/" || exit 1
	# shellcheck disable=SC2086 # $dict is empty or one word
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
		$dict -artifact_prefix="$w/" "$w/corpus" >"$w/fuzz.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$w/fuzz.log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' \
		"$w/fuzz.log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "PASS fuzz_$t (${runs:-?} runs)"
		continue
	fi
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' \
		"$w/fuzz.log" | tail -n 1)
	reason=$(grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_[a-z]*: |.*runtime error)' \
		"$w/fuzz.log" | sed 's/^==[0-9]*==//')
	[ -n "$reason" ] || reason="fuzzer exited with status $rc"
	echo "FAIL fuzz_$t: $reason (${artifact:-no crash file}; log $w/fuzz.log)"
	worst=1
done
exit $worst
