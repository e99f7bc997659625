// The integration tests' common setup: a `touchstream` config written from one skeleton, the
// embedded Kafka started with its topics, and `touchstream run` instances of one consumer group
// started, stopped and killed by name. Every test that runs `touchstream run` against the
// embedded Kafka builds on it; what a test varies is a field of ClusterConfig.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"

namespace touchstream::testing {

// Rule sets the fault tests share, as `rules:` sections. kOfferRule goes after kCart2mRules.
inline constexpr char kCart2mRules[] = R"(
rules:
  cart_2m:
    kind: cart_abandonment
    delay: 2m
)";
inline constexpr char kCart1hRules[] = R"(
rules:
  cart_1h:
    kind: cart_abandonment
    delay: 1h
)";
inline constexpr char kOfferRule[] = R"(  offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED}
    duration: 5m
    reminder_before: 2m
)";

// The parts of a test's config that tests vary. Each string is the body of a YAML flow mapping
// ("key: value, key: value") unless it says otherwise; the skeleton around them is:
//   topics: touchpoints (`partitions`[, `touchpoints`]), triggers (1), touchpoints-dlq (1)
//           [, `changelog`]
//   consumer: {group_id}  processing: {...}  [timers: {...}]  http: {...}
//   kafka_consumer: {...}  `extra`  `rules`  state: {dir: <state_root>/state-<name>[, state]}
struct ClusterConfig {
  std::string group_id;
  int partitions = 1;       // of the input topic
  std::string touchpoints;  // more keys of the input topic, e.g. "schema_ids: [12, 13]"
  // A changelog topic to list, with `partitions` partitions; empty: not listed (its default
  // name is <group_id>-customers-changelog).
  std::string changelog;
  std::string processing = "commit_interval: 20ms, commit_max_events: 500";
  std::string timers = "clock: event_time";  // empty: no timers section
  std::string http = "listen: \"\"";
  std::string kafka_consumer =
      "fetch.wait.max.ms: 20, session.timeout.ms: 6000, heartbeat.interval.ms: 500";
  std::string state;       // state keys after `dir`, e.g. "min_free_bytes: 16777216"
  std::string state_root;  // the directory of the state directories; empty: the test's TempDir
  std::string extra;       // more top-level YAML (whole lines), e.g. a validation section
  std::string rules;       // the `rules:` section (YAML lines); the oracle takes the same
};

// The config file `config` describes with `state_dir` as its state directory.
std::string ConfigYaml(const ClusterConfig& config, const std::string& state_dir);

// Whether the embedded Kafka reads fault commands on stdin (EmbeddedKafkaProcess::Control).
enum class FaultChannel { kNo, kYes };

// An embedded Kafka and the `touchstream run` instances of one group on it, all below `dir`.
// Starts the broker in the constructor (check started()); the destructor stops every instance
// still running (SIGTERM, then SIGKILL), then the broker. Owned by one thread.
class Cluster {
 public:
  // `brokers` > 1 needs the fault channel (EmbeddedKafkaProcess's constructors).
  Cluster(const TempDir& dir, ClusterConfig config, FaultChannel faults = FaultChannel::kNo,
          int brokers = 1);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // False when the embedded Kafka did not print its bootstrap address.
  bool started() const { return !kafka_->bootstrap().empty(); }
  const std::string& bootstrap() const { return kafka_->bootstrap(); }
  EmbeddedKafkaProcess& kafka() { return *kafka_; }
  const ClusterConfig& config() const { return config_; }

  // Writes `<name>.yaml` (this cluster's config, state directory state-<name>); returns its
  // path. The same name always gives the same file and state directory.
  std::string Config(const std::string& name) const;
  // Writes `<file>.yaml` from `config` with state directory state-<state>; returns its path.
  std::string WriteConfig(const std::string& file, const std::string& state,
                          const ClusterConfig& config) const;

  // Starts `touchstream run --config Config(name) -X bootstrap.servers=...` as instance `name`.
  ChildProcess& Start(const std::string& name);
  // The same with another config file (e.g. two instances on one state directory, one after
  // the other) and `env` (VAR=value) set for it. An earlier instance of the name must have
  // been stopped or killed. Its log is `<dir>/<name>-<launch number>.{out,err}`.
  ChildProcess& Run(const std::string& name, const std::string& config_path,
                    const std::vector<std::string>& env = {});
  // A running (or exited, not yet stopped) instance; the name must have been started.
  ChildProcess& operator[](const std::string& name) { return *running_.at(name); }
  // SIGTERM, expecting exit code 0; the instance's stderr joins finished_logs().
  void Stop(const std::string& name);
  // SIGKILL (a crash); the instance's stderr joins finished_logs().
  void Kill(const std::string& name);
  // The stderr of every instance stopped or killed so far, in that order.
  const std::vector<std::string>& finished_logs() const { return finished_logs_; }

  // Waits up to `timeout` until instance `name`'s stderr contains `needle`.
  bool WaitForLog(const std::string& name, const std::string& needle,
                  std::chrono::milliseconds timeout);

  // Produces (key, value) records to the input topic, partitioned by key (ProduceRaw).
  void Produce(const std::vector<std::pair<std::string, std::string>>& key_values);
  // ConsumeAll on partition 0 of `topic` of this cluster.
  std::vector<Record> Consume(const std::string& topic, size_t count,
                              std::chrono::milliseconds timeout,
                              std::chrono::milliseconds settle = std::chrono::seconds(2));
  // The input topic's values by partition, up to `count` records (ReadPartitions).
  std::map<int32_t, std::vector<std::string>> ReadInput(size_t count);

  // AwaitState on Config(name), with the dumps' log under `<dir>/dump`.
  std::string AwaitState(const std::string& name, const std::string& expected,
                         std::chrono::seconds timeout,
                         const std::function<bool()>& keep_going = {});
  // How every fault test ends: instance `last`, the one left owning every partition, is given
  // `timeout` to dump the oracle's state; the triggers topic is read (the oracle's count, 30 s,
  // then 1 s for extra copies); `last` is stopped (exit code 0) and I1-I3 are checked. Returns
  // the triggers read.
  std::vector<Record> ExpectOracleFrom(const std::string& last, const Oracle& oracle,
                                       std::chrono::seconds timeout,
                                       const std::function<bool()>& keep_going = {});

 private:
  // Constant after construction.
  const TempDir& dir_;
  const ClusterConfig config_;
  std::unique_ptr<EmbeddedKafkaProcess> kafka_;  // declared before the instances: outlives them

  // Mutable state.
  std::map<std::string, std::unique_ptr<ChildProcess>> running_;
  std::vector<std::string> finished_logs_;
  int launches_ = 0;
};

// Part `i` of `parts` nearly equal consecutive parts of `records`; the last part takes the
// remainder.
std::vector<std::pair<std::string, std::string>> Part(
    const std::vector<std::pair<std::string, std::string>>& records, size_t i, size_t parts);

// Sends a fault command to the embedded Kafka (FaultChannel::kYes); anything but an "ok ..."
// reply fails the assertion that wraps it. Echoes the command and the reply.
::testing::AssertionResult Applied(EmbeddedKafkaProcess& kafka, const std::string& command);

// How many values `partitions` holds in all.
size_t RecordCount(const std::map<int32_t, std::vector<std::string>>& partitions);

}  // namespace touchstream::testing
