#!/usr/bin/env bash
# End-to-end throughput: `touchstream loadgen` fills the embedded Kafka with synthetic
# journeys, then one `touchstream run` (every rule kind, default settings) consumes them;
# reported: events/s from the first consumed record to the last, and the time until every
# trigger and changelog record is acknowledged (outbox empty).
#
# Usage: benchmarks/e2e.sh [EVENTS] [PARTITIONS]      (make bench-e2e)
# E2E_CONFIG: extra top-level config lines, e.g. E2E_CONFIG='processing: {max_outbox_records: 1000}'
# RUN_ARGS: extra arguments of `touchstream run`, e.g. -X fetch.wait.max.ms=10
# The embedded Kafka keeps about 5 MiB per partition: keep EVENTS/PARTITIONS under ~30,000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOUCHSTREAM_BIN:-build/touchstream}
EVENTS=${1:-200000}
PARTITIONS=${2:-8}
PORT=${PORT:-19464}

dir=$(mktemp -d /tmp/touchstream-e2e-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

cat > "$dir/config.yaml" <<YAML
topics:
  touchpoints: {name: touchpoints, partitions: $PARTITIONS}
  triggers: {name: triggers, partitions: 6}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
state: {dir: $dir/state}
${E2E_CONFIG:-}
http: {listen: "127.0.0.1:$PORT"}
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
  win_back: {kind: win_back, tiers: [7d, 14d], require_purchase: false}
  spring_offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED}
    duration: 72h
    reminder_before: 24h
YAML

# The sum of a metric's samples in /metrics (0 if absent).
metric() {
  local body
  body=$({ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null &&
         printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3) || { echo 0; return; }
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d\n", sum }' <<<"$body"
}
now() { date +%s.%N; }

"$BIN" embedded-kafka --config "$dir/config.yaml" > "$dir/brokers" 2> "$dir/kafka.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/brokers" ] && break; sleep 0.1; done
brokers=$(head -1 "$dir/brokers")
echo "embedded Kafka at $brokers; touchpoints has $PARTITIONS partitions"

"$BIN" loadgen --brokers "$brokers" --events "$EVENTS" 2>&1 | tail -1

"$BIN" run --config "$dir/config.yaml" -X "bootstrap.servers=$brokers" ${RUN_ARGS:-} 2> "$dir/run.err" &
pids+=($!)
start=""
deadline=$(( $(date +%s) + 600 ))
while :; do
  consumed=$(metric touchstream_records_consumed_total)
  if [ -z "$start" ] && [ "$consumed" -gt 0 ]; then start=$(now); fi
  [ "$consumed" -ge "$EVENTS" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then echo "timed out at $consumed events" >&2; exit 1; fi
  sleep 0.05
done
consumed_at=$(now)
while [ "$(metric touchstream_outbox_pending)" -gt 0 ]; do sleep 0.05; done
drained_at=$(now)

triggers=$(metric touchstream_triggers_emitted_total)
pauses=$(grep -c "pausing input" "$dir/run.err" || true)
if [ "$pauses" -gt 0 ]; then
  echo "input paused $pauses times for the outbox backlog (processing.max_outbox_*)"
fi
invalid=$(metric touchstream_events_invalid_total)
awk -v s="$start" -v c="$consumed_at" -v d="$drained_at" -v n="$EVENTS" -v t="$triggers" -v i="$invalid" 'BEGIN {
  printf "processed %d events in %.2f s: %.0f events/s (%d triggers, %d invalid)\n", n, c - s, n / (c - s), t, i
  printf "outbox empty %.2f s after the last event: %.0f events/s end to end\n", d - c, n / (d - s)
}'
