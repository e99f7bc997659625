// The oracle of the fault tests: `backtest` of each input partition in offset order, and the
// invariants a run's output must keep against it.
//   I1: every trigger the oracle emits is in the output.
//   I2: no trigger id outside the oracle's set, and every copy of an id is byte-identical.
//   I3: the final per-customer state equals the oracle's (state-dump format).
//   I4 (with policies): every audit record the oracle writes is on the audit topic and the
//       topic has no other; audit records go through the outbox like triggers, so a crash may
//       repeat one, only as an identical copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"

namespace touchstream::testing {

struct Oracle {
  std::map<std::string, std::string> triggers;  // trigger id -> serialized Trigger
  std::string state;                            // JSON lines sorted by customer id
  std::vector<std::string> audits;  // serialized AuditRecords, each partition's in order
};

// `config_yaml`: the sections that decide (`rules`, and `channels`/`policies` if any), as in
// the run's config. `partitions`: serialized TouchpointEvents of each input partition in offset
// order.
Oracle BacktestOracle(const std::string& config_yaml,
                      const std::map<int32_t, std::vector<std::string>>& partitions);

// Every record value of `partitions` partitions of `topic`, by partition in offset order;
// stops after `count` records or 30 s.
std::map<int32_t, std::vector<std::string>> ReadPartitions(const std::string& bootstrap,
                                                           const std::string& topic, int partitions,
                                                           size_t count);

struct DeliveryCheck {
  size_t missing = 0;    // I1 violations
  size_t unknown = 0;    // I2: ids the oracle does not emit
  size_t differing = 0;  // I2: copies that differ from the oracle's bytes
  size_t delivered = 0;
  size_t distinct = 0;
};
DeliveryCheck CheckDelivery(const Oracle& oracle, const std::vector<Record>& records);

struct AuditCheck {
  size_t missing = 0;  // I4: oracle audit records not on the topic
  size_t unknown = 0;  // I4: records the oracle does not write (or that differ from its bytes)
  size_t delivered = 0;
  size_t distinct = 0;
};
// `records`: the audit topic.
AuditCheck CheckAudits(const Oracle& oracle, const std::vector<Record>& records);

// The fault tests' load: `count` journey-generator events (3 journeys/s, 20 s steps) as
// (customer id, serialized TouchpointEvent) pairs, ready for ProduceRaw.
std::vector<std::pair<std::string, std::string>> JourneyLoad(uint64_t seed, int customers,
                                                             size_t count);

// Runs `state-dump --config config_path` every second until it prints `expected`, `timeout`
// passed, or `keep_going` (if given) returns false; returns the last dump.
std::string AwaitState(const std::string& config_path, const std::string& expected,
                       const std::string& log_prefix, std::chrono::seconds timeout,
                       const std::function<bool()>& keep_going = {});

// I1-I3 as test expectations (`dumped`: the final state-dump). On an I3 mismatch the oracle's
// state is written to `dir`/oracle_state.jsonl for comparison.
void ExpectInvariants(const Oracle& oracle, const std::vector<Record>& output,
                      const std::string& dumped, const std::string& dir);

}  // namespace touchstream::testing
