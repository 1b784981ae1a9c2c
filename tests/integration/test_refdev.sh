#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The validation matrix: every fault kind x every workload x seeds, clock
# offsets and drifts, plus clean runs. vsock-report must find every fault
# that had an observable effect, report nothing on clean runs, and put
# the clock offset within its stated uncertainty (half the minimum round
# trip). Prints recall and false positives per fault kind.
. "$(dirname "$0")/lib.sh"
REFDEV=$BUILD/vsock-refdev
CHECK=tests/refdev/check-run.sh
if [ ! -x "$REFDEV" ]; then
	skip refdev_matrix "$REFDEV not built"
	exit 0
fi
SEEDS=${REFDEV_SEEDS:-"1 2"}
WORKLOADS=${REFDEV_WORKLOADS:-"bulk rr many mix"}
DUR=${REFDEV_DURATION_MS:-1000}
FAULTS=(
	"drop-kick:at=300ms"
	"drop-irq:at=300ms"
	"withhold-credit:at=300ms,for=400ms"
	"fail-alloc:at=300ms,what=rx"
	"fail-alloc:at=300ms,what=tx"
	"drop-packet:at=300ms"
	"stop-rx-refill:at=300ms,for=400ms"
)
# clocks: b against a, cycled through the runs
OFFSETS=(123456789000 -5000000000 0 987654321)
DRIFTS=(0 25 -40 100)

declare -A tot found fps
run=0
all_ok=1
offset_bad=0
offset_max=0

one() { # NAME SEED WORKLOAD FAULT...
	local name=$1 seed=$2 wl=$3
	shift 3
	local d="$TMP/$name" off=${OFFSETS[$((run % 4))]} drift=${DRIFTS[$((run % 4))]}
	run=$((run + 1))
	local args=()
	for f in "$@"; do args+=(--fault "$f"); done
	local rc=0
	"$REFDEV" sim --workload "$wl" --flows 4 --duration-ms "$DUR" \
		--seed "$seed" --clock-offset-ns "$off" --clock-drift-ppm "$drift" \
		"${args[@]}" --out "$d" -q 2>"$d.err" || rc=$?
	if [ $rc -ne 0 ]; then
		# a dropped packet breaks the data on purpose: exit 1 then
		if [ $rc -ne 1 ] || ! printf '%s\n' "$@" | grep -q drop-packet; then
			fail "$name" "vsock-refdev exited $rc: $(head -1 "$d.err")"
			all_ok=0
			return
		fi
	fi
	bash "$CHECK" "$REPORT" "$d" >"$d.res"
	if jq -e '.error' "$d.res" >/dev/null; then
		fail "$name" "$(jq -r .error "$d.res")"
		all_ok=0
		return
	fi
	local miss fp err unc
	miss=$(jq '[.faults[] | select(.found | not)] | length' "$d.res")
	fp=$(jq '.false_positives | length' "$d.res")
	err=$(jq -r '.offset_error_ns // "null"' "$d.res")
	unc=$(jq -r '.offset_uncertainty_ns // "null"' "$d.res")
	while read -r k f; do
		tot[$k]=$((${tot[$k]:-0} + 1))
		[ "$f" = true ] && found[$k]=$((${found[$k]:-0} + 1))
	done < <(jq -r '.faults[] | "\(.injected) \(.found)"' "$d.res")
	local key=${1%%:*}
	[ -z "$key" ] && key=clean
	fps[$key]=$((${fps[$key]:-0} + fp))
	# the traces print microseconds, rounded down on both sides: two
	# microseconds of slack
	if [ "$err" = null ] || [ "$unc" = null ] || [ "${err#-}" -gt $((unc + 2000)) ]; then
		offset_bad=$((offset_bad + 1))
		echo "  offset: $name error $err ns, uncertainty $unc ns"
	elif [ "${err#-}" -gt "$offset_max" ]; then
		offset_max=${err#-}
	fi
	if [ "$miss" -eq 0 ] && [ "$fp" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "$miss faults not found, $fp false positives: $(jq -c '[(.faults[] | select(.found | not) | {injected, kind, system, flow}), (.false_positives[] | {kind, system, flow})]' "$d.res" | head -c 600)"
		all_ok=0
	fi
}

for seed in $SEEDS; do
	for wl in $WORKLOADS; do
		one "refdev_clean_${wl}_s$seed" "$seed" "$wl"
		for f in "${FAULTS[@]}"; do
			n=${f%%:*}
			[[ $f == *what=tx* ]] && n="$n-tx"
			[[ $f == *what=rx* ]] && n="$n-rx"
			one "refdev_${n}_${wl}_s$seed" "$seed" "$wl" "$f"
		done
	done
done

echo "  fault kind            runs-observed  found  recall  false-positives"
for k in $(printf '%s\n' "${!tot[@]}" "${!fps[@]}" | sort -u); do
	t=${tot[$k]:-0} fnd=${found[$k]:-0}
	printf '  %-20s %14d %6d %7s %16d\n' "$k" "$t" "$fnd" \
		"$([ "$t" -gt 0 ] && awk -v a="$fnd" -v b="$t" 'BEGIN { printf "%.2f", a / b }' || echo -)" \
		"${fps[$k]:-0}"
done
echo "  clock offset: largest error $offset_max ns; $offset_bad runs outside the stated uncertainty"
check refdev_offset_within_uncertainty [ "$offset_bad" -eq 0 ]
