#!/usr/bin/env bash
# End-to-end throughput against two baselines measured in the same run (make bench-e2e).
#
# Each run: a fresh embedded Kafka; `touchstream loadgen` fills `touchpoints` with synthetic
# journeys (consent changes and time zones, UNKEYED_PERCENT of the records without a key, so
# that they reach a random partition and go through the repartition hop); then, one after the
# other on the same topic:
#   1. raw consumer: touchstream_baseline consume (a librdkafka consumer doing no work);
#   2. touchstream run (every rule kind; quiet hours, caps and a holdout unless POLICIES=0);
#   3. raw pipe: touchstream_baseline pipe, producing as many records per event, of the same
#      mean size, as touchstream wrote (triggers, audit, changelog, forwarded records); under
#      GUARANTEE=exactly_once in transactions of as many events as touchstream's commits held.
# CPU-seconds come from the operating system (/proc/PID/stat for `run`, getrusage for the
# baselines), counted from the first record consumed; the broker's CPU is not in them. The
# machine is shared and noisy: read the medians and the ratios measured in the same run. After
# the runs it measures what touching fresh memory costs here (touchstream_baseline touch) and
# estimates the share of each run's CPU that its RSS growth (from its first record to its peak)
# took at that rate: on a virtual machine whose host takes back free memory, first touches cost
# ~25x more than memory just freed. Each run also prints the records `run` fetched from the
# brokers (touchstream_records_fetched_total, from librdkafka's statistics every 500 ms here)
# against the records it read: above 1.00 each is input fetched again (a rewind, a rebalance).
#
# Usage: benchmarks/e2e.sh [EVENTS] [PARTITIONS]      (make bench-e2e)
# RUNS (3): how many runs, each with its own broker; the medians are printed last.
# POLICIES (1), UNKEYED_PERCENT (5): the workload, as above.
# GUARANTEE (at_least_once): processing.guarantee; exactly_once makes each commit a Kafka
#   transaction (the embedded Kafka runs the protocol but does not hide what a transaction wrote
#   before it commits; CPU is comparable, what a read_committed consumer sees is not).
# E2E_CONFIG: extra top-level config lines, e.g. E2E_CONFIG='processing: {max_outbox_records: 1000}'
#   (with GUARANTEE too, put the guarantee in that processing section instead)
# STATE_OPTIONS: extra keys of the state section, e.g. STATE_OPTIONS='write_buffer_bytes: 16777216'
#   or STATE_OPTIONS='memtable_huge_pages: true' (with 2 MiB pages reserved: as root,
#   echo 64 > /proc/sys/vm/nr_hugepages; the peak RSS line then also prints the huge pages `run`
#   held, which RSS leaves out, and the fresh-memory estimate below counts RSS growth only)
# RUN_ARGS: extra arguments of `touchstream run`, e.g. -X fetch.wait.max.ms=10
# TOUCH_MIB (512): how much fresh memory is touched after the runs to measure what memory costs.
# SETTLE_SECONDS (1.5): how long the run's counts must stay still before it is taken as ended.
# PROFILE: a path prefix; each run's `touchstream run` is sampled by `perf record` (DWARF call
#   graphs: the build keeps no frame pointers) from its first record to the end of the run, into
#   PROFILE.RUN.data (read with `perf report -i`). PROFILE_HZ: its sampling rate (250).
# The embedded Kafka keeps about 5 MiB per partition: keep EVENTS/PARTITIONS under ~30,000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
BASELINE=${TOUCHSTREAM_BASELINE_BIN:-$(dirname "$BIN")/touchstream_baseline}
EVENTS=${1:-200000}
PARTITIONS=${2:-8}
RUNS=${RUNS:-3}
POLICIES=${POLICIES:-1}
UNKEYED_PERCENT=${UNKEYED_PERCENT:-5}
GUARANTEE=${GUARANTEE:-at_least_once}
case "$GUARANTEE" in
  at_least_once) processing="" ;;
  exactly_once) processing="processing: {guarantee: exactly_once}" ;;
  *) echo "GUARANTEE must be at_least_once or exactly_once, not '$GUARANTEE'" >&2; exit 2 ;;
esac
if [ -n "$processing" ] && grep -q "processing:" <<<"${E2E_CONFIG:-}"; then
  echo "E2E_CONFIG has a processing section: put 'guarantee: $GUARANTEE' in it instead of GUARANTEE" >&2
  exit 2
fi
PORT=${PORT:-19464}
# The records `run` fetched (touchstream_records_fetched_total) come from librdkafka's statistics,
# every 5 s by default: here every 500 ms, so the count read at the end is the run's.
consumer_section="kafka_consumer: {statistics.interval.ms: 500}"
grep -q "kafka_consumer" <<<"${E2E_CONFIG:-}" && consumer_section=""

