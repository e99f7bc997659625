#!/usr/bin/env bash
# Restore from the changelog and a warm restart (make bench-restore).
#
# A fresh embedded Kafka; `touchstream loadgen` writes EVENTS events (the e2e workload) into
# PARTITIONS partitions; `touchstream run` processes them until every output is acknowledged and
# stops cleanly. Then, on the same changelog:
#   1. raw consumer: touchstream_baseline consume reads every changelog record (no work);
#   2. warm restart: `run` again on the same state directory: each partition's restore reads
#      only the changelog's tail since the last restore and finds the local state current;
#   3. cold restore: `run` on an empty state directory: every partition replays its changelog;
#   4. compacted cold restore: the same from a fully compacted copy of the changelog
#      (`touchstream_baseline compact`: the last record of each key, taken right after the load),
#      with the raw consumer on that copy for its ratio. The embedded Kafka never compacts; a
#      production changelog is compacted but for its active segment and its last
#      min.compaction.lag.ms, so its restore lies between 3 (none) and 4 (all: the best case).
# Each `run` joins a group of its own: the embedded Kafka ignores LeaveGroup, so a successor in
# the same group would first wait out session.timeout.ms (45 s), which a real cluster does not
# (a clean stop leaves the group; static membership keeps the assignment on Kubernetes).
# Timers follow event time (timers.clock: event_time), so that nothing fires while no input
# arrives: the state after the load, after the warm restart and after both cold restores must be
# the same, and the script compares them (`touchstream state-dump`), failing if they differ.
# Times come from the instance's own histogram touchstream_assignment_restore_duration_seconds
# (from the assignment to every partition restored, state.restore_threads partitions at a time),
# customers from its "restored" log lines.
#
# Usage: benchmarks/restore.sh [EVENTS] [PARTITIONS]      (make bench-restore)
# RUNS (3): how many runs, each with its own broker. RUN_ARGS: extra arguments of each `run`.
# CUSTOMERS: loadgen's customer pool (default its own, 100,000).
# PROCESSING: extra keys of each run's processing section, e.g. "commit_max_events: 100".
# RESTORE_THREADS: state.restore_threads of each `run` (default: the processor's, 2).
# STATE: extra keys of each run's state section, e.g. "restore_ingest_customers: 0".
# PROFILE: a path prefix; each cold restore is sampled by `perf record` (DWARF call graphs: the
#   build keeps no frame pointers) into PROFILE.RUN.data, the compacted one into
#   PROFILE.RUN.compacted.data. PROFILE_HZ: its sampling rate (499).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
BASELINE=${TOUCHSTREAM_BASELINE_BIN:-$(dirname "$BIN")/touchstream_baseline}
EVENTS=${1:-200000}
PARTITIONS=${2:-8}
RUNS=${RUNS:-3}
PORT=${PORT:-19466}

source benchmarks/lib.sh
workspace restore

# The config of one instance; $1 names its group, $2 its changelog (default changelog).
write_config() {
  cat > "$dir/config.yaml" <<YAML
consumer: {group_id: $1}
$(workload_topics "$PARTITIONS" "${2:-changelog}")
state: {dir: $dir/state${RESTORE_THREADS:+, restore_threads: $RESTORE_THREADS}${STATE:+, $STATE}}
${PROCESSING:+processing: {$PROCESSING\}}
timers: {clock: event_time}
http: {listen: "127.0.0.1:$PORT"}
$(workload_rules 1)
YAML
}

# Starts `run` (log in $dir/$1.err) and waits until every partition is assigned and restored.
start_run() {
  "$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" ${RUN_ARGS:-} 2> "$dir/$1.err" &
  run_pid=$!
  pids+=($run_pid)
  local perf_pid=""
  if [ -n "${PROFILE:-}" ] && { [ "$1" = cold ] || [ "$1" = compacted ]; }; then
    local data="$PROFILE.$run.data"
    [ "$1" = compacted ] && data="$PROFILE.$run.compacted.data"
    perf record -q --call-graph dwarf,16384 -F ${PROFILE_HZ:-499} -p "$run_pid" -o "$data" 2> /dev/null &
    perf_pid=$!
  fi
  local deadline=$(( $(date +%s) + 300 ))
  while :; do
    scrape
    [ "$(metric touchstream_assigned_partitions)" -ge "$PARTITIONS" ] &&
      [ "$(metric touchstream_restoring_partitions)" -eq 0 ] && break
    check_run "$dir/$1.err"
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "$1: not ready in 300 s" >&2; tail -5 "$dir/$1.err" >&2; exit 1; fi
    sleep 0.1
  done
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
}
stop_run() { kill "$run_pid"; wait "$run_pid" 2>/dev/null || true; }
# The stopped instance's customer states into $dir/$1.dump; fails unless they equal the load's.
dump_state() {
  "$BIN" state-dump --config "$dir/config.yaml" > "$dir/$1.dump"
  if [ "$1" != load ] && ! cmp -s "$dir/load.dump" "$dir/$1.dump"; then
    echo "the state after the $1 run differs from the state after the load:" >&2
    diff "$dir/load.dump" "$dir/$1.dump" | head -5 >&2
    exit 1
  fi
}
# The sum of the restore durations so far, in seconds, from the last scrape.
# The time from each assignment to its partitions restored (state.restore_threads at once); a
# build without that histogram restored one partition after another: the sum of theirs.
restore_seconds() {
  awk '$1 == "touchstream_assignment_restore_duration_seconds_sum" { a = $2; seen = 1 }
       $1 == "touchstream_restore_duration_seconds_sum" { p = $2 }
       END { printf "%.3f\n", seen ? a : p }' <<<"$scraped"
}

