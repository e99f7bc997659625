#!/usr/bin/env bash
# A paired comparison of two builds, or of two settings, end to end (make bench-e2e-ab).
#
# One binary's end-to-end figure moves by up to a quarter between runs on this machine, more
# than most changes move it, so two builds measured one after the other tell little (as for the
# in-process benchmarks, benchmarks/ab.sh). This runs benchmarks/e2e.sh (RUNS=1, a fresh broker
# each time) with each side in turn, in the order A B B A A B ..., and compares each pair:
# events per CPU-second end to end, new over base (higher is better), the same for events per
# second of wall-clock time, and the raw pipe each run measured (the machine's hour). It prints
# every pair, then each side's medians, the median of the pairs' ratios, in how many pairs the
# new side did more events per CPU-second, and a two-sided sign test's p-value for that count.
#
# Usage: benchmarks/e2e_ab.sh BASE_BIN NEW_BIN [PAIRS]      (make bench-e2e-ab BASE=...)
# BASE_BIN, NEW_BIN: two touchstream binaries, each with its touchstream_baseline beside it; the
#   same binary twice compares two settings (below).
# PAIRS (5): how many pairs (each pair takes ~1 minute with the defaults).
# EVENTS (200000), PARTITIONS (8): e2e.sh's arguments.
# BASE_STATE_OPTIONS, NEW_STATE_OPTIONS: e2e.sh's STATE_OPTIONS for each side's runs, e.g.
#   NEW_STATE_OPTIONS='memtable_huge_pages: true'.
# BASE_RUN_ARGS, NEW_RUN_ARGS: e2e.sh's RUN_ARGS for each side's runs (after RUN_ARGS, which
#   both sides get), e.g. NEW_RUN_ARGS='-X linger.ms=20'. Every other setting of e2e.sh
#   (POLICIES, GUARANTEE, E2E_CONFIG, UNKEYED_PERCENT, ...) applies to both sides.
# LOG_DIR: where each run's whole output is kept (PAIR.base.log, PAIR.new.log); by default a
#   temporary directory, removed at the end.
set -euo pipefail
source "$(dirname "$0")/paired_args.sh"
paired_args 5 "$@"
EVENTS=${EVENTS:-200000}
PARTITIONS=${PARTITIONS:-8}
here=$(cd "$(dirname "$0")" && pwd)
# e2e.sh runs from the repository's root: the binaries' paths must not depend on where this was
# called from.
BASE=$(realpath "$BASE")
NEW=$(realpath "$NEW")

if [ -n "${LOG_DIR:-}" ]; then
  logs=$LOG_DIR
  mkdir -p "$logs"
else
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
fi
results=$logs/results
: > "$results"

# One run of side $2 (base or new) in pair $1: appends "PAIR SIDE cpu_rate wall_rate pipe_rate
# triggers" to $results. A run that fails, or prints no end-to-end figure, ends the comparison
# with the end of its output.
run() {
  local pair=$1 side=$2 bin options run_args log
  if [ "$side" = base ]; then
    bin=$BASE
    options=${BASE_STATE_OPTIONS:-}
    run_args="${RUN_ARGS:-} ${BASE_RUN_ARGS:-}"
  else
    bin=$NEW
    options=${NEW_STATE_OPTIONS:-}
    run_args="${RUN_ARGS:-} ${NEW_RUN_ARGS:-}"
  fi
  log=$logs/$pair.$side.log
  if ! RUNS=1 TOUCHSTREAM_BIN=$bin STATE_OPTIONS=$options RUN_ARGS=$run_args \
    "$here/e2e.sh" "$EVENTS" "$PARTITIONS" > "$log" 2>&1; then
    echo "e2e_ab.sh: the $side run of pair $pair failed:" >&2
    tail -5 "$log" >&2
    exit 1
  fi
  # "    end to end:    4.48 s, 4.41 CPU-s: 45351 events per CPU-second, 44692 events/s wall"
  # "  raw pipe: 264252 events per CPU-second"; "  touchstream: ... , 85962 triggers; ..."
  local figures
  figures=$(awk -v pair="$pair" -v side="$side" '
      /^ *end to end: / && cpu == "" {
        for (i = 1; i <= NF; i++) {
          if ($i == "events" && $(i + 1) == "per" && $(i + 2) == "CPU-second,") cpu = $(i - 1)
          if ($i == "events/s" && $(i + 1) == "wall") wall = $(i - 1)
        }
      }
      /^ *raw pipe: / && pipe == "" { pipe = $3 }
      /^ *touchstream: .* triggers;/ && triggers == "" {
        for (i = 1; i <= NF; i++) if ($i == "triggers;") triggers = $(i - 1)
      }
      END { if (cpu != "" && wall != "") print pair, side, cpu, wall, (pipe == "" ? 0 : pipe), (triggers == "" ? 0 : triggers) }
    ' "$log")
  if [ -z "$figures" ]; then
    echo "e2e_ab.sh: the $side run of pair $pair printed no end-to-end figure:" >&2
    tail -5 "$log" >&2
    exit 1
  fi
  echo "$figures" >> "$results"
}

for pair in $(seq "$PAIRS"); do
  # A B, then B A: each side runs first in half of the pairs.
  if [ $((pair % 2)) -eq 1 ]; then order="base new"; else order="new base"; fi
  for side in $order; do run "$pair" "$side"; done
  awk -v p="$pair" '$1 == p { cpu[$2] = $3; wall[$2] = $4; pipe[$2] = $5; trig[$2] = $6 }
    END {
      printf "pair %d: events per CPU-second base %d, new %d (%.3f); wall %d, %d events/s (%.3f); raw pipe %d, %d; triggers %d, %d\n",
        p, cpu["base"], cpu["new"], cpu["new"] / cpu["base"], wall["base"], wall["new"],
        wall["new"] / wall["base"], pipe["base"], pipe["new"], trig["base"], trig["new"]
    }' "$results"
done

awk -f "$here/paired_stats.awk" -f <(printf '%s\n' '
  { cpu[$1, $2] = $3; wall[$1, $2] = $4; if ($1 > pairs) pairs = $1 }
  END {
    won = 0; lost = 0
    for (p = 1; p <= pairs; p++) {
      base_cpu[p] = cpu[p, "base"]; new_cpu[p] = cpu[p, "new"]
      base_wall[p] = wall[p, "base"]; new_wall[p] = wall[p, "new"]
      ratio[p] = cpu[p, "new"] / cpu[p, "base"]; wall_ratio[p] = wall[p, "new"] / wall[p, "base"]
      if (ratio[p] > 1) won++
      if (ratio[p] < 1) lost++
    }
    ties = pairs - won - lost
    printf "end to end over %d pairs: events per CPU-second, medians base %d, new %d; median of the pairs'"'"' ratios %.3f; new did more in %d of %d%s (sign test p %.2f)\n",
      pairs, median(base_cpu, pairs), median(new_cpu, pairs), median(ratio, pairs), won, pairs,
      ties ? ", " ties " equal" : "", sign_test(won, won + lost)
    printf "wall-clock events per second, medians base %d, new %d; median of the pairs'"'"' ratios %.3f\n",
      median(base_wall, pairs), median(new_wall, pairs), median(wall_ratio, pairs)
  }') "$results"