source benchmarks/lib.sh
workspace e2e

# Outside the here-document: in one, the braces of a ${...:-...} default are not matched.
state_options=${STATE_OPTIONS:-}
cat > "$dir/config.yaml" <<YAML
$(workload_topics "$PARTITIONS")
state: {dir: $dir/state${state_options:+, $state_options}}
$processing
$consumer_section
${E2E_CONFIG:-}
http: {listen: "127.0.0.1:$PORT"}
$(workload_rules "$POLICIES")
YAML

now() { date +%s.%N; }
# The value of key=value in a line.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
# The most explicit huge pages (state.memtable_huge_pages) `run` held at any poll, KiB: memory
# that VmRSS and VmHWM leave out.
# The most bytes of held records `run` kept in memory at any poll (touchstream_input_kept_bytes,
# bounded by processing.max_held_bytes).
peak_kept() {
  local now
  now=$(metric touchstream_input_kept_bytes)
  [ "${now:-0}" -gt "$kept_bytes" ] && kept_bytes=$now
  return 0
}
peak_hugetlb() {
  local now
  now=$(awk '/^HugetlbPages/ { print $2 }' "/proc/$run_pid/status" 2> /dev/null || true)
  [ "${now:-0}" -gt "$hugetlb_kib" ] && hugetlb_kib=$now
  return 0
}

