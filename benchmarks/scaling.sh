#!/usr/bin/env bash
# The scaling tables (make bench-full): per-event cost against the customers stored, and end-to-end
# throughput against the input's partition count.
#
# 1. Customers: touchstream_bench's BM_PipelineScaling (in-process on RocksDB, one partition's
#    default write-back cache: 100K, 1M and 10M customers stored, 500,000 events applied).
# 2. Partitions: benchmarks/e2e.sh into 1, 2, 4, 8 and 16 partitions with EVENTS events (default
#    100,000), at most 25,000 per partition (the embedded Kafka keeps ~5 MiB per partition: the
#    rows with fewer partitions get fewer events), one run each (RUNS to change): its end-to-end
#    events per CPU-second and the raw consumer's messages per CPU-second from the same run. A
#    row that fails is reported as failed and the table goes on.
#
# Usage: benchmarks/scaling.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
BENCH=${TOUCHSTREAM_BENCH_BIN:-$(dirname "$BIN")/touchstream_bench}
EVENTS=${1:-100000}
PARTITION_COUNTS=${PARTITION_COUNTS:-1 2 4 8 16}

echo "per-event cost against the customers stored (BM_PipelineScaling):"
"$BENCH" --benchmark_filter=BM_PipelineScaling --benchmark_counters_tabular=true

echo "end to end against the input's partitions (e2e.sh):"
printf '%10s %8s %22s %22s %18s\n' partitions events "events per CPU-second" "raw consumer msgs/CPU-s" "events/s wall"
for partitions in $PARTITION_COUNTS; do
  events=$(( EVENTS < 25000 * partitions ? EVENTS : 25000 * partitions ))
  if ! out=$(RUNS=${RUNS:-1} TOUCHSTREAM_BIN="$BIN" benchmarks/e2e.sh "$events" "$partitions" 2>&1); then
    printf '%10d %8d %22s\n' "$partitions" "$events" "failed"
    continue
  fi
  awk -v p="$partitions" -v n="$events" '
    /end-to-end events\/CPU-s:/ { e2e = $3 }
    /raw consumer messages\/CPU-s:/ { raw = $4 }
    /end-to-end events\/s wall:/ { wall = $4 }
    END { printf "%10d %8d %22s %22s %18s\n", p, n, e2e, raw, wall }' <<<"$out"
done
