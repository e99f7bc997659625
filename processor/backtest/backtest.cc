#include "processor/backtest/backtest.h"

#include <istream>
#include <limits>
#include <ostream>
#include <string>

#include "processor/core/pipeline.h"
#include "processor/json/json_lines.h"
#include "processor/rules/rule_registry.h"

namespace touchstream {

BacktestReport RunBacktest(const Config& config, std::istream& in, std::ostream& out,
                           std::ostream& errors, const BacktestOptions& options,
                           MemoryStore* store) {
  MemoryStore own_store;
  MemoryStore& state = store != nullptr ? *store : own_store;
  const RuleSet rules = BuildRuleSet(config.rules);
  PartitionPipeline pipeline(rules, state, config.allowed_lateness_ms, config.dedup);
  const EventValidator validator(config.validation);
  // Pure event time: no event is "in the future".
  const TimeMs no_wall_clock = std::numeric_limits<TimeMs>::max() / 2;

  BacktestReport report;
  std::vector<v1::Trigger> triggers;
  auto emit = [&] {
    for (const auto& t : triggers) out << ToJsonLine(t) << "\n";
    report.triggers += triggers.size();
    triggers.clear();
  };

  v1::TouchpointEvent event;
  std::string line;
  uint64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (IsBlankOrComment(line)) continue;
    if (Status s = ParseJsonLine(line, &event); !s.ok()) {
      errors << "line " << line_number << ": undecodable: " << s.message() << "\n";
      ++report.rejected;
      continue;
    }
    Verdict verdict = validator.Validate(event, no_wall_clock);
    if (!verdict.ok()) {
      errors << "line " << line_number << ": " << RejectReasonName(verdict.reason) << ": "
             << verdict.detail << "\n";
      ++report.rejected;
      continue;
    }
    if (Status s = pipeline.Process(event, triggers); !s.ok()) {
      errors << "line " << line_number << ": " << s.message() << "\n";
      ++report.rejected;
      continue;
    }
    ++report.events;
    emit();
  }
  report.duplicates = pipeline.duplicates();
  report.events -= report.duplicates;
  if (options.until_ms) {
    if (Status s = pipeline.AdvanceWatermark(*options.until_ms, triggers); !s.ok()) {
      errors << "advancing to --until: " << s.message() << "\n";
    }
    emit();
  }
  out.flush();
  return report;
}

}  // namespace touchstream