results="$dir/results"
: > "$results"
for run in $(seq "$RUNS"); do
  rm -rf "$dir/state" "$dir/brokers"
  start_kafka
  echo "run $run/$RUNS: embedded Kafka at $brokers; touchpoints has $PARTITIONS partitions; $GUARANTEE"

  profile_flag=""
  [ "$POLICIES" = 1 ] && profile_flag="--profiles"
  "$BIN" loadgen --brokers "$brokers" --events "$EVENTS" $profile_flag \
    --unkeyed-percent "$UNKEYED_PERCENT" 2>&1 | tail -1
  loaded_at=$(date +%s)  # the input's last CreateTime, to the second or later

  raw=$("$BASELINE" consume --brokers "$brokers" --topic touchpoints --messages "$EVENTS")
  echo "  raw consumer: $(field per_cpu_s "$raw") messages per CPU-second ($(field cpu_s "$raw") CPU-s, $(field wall_s "$raw") s)"

  "$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" ${RUN_ARGS:-} 2> "$dir/run.err" &
  run_pid=$!
  pids+=($run_pid)
  start="" cpu_start="" hugetlb_kib=0 kept_bytes=0
  deadline=$(( $(date +%s) + 600 ))
  while :; do
    scrape
    peak_hugetlb
    peak_kept
    consumed=$(metric touchstream_records_consumed_total)
    if [ -z "$start" ] && [ "$consumed" -gt 0 ]; then
      start=$(now); cpu_start=$(cpu_seconds $run_pid)
      rss_start_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$run_pid/status")
      # Commits before the first record (the group join) are empty: not counted below.
      commits_before=$(metric touchstream_commit_duration_seconds_count)
      commit_s_before=$(awk '$1 == "touchstream_commit_duration_seconds_sum" { print $2 }' <<<"$scraped")
      if [ -n "${PROFILE:-}" ]; then
        perf record -q --call-graph dwarf,16384 -F ${PROFILE_HZ:-250} -p "$run_pid" -o "$PROFILE.$run.data" 2> /dev/null &
        perf_pid=$!
      fi
    fi
    [ "$consumed" -ge "$EVENTS" ] && break
    check_run "$dir/run.err"
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "timed out at $consumed events" >&2; exit 1; fi
    sleep 0.1
  done
  consumed_at=$(now)
  cpu_consumed=$(cpu_seconds $run_pid)
  # Every event applied (forwarded ones at their owner), every timer the input scheduled fired,
  # then every output acknowledged. The input's event times lie in the past, so once a partition
  # has read all of it its clock follows the wall clock (hybrid mode) and fires the timers still
  # pending, in chunks: the run ends when every partition's clock has reached the time the input
  # was written (each timer due by then fired; the gauge is sampled once a second; not checked
  # when E2E_CONFIG makes timers follow event time alone or sets an allowed lateness, whose
  # clocks never get there), no backlog is left, the outbox is empty and the counts of timers
  # popped, triggers emitted and records committed have not moved for SETTLE_SECONDS (1.5: past
  # the default commit interval and the 1 s a commit may wait for the relay; a chunk's triggers
  # are counted before its commit). The end measured is the first poll that saw the outbox empty
  # with those final counts, not the wait.
  check_clocks=1
  grep -qE 'event_time|allowed_lateness' "$dir/config.yaml" && check_clocks=0
  drained_at="" cpu_drained="" seen="" applied_fired="" clocks="" backlog=""
  while :; do
    scrape
    peak_hugetlb
    peak_kept
    applied=$(( $(metric touchstream_events_processed_total) + $(metric touchstream_events_invalid_total) + $(metric touchstream_events_dropped_total) ))
    pending=$(metric touchstream_outbox_pending)
    if [ "$applied" -ge "$EVENTS" ] && [ "$pending" -eq 0 ]; then
      fired="$(metric touchstream_timers_popped_total) $(metric touchstream_triggers_emitted_total) $(metric touchstream_commit_batch_events_sum)"
      if [ "$fired" != "$seen" ]; then
        seen=$fired drained_at=$(now) cpu_drained=$(cpu_seconds $run_pid)
        [ -z "$applied_fired" ] && applied_fired=${fired%% *}
      fi
      clocks=caught-up
      [ "$check_clocks" = 1 ] && clocks=$(awk -v since="$loaded_at" -v n="$PARTITIONS" '
        index($1, "touchstream_partition_watermark_seconds{") == 1 { ++k; if ($NF + 1 < since) behind = 1 }
        END { print (k >= n && !behind) ? "caught-up" : "behind" }' <<<"$scraped")
      backlog=$(metric touchstream_timer_backlog_partitions)
      settled=$(awk -v a="$drained_at" -v b="$(now)" -v s="${SETTLE_SECONDS:-1.5}" 'BEGIN { print (b - a >= s) ? 1 : 0 }')
      [ "$clocks" = caught-up ] && [ "$backlog" -eq 0 ] && [ "$settled" = 1 ] && break
    else
      seen=""
    fi
    check_run "$dir/run.err"
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "timed out waiting for the run to end: $applied of $EVENTS events applied, $pending records in the outbox, partition clocks ${clocks:-not checked yet}, ${backlog:-?} partitions with a timer backlog" >&2
      exit 1
    fi
    sleep 0.1
  done
  catch_up_timers=$(( ${seen%% *} - applied_fired ))
  if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; perf_pid=""; fi
  peak_rss_kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$run_pid/status")
  scrape
  triggers=$(metric touchstream_triggers_emitted_total)
  popped=$(metric touchstream_timers_popped_total)
  rearmed=$(metric touchstream_timers_rearmed_total)
  deferred=$(metric touchstream_triggers_deferred_total)
  forwarded=$(metric touchstream_records_repartitioned_total)
  invalid=$(metric touchstream_events_invalid_total)
  pauses=$(grep -c "pausing input" "$dir/run.err" || true)
  rewinds=$(metric touchstream_input_rewinds_total)
  kept=$(metric touchstream_input_records_kept_total)
  fetched=$(metric touchstream_records_fetched_total)
  commits=$(( $(metric touchstream_commit_duration_seconds_count) - commits_before ))
  commit_s=$(awk -v before="${commit_s_before:-0}" '$1 == "touchstream_commit_duration_seconds_sum" { printf "%.3f", $2 - before }' <<<"$scraped")
  kill "$run_pid"; wait "$run_pid" 2>/dev/null || true
  state_bytes=$(du -sb "$dir/state" | cut -f1)
  # The state goal's measure: the customers' SST bytes after a full compaction, per customer.
  compacted=$("$BIN" state-compact --config "$dir/config.yaml" --sizes 2> /dev/null |
              paste -sd ';' - || echo "state-compact failed")

  out=$("$BASELINE" count --brokers "$brokers" --topic triggers,audit,changelog,repartition,touchpoints-dlq)
  out_records=$(field records "$out")
  out_bytes=$(field value_bytes "$out")
  per_event=$(awk -v r="$out_records" -v n="$EVENTS" 'BEGIN { printf "%.3f", r / n }')
  mean_bytes=$(awk -v b="$out_bytes" -v r="$out_records" 'BEGIN { printf "%d", r ? b / r : 0 }')
  transaction_events=0
  if [ "$GUARANTEE" = exactly_once ]; then
    transaction_events=$(( EVENTS / (commits > 0 ? commits : 1) ))
  fi
  pipe=$("$BASELINE" pipe --brokers "$brokers" --topic touchpoints --messages "$EVENTS" \
    --out pipe-out --records-per-event "$per_event" --record-bytes "$mean_bytes" \
    --transaction-events "$transaction_events")
  transactions=$(field transactions "$pipe")
  stop_all

  awk -v s="$start" -v c="$consumed_at" -v d="$drained_at" -v n="$EVENTS" \
      -v c0="$cpu_start" -v c1="$cpu_consumed" -v c2="$cpu_drained" \
      -v raw="$(field per_cpu_s "$raw")" -v pipe="$(field per_cpu_s "$pipe")" \
      -v t="$triggers" -v f="$forwarded" -v i="$invalid" -v p="$pauses" -v rss="$peak_rss_kib" -v rss0="$rss_start_kib" -v hp="$hugetlb_kib" \
      -v per="$per_event" -v mb="$mean_bytes" -v sb="$state_bytes" -v run="$run" \
      -v commits="$commits" -v rw="${rewinds:-0}" -v kept="${kept:-0}" -v kept_bytes="${kept_bytes:-0}" -v fetched="${fetched:-0}" -v commit_s="${commit_s:-0}" -v te="$transaction_events" -v tx="${transactions:-0}" \
      -v cu="$catch_up_timers" -v popped="${popped:-0}" -v rearmed="${rearmed:-0}" -v deferred="${deferred:-0}" '
  BEGIN {
    consume = n / (c1 - c0); e2e = n / (c2 - c0)
    printf "  touchstream: %d events (%d forwarded, %d invalid), %d triggers; %.2f records out per event, %d bytes each\n", n, f, i, t, per, mb
    printf "    consume phase: %.2f s, %.2f CPU-s: %.0f events per CPU-second\n", c - s, c1 - c0, consume
    printf "    end to end:    %.2f s, %.2f CPU-s: %.0f events per CPU-second, %.0f events/s wall\n", d - s, c2 - c0, e2e, n / (d - s)
    printf "    %d commits, %.0f events each, %.2f s in commits; %d records held and kept in memory, %d input rewinds (held records fetched again)\n", commits, n / (commits ? commits : 1), commit_s, kept, rw
    printf "    %d records fetched from the brokers for the %d read (the input and the forwarded records): %.2f each; held records kept in memory at most %.1f MiB at a poll\n", fetched, n + f, fetched / (n + f), kept_bytes / 1048576
    printf "    %d timer entries popped (%d re-armed: their rule was due later by then), %d triggers deferred by the policies\n", popped, rearmed, deferred
    printf "    %d timer entries popped after the outbox first drained (the clocks catching up to the wall clock), included\n", cu
    printf "    peak RSS %.0f MiB%s, state directory %.0f MiB%s\n", rss / 1024, (hp > 0 ? sprintf(" (and up to %.0f MiB of explicit huge pages)", hp / 1024) : ""), sb / 1048576, (p > 0 ? sprintf(", input paused %d times for the outbox", p) : "")
    printf "  raw pipe: %.0f events per CPU-second%s\n", pipe, (te > 0 ? sprintf(" (%d transactions of %d events)", tx, te) : "")
    printf "  ratios: touchstream end to end / raw consumer %.3f, / raw pipe %.3f\n", e2e / raw, e2e / pipe
    # The peak (VmHWM, updated by the kernel now and then) can read a little below the RSS
    # sampled at the first record when the run grew no further: no growth.
    printf "%d %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", run, consume, e2e, n / (d - s), raw, pipe, rss / 1024, (rss > rss0 ? rss - rss0 : 0) / 1024 >> "/dev/stderr"
  }' 2>> "$results"
  echo "    after a full compaction, $compacted"
done

# What this machine charges for memory (touchstream_baseline touch), once the runs are done (the
# memory it frees would otherwise be cheap for what follows it) and 3 s after the last process
# freed its memory, which goes back to the host then as a virtual machine's does; and what each
# run's peak RSS took at that rate.
sleep 3
touch=$("$BASELINE" touch --mib "${TOUCH_MIB:-512}")
fresh_ms=$(field fresh_ms_per_mib "$touch")
if [ -z "$fresh_ms" ]; then
  echo "touchstream_baseline touch printed no fresh_ms_per_mib: $touch" >&2
  exit 1
fi
echo "fresh memory: $fresh_ms CPU-ms per MiB to touch first, $(field reused_ms_per_mib "$touch") just freed"
awk -v fm="$fresh_ms" -v n="$EVENTS" '
  { cpu = n / $3; est = $8 * fm / 1000; list = list (NR > 1 ? ", " : "") sprintf("%.2f (%.0f %%)", est, 100 * est / cpu) }
  END { printf "each run'"'"'s RSS growth from its first record to its peak, touched at the fresh-memory rate: ~%s CPU-s of its end-to-end CPU (a machine whose memory stays with it pays little of it)\n", list }' "$results"

print_medians "$results" "consume-phase events/CPU-s,end-to-end events/CPU-s,end-to-end events/s wall,raw consumer messages/CPU-s,raw pipe events/CPU-s,peak RSS MiB,RSS growth from the first record MiB" \
  "3:5:end to end / raw consumer" "3:6:end to end / raw pipe"
