#include "tests/integration/oracle.h"

#include <set>
#include <sstream>

#include "processor/backtest/backtest.h"
#include "processor/json/json_lines.h"
#include "trigger.pb.h"

namespace touchstream::testing {

Oracle BacktestOracle(const std::string& rules_yaml,
                      const std::map<int32_t, std::vector<std::string>>& partitions) {
  Oracle oracle;
  std::map<std::string, std::string> states;
  for (const auto& [partition, values] : partitions) {
    std::stringstream in, out, errors;
    for (const std::string& value : values) {
      v1::TouchpointEvent e;
      if (!e.ParseFromString(value)) continue;  // run dead-letters it; no trigger, no state
      in << ToJsonLine(e) << "\n";
    }
    MemoryStore store;
    RunBacktest(ParseConfig(rules_yaml, "rules"), in, out, errors, {}, &store);
    for (const auto& [id, state] : store.customers()) {
      if (state.first_seen_ms() != 0) states[id] = ToJsonLine(state);
    }
    std::string line;
    while (std::getline(out, line)) {
      v1::Trigger t;
      if (ParseJsonLine(line, &t).ok()) oracle.triggers[t.trigger_id()] = t.SerializeAsString();
    }
  }
  for (const auto& [id, line] : states) oracle.state += line + "\n";
  return oracle;
}

DeliveryCheck CheckDelivery(const Oracle& oracle, const std::vector<Record>& records) {
  DeliveryCheck check;
  std::set<std::string> seen;
  for (const Record& r : records) {
    v1::Trigger t;
    if (!t.ParseFromString(r.value)) {
      ++check.unknown;
      continue;
    }
    seen.insert(t.trigger_id());
    auto it = oracle.triggers.find(t.trigger_id());
    if (it == oracle.triggers.end()) {
      ++check.unknown;
    } else if (it->second != r.value) {
      ++check.differing;
    }
  }
  for (const auto& [id, bytes] : oracle.triggers) check.missing += seen.count(id) == 0;
  check.delivered = records.size();
  check.distinct = seen.size();
  return check;
}

}  // namespace touchstream::testing
