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
# "Flat" is the verdict the benchmark's goal asks for: over the samples of the last 5 minutes (of
# the last DURATION / 2 seconds, if shorter than 10 minutes), the highest RSS sample is within 5 %
# of the lowest.
# Over the same window, the steady state's cost: the run's events per CPU-second (user + system)
# and its minor page faults per second, and the share of its threads' CPU that RocksDB's flushes
# and compactions, librdkafka and the processing thread (with the rest) took; and the work the
# events made besides their own, per event: timer entries popped, triggers sent, and triggers the
# policies deferred and suppressed. loadgen's event times start 30 days back and the run's timers
# follow the wall clock once it is caught up (timers.clock: hybrid), so every absence timer an
# event arms is already due, and the customer's next event arms it again: the soak's events make
# ~4 times the timer work and send ~3 times the triggers of the e2e run's, where a later event
# postpones a customer's timers before their compressed event time comes and what is left fires
# once, when the caught-up clocks reach the wall clock at the end (RESULTS.md, "Fortieth session"
# under the soak).
# A run of 10 minutes or more also prints each 5-minute window's range, to tell a level reached
# late from one held throughout.
#
# Steady load over a fixed customer set: first a warm-up (WARM_UP=1, the default) puts every
# customer of the pool in the store, one page view each (`loadgen --first-visits`) at WARM_UP_RATE,
# and waits until the run applied them; the measured run starts after it. Without the warm-up the
# journeys' random customers keep arriving all run long (~40 % of a million-customer pool by
# the end), so the caches fill for the whole run and no second half can be flat.
#
# Usage: benchmarks/soak.sh      (make bench-soak; all settings from the environment)
# SECONDS_TO_RUN (600), RATE (5000), CUSTOMERS (1000000), SAMPLE (10), PARTITIONS (8),
# WARM_UP (1; 0: none), WARM_UP_RATE (20000), STALL_SECONDS (60: the warm-up fails after that long
# without progress)
# ALLOCATOR_REPORT: a path prefix (relative to the repository's root); the run's allocator report
# (GET /debug/allocator: jemalloc's statistics by size class) is saved as PREFIX.start when the
# measured run starts and PREFIX.end when its load ends, to see where resident memory above the
# allocated bytes goes.
# STATE_OPTIONS: extra keys of the state section, e.g. STATE_OPTIONS='cache_bytes: 67108864' or
#   STATE_OPTIONS='memtable_huge_pages: true' (the directory stays the script's own).
# SOAK_CONFIG: extra top-level config lines, e.g. SOAK_CONFIG='timers: {clock: event_time}' (the
#   state section's keys go in STATE_OPTIONS).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
DURATION=${SECONDS_TO_RUN:-600}
RATE=${RATE:-5000}
CUSTOMERS=${CUSTOMERS:-1000000}
SAMPLE=${SAMPLE:-10}
PARTITIONS=${PARTITIONS:-8}
PORT=${PORT:-19465}
WARM_UP=${WARM_UP:-1}
WARM_UP_RATE=${WARM_UP_RATE:-20000}
STALL_SECONDS=${STALL_SECONDS:-60}
ALLOCATOR_REPORT=${ALLOCATOR_REPORT:-}

source benchmarks/lib.sh
workspace soak

if grep -qE '^[[:space:]]*state:' <<<"${SOAK_CONFIG:-}"; then
  echo "SOAK_CONFIG has a state section: put its keys in STATE_OPTIONS instead" >&2
  exit 2
fi
# Outside the here-document: in one, the braces of a ${...:-...} default are not matched.
state_options=${STATE_OPTIONS:-}
cat > "$dir/config.yaml" <<YAML
$(workload_topics "$PARTITIONS")
state: {dir: $dir/state${state_options:+, $state_options}}
${SOAK_CONFIG:-}
http: {listen: "127.0.0.1:$PORT", allocator_endpoint: true}
$(workload_rules 1)
YAML

start_kafka
"$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" 2> "$dir/run.err" &
run_pid=$!
pids+=($run_pid)

