#!/usr/bin/env bash
# The scaling tables (make bench-full): per-event cost against the customers stored, and end-to-end
# throughput against the input's partition count.
#
# 1. Customers: touchstream_bench's BM_PipelineScaling (in-process on RocksDB, one partition's
#    default write-back cache: 100K, 1M and 10M customers stored, 500,000 events applied).
# 2. Partitions: benchmarks/e2e.sh with EVENTS events (default 40,000: the embedded Kafka keeps
#    ~5 MiB per partition, so one partition cannot hold much more) into 1, 2, 4, 8 and 16
#    partitions, one run each (RUNS to change), its end-to-end events per CPU-second and the raw
#    consumer's messages per CPU-second from the same run.
#
# Usage: benchmarks/scaling.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
BENCH=${TOUCHSTREAM_BENCH_BIN:-$(dirname "$BIN")/touchstream_bench}
EVENTS=${1:-40000}
PARTITION_COUNTS=${PARTITION_COUNTS:-1 2 4 8 16}

echo "per-event cost against the customers stored (BM_PipelineScaling):"
"$BENCH" --benchmark_filter=BM_PipelineScaling --benchmark_counters_tabular=true

echo "end to end against the input's partitions ($EVENTS events, e2e.sh):"
printf '%10s %22s %22s %18s\n' partitions "events per CPU-second" "raw consumer msgs/CPU-s" "events/s wall"
for partitions in $PARTITION_COUNTS; do
  out=$(RUNS=${RUNS:-1} TOUCHSTREAM_BIN="$BIN" benchmarks/e2e.sh "$EVENTS" "$partitions")
  awk -v p="$partitions" '
    /end-to-end events\/CPU-s:/ { e2e = $3 }
    /raw consumer messages\/CPU-s:/ { raw = $4 }
    /end-to-end events\/s wall:/ { wall = $4 }
    END { printf "%10d %22s %22s %18s\n", p, e2e, raw, wall }' <<<"$out"
done
