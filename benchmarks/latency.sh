#!/usr/bin/env bash
# Produce → event-caused trigger latency through the embedded Kafka (make bench-latency).
#
# One embedded Kafka and one `touchstream run` (a reward window opened by OFFER_ACCEPTED, the
# policies on: quiet hours, which the reward window ignores, and a cap); once it is ready,
# touchstream_latency produces OFFER_ACCEPTED events for fresh customers at each rate in RATES
# for SECONDS and times every REWARD_WINDOW_OPENED trigger from the event's produce call to its
# arrival at a consumer of the trigger topic. Each window also fires a reminder 10 s and an
# expiry 20 s after it opens: their timer fire delay (due time → trigger committed) comes from
# the run's own histogram (touchstream_timer_fire_delay_seconds).
#
# Usage: benchmarks/latency.sh
# RATES ("1000 5000 10000"), STEP_SECONDS (10): each rate for that long, after a 3 s warm-up at
# 500 events/s (the first seconds after the assignment are slower and are not reported).
# PARTITIONS (8).
# COMMIT_INTERVAL (the processing.commit_interval under test; default 100ms, the product's).
# RUN_ARGS: extra arguments of `touchstream run`, e.g. -X fetch.wait.max.ms=10
# PRODUCER_LINGER_MS (0): the measuring producer's linger.ms (touchstream_latency --linger-ms).
# MISROUTED_PERCENT (0): this share of the events goes to the partition after its owner, so that
# `run` forwards it through the repartition topic; their latency is printed on a line of its own.
# GUARANTEE (at_least_once): processing.guarantee. Under exactly_once each commit is a Kafka
# transaction; the embedded Kafka shows a transaction's records before it commits, so the
# latency measured leaves out the commit's last step (EndTxn), which a read_committed consumer
# of a real cluster waits for: the commit durations printed at the end bound it.
# TIMER_WAIT (22): seconds to wait after the last step for its timers (0: the delays reported
# are the earlier steps' only).
# DEBUG_HIST=1: also print the run's poll → commit and event time → commit histograms.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
LATENCY=${TOUCHSTREAM_LATENCY_BIN:-$(dirname "$BIN")/touchstream_latency}
RATES=${RATES:-1000 5000 10000}
SECONDS_EACH=${STEP_SECONDS:-10}
PARTITIONS=${PARTITIONS:-8}
COMMIT_INTERVAL=${COMMIT_INTERVAL:-100ms}
PORT=${PORT:-19465}
GUARANTEE=${GUARANTEE:-at_least_once}
case "$GUARANTEE" in
  at_least_once | exactly_once) ;;
  *) echo "GUARANTEE must be at_least_once or exactly_once, not '$GUARANTEE'" >&2; exit 2 ;;
esac

source benchmarks/lib.sh
workspace latency

cat > "$dir/config.yaml" <<YAML
topics:
  touchpoints: {name: touchpoints, partitions: $PARTITIONS}
  triggers: {name: triggers, partitions: 6}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
state: {dir: $dir/state}
processing: {commit_interval: $COMMIT_INTERVAL, guarantee: $GUARANTEE}
http: {listen: "127.0.0.1:$PORT"}
rules:
  spring_offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED}
    duration: 20s
    reminder_before: 10s
    quiet_hours: ignore
policies:
  quiet_hours: {start: "21:00", end: "08:00"}
  caps:
    - {max: 3, per: 1d}
YAML

metrics() {
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3
}

start_kafka
"$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" ${RUN_ARGS:-} 2> "$dir/run.err" &
pids+=($!)
for _ in $(seq 300); do
  assigned=$( (metrics 2>/dev/null || true) | awk '$1 == "touchstream_assigned_partitions" { print $2 }')
  [ "${assigned:-0}" != 0 ] && break
  sleep 0.1
done
if [ "${assigned:-0}" = 0 ]; then
  echo "touchstream run was not assigned a partition within 30 s:" >&2
  tail -20 "$dir/run.err" >&2
  exit 1
fi
echo "embedded Kafka at $brokers; touchstream run ready ($GUARANTEE, commit_interval $COMMIT_INTERVAL${RUN_ARGS:+, $RUN_ARGS}$([ "${MISROUTED_PERCENT:-0}" != 0 ] && echo ", $MISROUTED_PERCENT % misrouted"))"
echo "produce → REWARD_WINDOW_OPENED at the consumer, ms:"
"$LATENCY" --brokers "$brokers" --rate 500 --seconds 3 --run-id warmup > /dev/null
step=0
for rate in $RATES; do
  step=$((step + 1))  # fresh customers and event ids in each step
  lines=$("$LATENCY" --brokers "$brokers" --rate "$rate" --seconds "$SECONDS_EACH" \
          --linger-ms "${PRODUCER_LINGER_MS:-0}" --misrouted-percent "${MISROUTED_PERCENT:-0}" \
          --run-id "s$step") || {
    echo "  rate $rate: not every trigger arrived: $lines" >&2
    exit 1
  }
  sed 's/^/  /' <<<"$lines"
done
sleep "${TIMER_WAIT:-22}"  # the last events' reminders (+10 s) and expiries (+20 s) fire
echo "timer fire delay (due → trigger committed) of the reminders and expiries, cumulative buckets:"
(metrics || true) | awk '/^touchstream_timer_fire_delay_seconds_(bucket|count)/ { printf "  %s %s\n", $1, $2 }'
if [ "${MISROUTED_PERCENT:-0}" != 0 ]; then
  echo "records forwarded through the repartition topic: $( (metrics || true) | awk '$1 == "touchstream_records_repartitioned_total" { print $2 }')"
fi
if [ "$GUARANTEE" = exactly_once ]; then
  echo "commit durations (a commit that wrote anything includes its transaction; idle ones too), cumulative buckets:"
  (metrics || true) | awk '/^touchstream_commit_duration_seconds_(bucket|count)/ { printf "  %s %s\n", $1, $2 }'
fi
if [ -n "${DEBUG_HIST:-}" ]; then
  (metrics || true) | grep -E "^touchstream_(event_to_trigger_latency|processing_latency)_seconds_(bucket|count)" || true
fi
