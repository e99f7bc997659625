#!/usr/bin/env bash
# Memory under steady load (make bench-soak): is RSS flat once the working set is in memory?
#
# A fresh embedded Kafka; `touchstream run` (every rule kind, the policies on); `touchstream
# loadgen` producing RATE events per second over a fixed pool of CUSTOMERS for SECONDS. The
# embedded Kafka keeps only ~5 MiB per partition, so `run` consumes as loadgen produces. Every
# SAMPLE seconds: the run's RSS (/proc/PID/status VmRSS) and where it goes, in MiB: the write-back
# cache's estimate (touchstream_state_cache_bytes, bounded by state.cache_bytes), RocksDB's
# memtables and block cache, the allocator's allocated and resident bytes (touchstream_allocator_
# bytes: resident - allocated is what jemalloc keeps beyond what the program holds); and the
# events applied so far.
# "Flat" is the verdict the benchmark's goal asks for: over the last half of the run, the
# highest RSS sample is within 5 % of the lowest.
#
# Usage: benchmarks/soak.sh      (make bench-soak; all settings from the environment)
# SECONDS_TO_RUN (600), RATE (5000), CUSTOMERS (1000000), SAMPLE (10), PARTITIONS (8)
# SOAK_CONFIG: extra top-level config lines, e.g. SOAK_CONFIG='state: {cache_bytes: 67108864}'
# (then `state.dir` must be given there too: the script's own state line is replaced).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
DURATION=${SECONDS_TO_RUN:-600}
RATE=${RATE:-5000}
CUSTOMERS=${CUSTOMERS:-1000000}
SAMPLE=${SAMPLE:-10}
PARTITIONS=${PARTITIONS:-8}
PORT=${PORT:-19465}

source benchmarks/lib.sh
workspace soak

# Outside the here-document: in one, the braces of a ${...:-...} default are not matched.
default_state="state: {dir: $dir/state}"
state_config=${SOAK_CONFIG:-$default_state}
cat > "$dir/config.yaml" <<YAML
$(workload_topics "$PARTITIONS")
$state_config
http: {listen: "127.0.0.1:$PORT"}
$(workload_rules 1)
YAML

start_kafka
"$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" 2> "$dir/run.err" &
run_pid=$!
pids+=($run_pid)
events=$((RATE * DURATION))
echo "soak: $events events at $RATE/s over $CUSTOMERS customers, $DURATION s, $PARTITIONS partitions"
"$BIN" loadgen --brokers "$brokers" --events "$events" --customers "$CUSTOMERS" --rate "$RATE" \
  --profiles > "$dir/loadgen.out" 2> "$dir/loadgen.err" &
loadgen_pid=$!
pids+=($loadgen_pid)

samples="$dir/samples"
: > "$samples"
printf '%8s %8s %8s %10s %8s %10s %10s %10s\n' "seconds" "RSS MiB" "cache" "memtables" "blocks" \
  "allocated" "alloc-res" "applied"
start=$(date +%s)
while kill -0 "$loadgen_pid" 2>/dev/null; do
  sleep "$SAMPLE"
  # Samples under load only: once loadgen is done the run goes idle and frees memory.
  kill -0 "$loadgen_pid" 2>/dev/null || break
  if ! kill -0 "$run_pid" 2>/dev/null; then
    # Its errors first (the workspace and its logs go when the script exits), then its last lines.
    echo "run exited:" >&2
    grep -E ' (ERROR|WARN) ' "$dir/run.err" | tail -5 >&2 || true
    tail -5 "$dir/run.err" >&2
    exit 1
  fi
  scrape
  elapsed=$(( $(date +%s) - start ))
  rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status")
  mib() { echo $(( $(metric "$1") / 1048576 )); }
  applied=$(( $(metric touchstream_events_processed_total) + $(metric touchstream_events_invalid_total) ))
  row=("$elapsed" "$((rss_kib / 1024))" "$(mib touchstream_state_cache_bytes)"
       "$(mib touchstream_rocksdb_memtable_bytes)" "$(mib touchstream_rocksdb_block_cache_usage_bytes)"
       "$(mib 'touchstream_allocator_bytes{state="allocated"}')"
       "$(mib 'touchstream_allocator_bytes{state="resident"}')" "$applied")
  printf '%8d %8d %8d %10d %8d %10d %10d %10d\n' "${row[@]}"
  echo "$elapsed $rss_kib" >> "$samples"
done
wait "$loadgen_pid" || { echo "loadgen failed:" >&2; tail -5 "$dir/loadgen.err" >&2; exit 1; }

awk -v half="$((DURATION / 2))" '
  $1 >= half { n++; if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
  END {
    if (n == 0) { print "no samples in the second half"; exit 1 }
    spread = (max - min) / min * 100
    printf "second half (%d samples): RSS %.0f to %.0f MiB, spread %.1f %%: %s\n",
           n, min / 1024, max / 1024, spread, (spread <= 5 ? "flat" : "NOT flat")
  }' "$samples"
