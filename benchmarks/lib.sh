# Shared by the benchmark scripts (sourced): their workspace, the embedded Kafka, /metrics.

# A temporary directory $dir for one script; processes started into $pids are stopped
# (stop_all) and the directory removed when the script exits.
workspace() {
  dir=$(mktemp -d "/tmp/touchstream-$1-XXXXXX")
  pids=()
  trap 'stop_all; rm -rf "$dir"' EXIT
}
# Newest first, each waited for: a `run` stops (its last commit, under exactly_once a transaction)
# while the embedded Kafka it was started after is still up.
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  pids=()
}

# Starts `embedded-kafka` on $dir/config.yaml (its topics; more with "--topic NAME:PARTITIONS"
# arguments); sets $brokers. KAFKA_FAULTS: control commands (README "Fault injection"), one per
# line, applied at start, e.g. "rtt all 30". Exits the script with the broker's error when it
# does not start (a config it refuses, such as a key no section has).
start_kafka() {
  "$BIN" embedded-kafka --config "$dir/config.yaml" "$@" > "$dir/brokers" 2> "$dir/kafka.err" \
    < <(printf '%s\n' "${KAFKA_FAULTS:-}") &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 100); do
    [ -s "$dir/brokers" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  brokers=$(head -1 "$dir/brokers")
  if [ -z "$brokers" ]; then
    echo "the embedded Kafka did not start:" >&2
    tail -5 "$dir/kafka.err" >&2
    exit 1
  fi
}

# Exits the script when `touchstream run` (process $run_pid, its log in $1) is no longer running:
# its errors first (the workspace and its logs go when the script exits), then its last lines. A
# run that refused a setting or crashed would otherwise leave a script waiting out its deadline
# with the error unseen.
check_run() {
  kill -0 "$run_pid" 2>/dev/null && return 0
  echo "touchstream run exited:" >&2
  grep -E ' (ERROR|WARN) ' "$1" | tail -5 >&2 || true
  tail -5 "$1" >&2
  exit 1
}

# The benchmark workload's topics, the input's, changelog's and repartition topic's with $1
# partitions; the changelog is named $2 (default changelog): config lines for e2e.sh, soak.sh
# and restore.sh.
workload_topics() {
  cat <<YAML
topics:
  touchpoints: {name: touchpoints, partitions: $1}
  triggers: {name: triggers, partitions: 6}
  dead_letter: {name: touchpoints-dlq, partitions: 1}
  audit: {name: audit, partitions: 1}
  changelog: {name: ${2:-changelog}, partitions: $1}
  repartition: {name: repartition, partitions: $1}
YAML
}

# The benchmark workload's rules and, with $1 = 1, its policies (quiet hours, caps, a holdout):
# config lines for e2e.sh, soak.sh and restore.sh, from benchmarks/workload.yaml (BM_CommitPath
# reads the same file).
workload_rules() {
  local file
  file="$(dirname "${BASH_SOURCE[0]}")/workload.yaml"
  if [ "$1" = 1 ]; then
    grep -v '^#' "$file"
  else
    local rules
    rules=$(grep -v '^#' "$file" | sed -e 's/, holdout_percent: [0-9]*, on_cap: defer//' -e '/^policies:/,$d')
    if grep -qE 'holdout_percent|on_cap' <<<"$rules"; then
      echo "workload_rules: $file's cart rule no longer reads as expected: the policy keys stay" >&2
      return 1
    fi
    printf '%s\n' "$rules"
  fi
}

# One request to /metrics on $PORT into $scraped (empty if the instance does not answer yet):
# one per poll, however many metrics the poll reads, so that the benchmark's own load on the
# instance stays small.
scrape() { scraped=$(http_get /metrics) || scraped=""; }
# The response (headers and body) to a GET of $1 from the run's HTTP port; fails if it does not
# answer.
http_get() {
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null &&
    printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&3 && cat <&3
}
# CPU-seconds (user + system) of process $1 so far, from the operating system.
cpu_seconds() {
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.3f\n", ($12 + $13) / tck }' "/proc/$1/stat"
}
# CPU-seconds (user + system) of process $1's threads so far by group, as "ROCKSDB RDKAFKA REST":
# RocksDB's background threads (flushes and compactions: its rocksdb:* pools), librdkafka's
# (rdk:main, rdk:broker...), and every other thread (the processing thread among them). Threads
# that have exited are not counted: read it as a split of cpu_seconds, not a sum.
thread_group_cpu_seconds() {
  cat /proc/"$1"/task/*/stat 2> /dev/null | awk -v tck="$(getconf CLK_TCK)" '
    {
      name = $0; sub(/^[^(]*\(/, "", name); sub(/\) [^)]*$/, "", name)
      rest = $0; sub(/.*\) /, "", rest); split(rest, f, " ")
      seconds = (f[12] + f[13]) / tck
      if (name ~ /^rocksdb:/) rocksdb += seconds
      else if (name ~ /^rdk:/) rdkafka += seconds
      else other += seconds
    }
    END { printf "%.3f %.3f %.3f\n", rocksdb, rdkafka, other }'
}
# Minor page faults of process $1 so far (pages first touched, or touched again after the
# allocator returned them to the kernel).
minor_faults() { awk '{ sub(/.*\) /, ""); print $8 }' "/proc/$1/stat"; }
# The sum of a metric's samples in the last scrape (0 if absent).
metric() {
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d\n", sum }' <<<"$scraped"
}

# Prints the median of each column but the first (the run's number) of $1, a file with one line
# per run, named by $2 (comma-separated), then each ratio of two medians given as
# "NUMERATOR_COLUMN:DENOMINATOR_COLUMN:LABEL" (columns counted from 1, the run's number's).
print_medians() {
  local file=$1 names=$2 ratios=""
  shift 2
  if [ $# -gt 0 ]; then ratios=$(printf '%s|' "$@"); fi
  echo "medians of $(wc -l < "$file") runs:"
  awk -v CONVFMT=%.10g -v names="$names" -v ratios="$ratios" '
    { for (k = 2; k <= NF; ++k) v[k, NR] = $k; columns = NF }
    END {
      split(names, name, ",")
      for (k = 2; k <= columns; ++k) {
        n = 0; for (r = 1; r <= NR; ++r) a[++n] = v[k, r]
        for (x = 1; x <= n; ++x) for (y = x + 1; y <= n; ++y) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
        med[k] = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        list = ""; for (r = 1; r <= NR; ++r) list = list (r > 1 ? ", " : "") v[k, r]
        printf "  %s: %s (%s)\n", name[k - 1], med[k], list
      }
      count = split(ratios, ratio, "|")
      for (i = 1; i < count; ++i) {
        split(ratio[i], part, ":")
        printf "  %s: %.3f (ratio of the medians)\n", part[3], med[part[1]] / med[part[2]]
      }
    }' "$file"
}
