#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check-run.sh REPORT DIR: run vsock-report on a vsock-refdev sim output
# (DIR/a.trace, DIR/b.trace) and compare its findings with DIR/truth.json.
# Prints one JSON object: {"faults": [{"injected", "kind", "found"}...],
# "false_positives": [findings no fault explains], "offset_error_ns",
# "offset_uncertainty_ns"}. A fault is found when a finding of its kind
# (or of a kind its "also" allows; on its system and flow, when the truth
# names them) overlaps its window,
# widened by TOL (default 60 ms). A finding is explained when it overlaps
# any fault's window, widened the same way, or a time when the simulator
# itself did not run (truth.json "pauses": the machine was busy).
set -u
REPORT=$1
DIR=$2
TOL=${TOL:-60000000}
"$REPORT" -j --no-progress a="$DIR/a.trace" b="$DIR/b.trace" >"$DIR/report.json" 2>"$DIR/report.err"
rc=$?
if [ "$rc" -gt 1 ]; then
	echo "{\"error\": \"vsock-report exited $rc: $(head -c 200 "$DIR/report.err" | tr '"\n' "' ")\"}"
	exit 0
fi
jq -c --argjson tol "$TOL" --slurpfile truth "$DIR/truth.json" '
  def win(f): [f.start_ns - $tol, ((f.end_ns // f.start_ns) + $tol)];
  def overlaps(a; b): a[0] <= b[1] and b[0] <= a[1];
  def fwin(x): [x.start_ns, (x.end_ns // (x.start_ns + x.duration_ns))];
  . as $r
  | ($truth[0].faults) as $faults
  | {
      faults: [ $faults[] | select(.observed) | . as $f
        | { injected: .injected, kind: .kind, system: .system, flow: .flow,
            start_ns: .start_ns,
            found: ([ $r.findings[]
                      | select(.kind == $f.kind or
                               ([.kind] | inside($f.also // [])))
                      | select($f.system == null or .system == $f.system)
                      | select($f.flow == null or .flow == $f.flow)
                      | select(overlaps(fwin(.); win($f))) ] | length > 0) } ],
      unobserved: ([ $faults[] | select(.observed | not) ] | length),
      false_positives: [ $r.findings[] | . as $x
        | select([ $faults[] | select(overlaps(fwin($x); win(.))) ] | length == 0)
        | select([ ($truth[0].pauses // [])[] | select(overlaps(fwin($x); win(.))) ] | length == 0)
        | { kind, system, flow, start_ns, summary } ],
      offset_error_ns: (if $r.systems[1].clock_offset_ns == null then null
        else
          # the truth: b = a + offset + drift * (a - 1000 s); the report
          # gives a - b at its anchor (on b'"'"'s clock)
          ($r.systems[1].clock_anchor_ns // 1000000000000) as $ab
          | ($truth[0].clock_drift_ppm * 1e-6) as $k
          | (($ab - $truth[0].clock_offset_ns - 1000000000000) / (1 + $k)) as $da
          | ($truth[0].clock_offset_ns + $k * $da) as $toff
          | ($r.systems[1].clock_offset_ns + $toff) | round
        end),
      offset_uncertainty_ns: $r.systems[1].offset_uncertainty_ns
    }' "$DIR/report.json"
