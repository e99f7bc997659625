# Shared by the benchmark scripts (sourced): their workspace, the embedded Kafka, /metrics.

# A temporary directory $dir for one script; processes started into $pids are stopped
# (stop_all) and the directory removed when the script exits.
workspace() {
  dir=$(mktemp -d "/tmp/touchstream-$1-XXXXXX")
  pids=()
  trap 'stop_all; rm -rf "$dir"' EXIT
}
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

# Starts `embedded-kafka` on $dir/config.yaml (its topics); sets $brokers. KAFKA_FAULTS: control
# commands (README "Fault injection"), one per line, applied at start, e.g. "rtt all 30".
start_kafka() {
  "$BIN" embedded-kafka --config "$dir/config.yaml" > "$dir/brokers" 2> "$dir/kafka.err" \
    < <(printf '%s\n' "${KAFKA_FAULTS:-}") &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$dir/brokers" ] && break; sleep 0.1; done
  brokers=$(head -1 "$dir/brokers")
}

# The benchmark workload's rules and, with $1 = 1, its policies (quiet hours, caps, a holdout):
# config lines for e2e.sh and soak.sh.
workload_rules() {
  cat <<YAML
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h$([ "$1" = 1 ] && echo ", holdout_percent: 10, on_cap: defer")}
  win_back: {kind: win_back, tiers: [7d, 14d], require_purchase: false}
  spring_offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED}
    duration: 72h
    reminder_before: 24h
YAML
  if [ "$1" = 1 ]; then
    cat <<YAML
policies:
  quiet_hours: {start: "21:00", end: "08:00"}
  caps:
    - {max: 1, per: 1h, rules: [cart_1h]}
    - {max: 3, per: 1d}
YAML
  fi
}

# One request to /metrics on $PORT into $scraped (empty if the instance does not answer yet):
# one per poll, however many metrics the poll reads, so that the benchmark's own load on the
# instance stays small.
scrape() {
  scraped=$({ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null &&
            printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3) || scraped=""
}
# The sum of a metric's samples in the last scrape (0 if absent).
metric() {
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d\n", sum }' <<<"$scraped"
}
