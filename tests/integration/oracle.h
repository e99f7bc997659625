// The oracle of the fault tests: `backtest` of each input partition in offset order, and the
// invariants a run's output must keep against it.
//   I1: every trigger the oracle emits is in the output.
//   I2: no trigger id outside the oracle's set, and every copy of an id is byte-identical.
//   I3: the final per-customer state equals the oracle's (state-dump format).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace touchstream::testing {

struct Oracle {
  std::map<std::string, std::string> triggers;  // trigger id -> serialized Trigger
  std::string state;                            // JSON lines sorted by customer id
};

// `partitions`: serialized TouchpointEvents of each input partition in offset order.
Oracle BacktestOracle(const std::string& rules_yaml,
                      const std::map<int32_t, std::vector<std::string>>& partitions);

// Every record value of `partitions` partitions of `topic`, by partition in offset order;
// stops after `count` records or 30 s.
std::map<int32_t, std::vector<std::string>> ReadPartitions(const std::string& bootstrap,
                                                           const std::string& topic,
                                                           int partitions, size_t count);

struct DeliveryCheck {
  size_t missing = 0;    // I1 violations
  size_t unknown = 0;    // I2: ids the oracle does not emit
  size_t differing = 0;  // I2: copies that differ from the oracle's bytes
  size_t delivered = 0;
  size_t distinct = 0;
};
DeliveryCheck CheckDelivery(const Oracle& oracle, const std::vector<Record>& records);

}  // namespace touchstream::testing