# The value of key $1 in $2, a line of key=value pairs (touchstream_baseline's output).
field() { tr ' ' '\n' <<<"$2" | awk -F= -v key="$1" '$1 == key { print $2 }'; }
# A cold restore by instance $1 (group restore-$1) into an empty state directory from changelog
# $2, its state checked; sets restored_seconds, restored_records and restored_customers.
cold_restore() {
  rm -rf "$dir/state"
  write_config "restore-$1" "$2"
  start_run "$1"
  restored_seconds=$(restore_seconds)
  restored_records=$(metric touchstream_restore_records_total)
  restored_customers=$(awk '/ restored .* customers, / { for (i = 1; i <= NF; ++i) if ($(i + 1) == "customers,") n += $i } END { print n + 0 }' "$dir/$1.err")
  stop_run
  dump_state "$1"
}

results="$dir/results"
: > "$results"
for run in $(seq "$RUNS"); do
  rm -rf "$dir/state" "$dir/brokers"
  write_config restore-load
  start_kafka --topic "changelog-compacted:$PARTITIONS"
  echo "run $run/$RUNS: embedded Kafka at $brokers; $PARTITIONS partitions"
  "$BIN" loadgen --brokers "$brokers" --events "$EVENTS" --profiles ${CUSTOMERS:+--customers "$CUSTOMERS"} 2>&1 | tail -1

  start_run load
  deadline=$(( $(date +%s) + 600 ))
  while :; do
    scrape
    applied=$(( $(metric touchstream_events_processed_total) + $(metric touchstream_events_invalid_total) + $(metric touchstream_events_dropped_total) ))
    [ "$applied" -ge "$EVENTS" ] && [ "$(metric touchstream_outbox_pending)" -eq 0 ] && break
    check_run "$dir/load.err"
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "timed out at $applied events applied" >&2; exit 1; fi
    sleep 0.2
  done
  stop_run
  dump_state load

  # Each tool's output first (a failing tool stops the script), then its field.
  out=$("$BASELINE" count --brokers "$brokers" --topic changelog)
  records=$(field records "$out")
  out=$("$BASELINE" consume --brokers "$brokers" --topic changelog --messages "$records")
  raw_wall=$(field wall_s "$out")
  out=$("$BASELINE" compact --brokers "$brokers" --topic changelog --out changelog-compacted)
  compacted=$(field kept "$out")
  out=$("$BASELINE" consume --brokers "$brokers" --topic changelog-compacted --messages "$compacted")
  raw_compacted_wall=$(field wall_s "$out")

  write_config restore-warm
  start_run warm
  warm=$(restore_seconds)
  warm_records=$(metric touchstream_restore_records_total)
  stop_run
  dump_state warm

  cold_restore cold changelog
  cold=$restored_seconds cold_records=$restored_records customers=$restored_customers
  cold_restore compacted changelog-compacted
  compacted_seconds=$restored_seconds compacted_records=$restored_records
  compacted_customers=$restored_customers
  stop_all

  awk -v r="$records" -v rw="$raw_wall" -v w="$warm" -v wr="$warm_records" -v c="$cold" \
      -v cr="$cold_records" -v cu="$customers" -v p="$PARTITIONS" -v run="$run" \
      -v k="$compacted" -v kw="$raw_compacted_wall" -v kc="$compacted_seconds" \
      -v kr="$compacted_records" -v ku="$compacted_customers" '
  BEGIN {
    # A small topic can be read within the clock resolution.
    if (rw < 0.000001) rw = 0.000001
    if (kw < 0.000001) kw = 0.000001
    printf "  changelog: %d records; raw consumer reads them in %.2f s: %.0f records/s\n", r, rw, r / rw
    printf "  compacted copy: %d records; raw consumer reads them in %.2f s: %.0f records/s\n", k, kw, k / kw
    printf "  the state after the warm restart and after both cold restores equals the state after the load\n"
    printf "  warm restart: %d partitions ready in %.3f s (%d tail records read)\n", p, w, wr
    printf "  cold restore: %d customers, %d records read in %.2f s: %.0f customers/s, %.0f records/s\n", cu, cr, c, cu / c, cr / c
    printf "  ratio: cold restore records/s / raw consumer records/s %.3f\n", (cr / c) / (r / rw)
    printf "  compacted cold restore: %d customers, %d records read in %.2f s: %.0f customers/s, %.0f records/s\n", ku, kr, kc, ku / kc, kr / kc
    printf "  ratio: compacted cold restore records/s / raw consumer records/s (the copy) %.3f\n", (kr / kc) / (k / kw)
    printf "%d %.0f %.0f %.3f %.0f %.0f %.0f %.0f\n", run, cu / c, cr / c, w, r / rw, ku / kc, kr / kc, k / kw >> "/dev/stderr"
  }' 2>> "$results"
done

print_medians "$results" "cold restore customers/s,cold restore records/s,warm restart seconds,raw consumer records/s,compacted cold restore customers/s,compacted cold restore records/s,raw consumer records/s on the copy" \
  "3:5:cold restore records/s / raw consumer records/s" \
  "7:8:compacted cold restore records/s / raw consumer records/s on the copy"
