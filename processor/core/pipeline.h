// The pure core of one input partition (Kafka Streams' processor + punctuator). It owns the
// partition's event-time clock and drives rules over a PartitionStore. The same class runs
// under `touchstream run` (RocksDB store, Kafka around it), `backtest` and unit tests.
//
// Time: the watermark is max event time seen − allowed_lateness, and never moves back. Before
// an event is applied, every timer due at or before the watermark that event produces fires,
// in (due time, customer id, rule id) order. AdvanceWatermark moves it without an event (idle
// partitions in hybrid mode, `backtest --until`).
//
// State limits: after an event is applied (aggregate and rules), the customer's state is trimmed
// to the StateLimits (core/state_limits.h), so no stored state outgrows them.
#pragma once

#include <limits>
#include <unordered_map>
#include <vector>

#include "processor/core/event_dedup.h"
#include "processor/core/partition_store.h"
#include "processor/core/rule.h"
#include "processor/core/state_limits.h"

namespace touchstream {

inline constexpr TimeMs kNoTime = std::numeric_limits<TimeMs>::min();

// Owned by the thread that drives the partition.
class PartitionPipeline {
 public:
  // `rules` and `store` must outlive the pipeline. Input dedup is off unless `dedup` says.
  PartitionPipeline(const RuleSet& rules, PartitionStore& store, DurationMs allowed_lateness_ms,
                    DedupPolicy dedup = {}, StateLimits limits = {});

  // Resumes the clock from a checkpoint.
  void RestoreClock(TimeMs max_event_time_ms, TimeMs watermark_ms);

  // Applies one valid event; appends the triggers it causes (timer-fired ones first) to `out`.
  // An event whose id was applied to the customer within the dedup horizon is skipped (only
  // counted in duplicates()). Errors come from the store; the event is then not applied.
  Status Process(const v1::TouchpointEvent& event, std::vector<v1::Trigger>& out);

  // Moves the watermark to `watermark_ms` if that is later, firing what comes due.
  Status AdvanceWatermark(TimeMs watermark_ms, std::vector<v1::Trigger>& out);

  TimeMs watermark_ms() const { return watermark_ms_; }
  TimeMs max_event_time_ms() const { return max_event_time_ms_; }
  // Events skipped as duplicates since construction.
  uint64_t duplicates() const { return duplicates_; }
  // Timer index entries popped since construction (fired, or found stale).
  uint64_t timers_fired() const { return timers_fired_; }
  // State entries trimmed to the limits since construction.
  const TrimCounts& trims() const { return trims_; }

 private:
  Status FireDueTimers(std::vector<v1::Trigger>& out);
  Status Erase(const std::string& customer_id);
  // Keeps the timer index in step with a rule state whose due time may have changed.
  void SyncTimer(const std::string& customer_id, const std::string& rule_id, TimeMs old_due,
                 TimeMs new_due);
  void Complete(const Rule& rule, const CustomerState& customer, std::vector<Emission>& emitted,
                std::vector<v1::Trigger>& out) const;

  // Constant after construction (the rule set must not change while the pipeline lives).
  const RuleSet* rules_;
  std::unordered_map<std::string, const Rule*> rules_by_id_;
  PartitionStore* store_;
  const DurationMs allowed_lateness_ms_;
  const DedupPolicy dedup_;
  const StateLimits limits_;

  TimeMs max_event_time_ms_ = kNoTime;
  TimeMs watermark_ms_ = kNoTime;
  uint64_t duplicates_ = 0;
  uint64_t timers_fired_ = 0;
  TrimCounts trims_;
  std::vector<Emission> scratch_;  // reused across calls
};

// Fills a trigger's customer summary from the aggregate.
void FillSummary(const CustomerState& customer, v1::CustomerSummary& summary);

}  // namespace touchstream