rss_mib() { echo $(( $(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status") / 1024 )); }
# The events applied as of the last scrape.
applied_total() {
  echo $(( $(metric touchstream_events_processed_total) + $(metric touchstream_events_invalid_total) ))
}

if [ "$WARM_UP" != 0 ]; then
  echo "warm-up: one page view by each of $CUSTOMERS customers at $WARM_UP_RATE/s"
  warm_start=$(date +%s)
  "$BIN" loadgen --brokers "$brokers" --events "$CUSTOMERS" --customers "$CUSTOMERS" \
    --rate "$WARM_UP_RATE" --seed 1 --profiles --first-visits > "$dir/warmup.out" 2> "$dir/warmup.err" ||
    { echo "warm-up loadgen failed:" >&2; tail -5 "$dir/warmup.err" >&2; exit 1; }
  # Until the run applied them; a run alive but no longer applying (a stalled broker, a full
  # disk) fails the soak after STALL_SECONDS without progress.
  scrape
  last_applied=-1 stalled=0
  while [ "$(applied_total)" -lt "$CUSTOMERS" ]; do
    check_run "$dir/run.err"
    now_applied=$(applied_total)
    if [ "$now_applied" -gt "$last_applied" ]; then last_applied=$now_applied stalled=0; fi
    stalled=$((stalled + 1))
    if [ "$stalled" -gt "$STALL_SECONDS" ]; then
      echo "warm-up: the run applied nothing for $STALL_SECONDS s ($now_applied of $CUSTOMERS)" >&2
      exit 1
    fi
    sleep 1
    scrape
  done
  echo "warm-up: $CUSTOMERS applied after $(( $(date +%s) - warm_start )) s; RSS $(rss_mib) MiB," \
    "write-back cache $(( $(metric touchstream_state_cache_bytes) / 1048576 )) MiB"
  base_applied=$(applied_total)
else
  base_applied=0
fi

# Saves the run's allocator report as $ALLOCATOR_REPORT.$1, if asked for; the body only.
save_allocator_report() {
  [ -n "$ALLOCATOR_REPORT" ] || return 0
  local response
  response=$(http_get /debug/allocator) || response=""
  if [[ "$response" != "HTTP/1."?" 200 "* ]]; then
    echo "no allocator report from the run: ${response%%$'\r'*}" >&2
    return 0
  fi
  sed '1,/^\r\{0,1\}$/d' <<<"$response" > "$ALLOCATOR_REPORT.$1" ||
    echo "cannot write the allocator report to $ALLOCATOR_REPORT.$1" >&2
}

events=$((RATE * DURATION))
echo "soak: $events events at $RATE/s over $CUSTOMERS customers, $DURATION s, $PARTITIONS partitions"
"$BIN" loadgen --brokers "$brokers" --events "$events" --customers "$CUSTOMERS" --rate "$RATE" \
  --profiles > "$dir/loadgen.out" 2> "$dir/loadgen.err" &
loadgen_pid=$!
pids+=($loadgen_pid)

save_allocator_report start

samples="$dir/samples"
: > "$samples"
printf '%8s %8s %8s %10s %8s %10s %8s %10s %10s\n' "seconds" "RSS MiB" "cache" "memtables" \
  "blocks" "allocated" "active" "alloc-res" "applied"
start=$(date +%s)
while kill -0 "$loadgen_pid" 2>/dev/null; do
  sleep "$SAMPLE"
  # Samples under load only: once loadgen is done the run goes idle and frees memory.
  kill -0 "$loadgen_pid" 2>/dev/null || break
  check_run "$dir/run.err"
  elapsed=$(( $(date +%s) - start ))
  rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status")
  scrape
  applied=$(( $(applied_total) - base_applied ))
  mib() { echo $(( $(metric "$1") / 1048576 )); }
  row=("$elapsed" "$((rss_kib / 1024))" "$(mib touchstream_state_cache_bytes)"
       "$(mib touchstream_rocksdb_memtable_bytes)" "$(mib touchstream_rocksdb_block_cache_usage_bytes)"
       "$(mib 'touchstream_allocator_bytes{state="allocated"}')"
       "$(mib 'touchstream_allocator_bytes{state="active"}')"
       "$(mib 'touchstream_allocator_bytes{state="resident"}')" "$applied")
  printf '%8d %8d %8d %10d %8d %10d %8d %10d %10d\n' "${row[@]}"
  echo "$elapsed $rss_kib $(cpu_seconds "$run_pid") $(minor_faults "$run_pid") $applied" \
    "$(thread_group_cpu_seconds "$run_pid")" "$(metric touchstream_timers_popped_total)" \
    "$(metric touchstream_triggers_emitted_total)" "$(metric touchstream_triggers_deferred_total)" \
    "$(metric touchstream_triggers_suppressed_total)" >> "$samples"
done
wait "$loadgen_pid" || { echo "loadgen failed:" >&2; tail -5 "$dir/loadgen.err" >&2; exit 1; }

# Once the load ended: the run is idle, its caches still full.
save_allocator_report end

# The verdict's window: the last 5 minutes, or the second half of a shorter run.
window=$(( DURATION >= 600 ? 300 : DURATION / 2 ))
awk -v duration="$DURATION" -v window="$window" '
  function range(from, to,    i, n, lo, hi) {
    for (i = 1; i <= count; i++) {
      if (t[i] < from || t[i] >= to) continue
      n++; if (lo == "" || rss[i] < lo) lo = rss[i]; if (rss[i] > hi) hi = rss[i]
    }
    if (n == 0) return ""
    return sprintf("%d samples: RSS %.0f to %.0f MiB, spread %.1f %%", n, lo / 1024, hi / 1024,
                   (hi - lo) / lo * 100) SUBSEP (hi - lo) / lo * 100
  }
  # Sets first and last to the first and last samples at or after `from`; false unless two.
  function bounds(from,    i) {
    first = last = 0
    for (i = 1; i <= count; i++) if (t[i] >= from) { if (!first) first = i; last = i }
    return first && last != first
  }
  # The run'"'"'s CPU and page faults between the window'"'"'s first and last samples (bounds), and
  # how the CPU splits between RocksDB'"'"'s background threads, librdkafka'"'"'s and the rest.
  function cost(    r, k, o, groups) {
    if (cpu[last] == cpu[first]) return ""
    r = rocksdb[last] - rocksdb[first]; k = rdkafka[last] - rdkafka[first]
    o = other[last] - other[first]
    if (r + k + o > 0) {
      groups = sprintf("; of its threads\047 CPU-seconds, RocksDB\047s flushes and compactions %.1f %%, " \
                       "librdkafka %.1f %%, the processing thread and the rest %.1f %%",
                       r / (r + k + o) * 100, k / (r + k + o) * 100, o / (r + k + o) * 100)
    }
    return sprintf("%.1fK events per CPU-second, %.0f minor page faults per second%s",
                   (applied[last] - applied[first]) / (cpu[last] - cpu[first]) / 1000,
                   (faults[last] - faults[first]) / (t[last] - t[first]), groups)
  }
  # What the events of the window (bounds) made the run do besides applying them, per event
  # applied.
  function work(    n) {
    n = applied[last] - applied[first]
    if (n <= 0) return ""
    return sprintf("%.2f timer entries popped, %.2f triggers sent, %.2f deferred and %.2f " \
                   "suppressed by the policies", (popped[last] - popped[first]) / n,
                   (sent[last] - sent[first]) / n, (deferred[last] - deferred[first]) / n,
                   (suppressed[last] - suppressed[first]) / n)
  }
  {
    count++; t[count] = $1; rss[count] = $2; cpu[count] = $3; faults[count] = $4
    applied[count] = $5; rocksdb[count] = $6; rdkafka[count] = $7; other[count] = $8
    popped[count] = $9; sent[count] = $10; deferred[count] = $11; suppressed[count] = $12
  }
  END {
    if (duration >= 600) {
      for (from = 0; from < t[count]; from += 300) {
        to = from + 300 < t[count] ? from + 300 : t[count] + 1  # the last one up to the end
        r = range(from, to)
        if (r != "") printf "%d-%d s (%s)\n", from, (to > t[count] ? t[count] : to),
                            substr(r, 1, index(r, SUBSEP) - 1)
      }
    }
    r = range(t[count] - window, t[count] + 1)
    if (r == "") { print "no samples in the last " window " s"; exit 1 }
    split(r, parts, SUBSEP)
    printf "last %d s (%s): %s\n", window, parts[1], (parts[2] <= 5 ? "flat" : "NOT flat")
    if (!bounds(t[count] - window)) exit
    c = cost()
    if (c != "") printf "last %d s: %s\n", window, c
    w = work()
    if (w != "") printf "last %d s, per event applied: %s\n", window, w
  }' "$samples"
