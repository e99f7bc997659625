#include "processor/backtest/backtest.h"

#include <istream>
#include <limits>
#include <ostream>
#include <string>

#include "processor/core/partition_task.h"
#include "processor/json/json_lines.h"
#include "processor/policy/policy_stage.h"
#include "processor/rules/rule_registry.h"

namespace touchstream {

namespace {

// Fires the task's due timers chunk by chunk, emitting each chunk's triggers.
template <typename Emit>
Status FireTimerBacklog(PartitionTask& task, TaskOutput& output, const Emit& emit) {
  while (task.timer_backlog()) {
    StatusOr<uint64_t> fired = task.FireDueTimers(output);
    if (!fired.ok()) return fired.status();
    emit();
  }
  return Status::Ok();
}

}  // namespace

BacktestReport RunBacktest(const Config& config, std::istream& in, std::ostream& out,
                           std::ostream& errors, const BacktestOptions& options,
                           MemoryStore* store) {
  MemoryStore own_store;
  TaskSettings settings = MakeTaskSettings(config);
  settings.clock = ClockMode::kEventTime;
  const PolicyStage policy(config.policy, TimeZoneCatalog::System());
  settings.policy = &policy;
  const RuleSet rules = BuildRuleSet(config.rules);
  PartitionTask task(settings, rules, store != nullptr ? *store : own_store);
  // Pure event time: no event is "in the future".
  const TaskTime time{std::numeric_limits<TimeMs>::max() / 2};

  BacktestReport report;
  TaskOutput output;
  auto emit = [&] {
    for (const auto& t : output.triggers) out << ToJsonLine(t.trigger) << "\n";
    report.triggers += output.triggers.size();
    if (options.audit_out != nullptr) {
      for (const auto& a : output.audits) *options.audit_out << ToJsonLine(a) << "\n";
    }
    report.audits += output.audits.size();
    output.Clear();
  };

  v1::TouchpointEvent event;
  std::string line;
  std::string bytes;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (IsBlankOrComment(line)) continue;
    if (Status s = ParseJsonLine(line, &event); !s.ok()) {
      errors << "line " << line_number << ": undecodable: " << s.message() << "\n";
      ++report.rejected;
      continue;
    }
    // The same per-record step as `run`: the line's event as the bytes a
    // producer would send.
    event.SerializeToString(&bytes);
    InputRecord record;  // a file: no CreateTime, no headers
    record.topic = settings.input_topic;
    record.offset = line_number;
    record.key = event.customer_id();
    record.value = bytes;
    StatusOr<RecordOutcome> outcome = task.Process(record, time, output);
    // Timers due before the event fire first, in the task's bounded chunks (as `run` does).
    while (outcome.ok() && outcome->kind == RecordOutcome::Kind::kHeld) {
      if (Status s = FireTimerBacklog(task, output, emit); !s.ok()) {
        outcome = s;
        break;
      }
      task.Rewound(settings.input_topic);
      outcome = task.Process(record, time, output);
    }
    if (!outcome.ok()) {
      errors << "line " << line_number << ": " << outcome.status().message() << "\n";
      ++report.rejected;
      output.Clear();
      continue;
    }
    switch (outcome->kind) {
      case RecordOutcome::Kind::kDeadLettered:
        errors << "line " << line_number << ": " << RejectReasonName(outcome->verdict.reason)
               << ": " << outcome->verdict.detail << "\n";
        ++report.rejected;
        break;
      case RecordOutcome::Kind::kDuplicate:
        ++report.duplicates;
        break;
      default:
        ++report.events;
    }
    output.dead_letters.clear();  // reported above as error lines
    emit();
  }
  if (options.until_ms) {
    Status s = task.AdvanceWatermark(*options.until_ms, output);
    emit();
    if (s.ok()) s = FireTimerBacklog(task, output, emit);
    if (!s.ok()) errors << "advancing to --until: " << s.message() << "\n";
  }
  report.trimmed = task.trims();
  out.flush();
  if (options.audit_out != nullptr) options.audit_out->flush();
  return report;
}

}  // namespace touchstream
