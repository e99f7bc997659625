#!/usr/bin/env bash
# A paired comparison of two builds on the in-process benchmarks (make bench-ab).
#
# This machine's speed drifts by tens of percent within minutes, more than most changes to the
# commit path move it, so two builds measured one after the other tell little. This runs the two
# `touchstream_bench` binaries in turn, in the order A B B A A B B A ..., so that a drift during
# the set weighs on both alike, and compares each pair: the new build's CPU time per iteration
# over the base build's (Google Benchmark's CPU time: the whole process's, background threads
# included, for a benchmark measured with MeasureProcessCPUTime such as BM_CommitPath, else the
# benchmark thread's), and the same for real time, after one discarded warm-up run of each. It
# prints every pair, then per benchmark the median ratio, in how many pairs the new build used
# less CPU, and a two-sided sign test's p-value for that count (the
# chance of a split at least that uneven between two equal builds; pairs of equal CPU times are
# left out of it). The noise is large: one build
# against itself, 8 pairs of BM_CommitPath, gave pair ratios from 0.78 to 1.06, a median of 0.974
# and 6 of 8 "won" (p 0.29): a difference of a few percent needs many pairs (RESULTS.md).
#
# Usage: benchmarks/ab.sh BASE_BENCH NEW_BENCH [PAIRS]      (make bench-ab BASE=...)
# BASE_BENCH, NEW_BENCH: two touchstream_bench binaries (e.g. the current build's and one built
#   from an older commit: git worktree add /tmp/base COMMIT; cmake -S /tmp/base -B /tmp/base/b
#   -DCMAKE_BUILD_TYPE=RelWithDebInfo; cmake --build /tmp/base/b --target touchstream_bench).
# PAIRS (8): how many pairs.
# FILTER (BM_CommitPath/stored_outbox:1): the benchmarks (--benchmark_filter).
# MIN_TIME (1): --benchmark_min_time of each run, in seconds.
set -euo pipefail
source "$(dirname "$0")/paired_args.sh"
paired_args 8 "$@"
FILTER=${FILTER:-BM_CommitPath/stored_outbox:1}
MIN_TIME=${MIN_TIME:-1}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results
: > "$results"
# One run of `$1`: "name cpu real" per benchmark into $work/run (times in the benchmark's unit;
# both builds run the same benchmark, so the unit cancels in the ratio). A run that fails, or
# matches no benchmark, ends the comparison with its error.
run() {
  if ! "$1" --benchmark_filter="$FILTER" --benchmark_min_time="$MIN_TIME" \
    --benchmark_format=csv > "$work/csv" 2> "$work/err"; then
    echo "ab.sh: $1 failed:" >&2
    tail -5 "$work/err" >&2
    exit 1
  fi
  # Rows with an error (error_occurred) have no times.
  awk -F, 'NR > 1 && $1 != "" && $3 > 0 && $4 > 0 { gsub(/"/, "", $1); print $1, $4, $3 }' \
    "$work/csv" > "$work/run"
  if [ ! -s "$work/run" ]; then
    echo "ab.sh: $1 ran no benchmark matching '$FILTER'" >&2
    exit 1
  fi
}

# One unmeasured run of each build first. On a virtual machine, memory the guest has never
# used costs ~1.8 ms per MiB to touch the first time (the host backs it), against 0.06-0.17 ms
# once it has been used and freed (RESULTS.md, "Thirty-first session"): without this, whichever
# build ran first on a fresh machine paid for its peak RSS at that rate.
run "$BASE"
run "$NEW"

for pair in $(seq "$PAIRS"); do
  # A B, then B A: each build runs first in half of the pairs.
  if [ $((pair % 2)) -eq 1 ]; then order="base new"; else order="new base"; fi
  for which in $order; do
    if [ "$which" = base ]; then bin=$BASE; else bin=$NEW; fi
    run "$bin"
    awk -v p="$pair" -v w="$which" '{ print p, w, $0 }' "$work/run" >> "$results"
  done
  awk -v p="$pair" '$1 == p {
      t[$3, $2, "cpu"] = $4; t[$3, $2, "real"] = $5; names[$3] = 1 }
    END {
      for (n in names) {
        if (!((n, "base", "cpu") in t) || !((n, "new", "cpu") in t)) {
          printf "ab.sh: %s ran in one build only\n", n > "/dev/stderr"
          exit 1
        }
        printf "pair %d %s: base %.1f, new %.1f CPU (%.3f); real %.1f, %.1f (%.3f)\n",
          p, n, t[n, "base", "cpu"], t[n, "new", "cpu"], t[n, "new", "cpu"] / t[n, "base", "cpu"],
          t[n, "base", "real"], t[n, "new", "real"], t[n, "new", "real"] / t[n, "base", "real"]
      }
    }' "$results"
done

# Per benchmark: the median of the pairs' ratios, and the pairs the new build won on CPU.
awk -f "$(dirname "$0")/paired_stats.awk" -f <(printf '%s\n' '{ t[$1, $3, $2, "cpu"] = $4; t[$1, $3, $2, "real"] = $5; names[$3] = 1; if ($1 > pairs) pairs = $1 }
  END {
    for (n in names) {
      won = 0; lost = 0
      for (p = 1; p <= pairs; p++) {
        cpu[p] = t[p, n, "new", "cpu"] / t[p, n, "base", "cpu"]
        real[p] = t[p, n, "new", "real"] / t[p, n, "base", "real"]
        if (cpu[p] < 1) won++
        if (cpu[p] > 1) lost++
      }
      ties = pairs - won - lost
      printf "%s: new / base over %d pairs, median CPU %.3f, real %.3f; new used less CPU in %d of %d%s (sign test p %.2f)\n",
        n, pairs, median(cpu, pairs), median(real, pairs), won, pairs,
        ties ? ", " ties " equal" : "", sign_test(won, won + lost)
    }
  }') "$results"
