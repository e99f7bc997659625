// The pure core of one input partition (Kafka Streams' processor + punctuator). It owns the
// partition's event-time clock and drives rules over a PartitionStore. The same class runs
// under `touchstream run` (RocksDB store, Kafka around it), `backtest` and unit tests.
//
// Time: the watermark is max event time seen − allowed_lateness, and never moves back. Before
// an event is applied, every timer due at or before the watermark that event produces fires,
// in (due time, customer id, rule id) order. AdvanceWatermark moves it without an event (idle
// partitions in hybrid mode, `backtest --until`). A rule's index entry follows a due time that
// moves later lazily (processor/core/rule_timer.h): popped early, it is re-armed, not fired.
//
// Timers fire in bounded chunks: at most `max_timers_per_step` per call (0: no bound), never
// splitting one customer's timers due at the same instant, so that a partition whose clock
// jumped (downtime, a clock step, an event far ahead) does not fire millions of timers in one
// step with no poll in between. While timers due are left (timer_backlog()), an event is not
// applied (Process says kTimersFirst): the caller fires the rest with FireDueTimers, committing
// and polling in between, and then processes the event again. The order of everything fired
// and applied is the same as without a bound.
//
// The policy stage (processor/policy/policy_stage.h), when set, decides every trigger before it
// is returned: one customer's triggers of one instant together (timer-fired ones and released
// deferrals as one group, an event's as another). Triggers it holds back are not returned; its
// audit records wait in audits() for the caller.
//
// Erasure (core/erasure_memory.h): an ERASURE_REQUEST erases the customer (kErased; the caller
// withdraws the customer's output not yet committed) and, with a hash key, remembers it; an
// event the memory holds is dropped (kDroppedErased).
//
// State limits: after an event is applied (aggregate and rules), the customer's state is trimmed
// to the StateLimits (core/state_limits.h), so no stored state outgrows them.
#pragma once

#include <limits>
#include <unordered_map>
#include <vector>

#include "processor/core/erasure_memory.h"
#include "processor/core/event_dedup.h"
#include "processor/core/partition_store.h"
#include "processor/core/rule.h"
#include "processor/core/state_limits.h"
#include "processor/policy/policy_stage.h"

namespace touchstream {

inline constexpr TimeMs kNoTime = std::numeric_limits<TimeMs>::min();

// What Process did with an event.
enum class EventStep {
  kApplied,      // applied (or skipped as a duplicate)
  kTimersFirst,  // not applied: timers due before it are left (timer_backlog()); fire them,
                 // then process the event again
  kErased,       // an erasure request, carried out
  // An erasure request dated at or before the erasure the customer's state remembers (a
  // redelivery, or an older request): the customer came back after that erasure, and what they
  // did since (their opt-outs too) is not the request's to erase. Audited, nothing erased.
  kErasureRepeated,
  kDroppedErased,  // dropped: the customer was erased after this event's time
};

// Owned by the thread that drives the partition.
class PartitionPipeline {
 public:
  // `rules` and `store` must outlive the pipeline. Input dedup is off unless `dedup` says.
  // `max_timers_per_step`: the chunk bound (0: none).
  PartitionPipeline(const RuleSet& rules, PartitionStore& store, DurationMs allowed_lateness_ms,
                    DedupPolicy dedup = {}, StateLimits limits = {},
                    size_t max_timers_per_step = 0);

  // Resumes the clock from a checkpoint.
  void RestoreClock(TimeMs max_event_time_ms, TimeMs watermark_ms);

  // Turns the policy stage on (before the first event); `policy` must outlive the pipeline.
  // Off: every trigger is returned as the rules made it.
  void SetPolicy(const PolicyStage* policy) { policy_ = policy; }
  // Sets how erasures are remembered (before the first event); `privacy` must outlive the
  // pipeline. Unset: erasures erase, and are not remembered.
  void SetPrivacy(const PrivacySettings* privacy) { privacy_ = privacy; }
  // The wall clock staleness is measured against (policies.max_trigger_age); nullopt: none.
  void SetWallClock(std::optional<TimeMs> wall_clock_ms) { wall_clock_ms_ = wall_clock_ms; }
  // Audit records of the policy stage's decisions since the caller last cleared them.
  std::vector<v1::AuditRecord>& audits() { return audits_; }
  // Events whose time zone the catalog does not know, since construction.
  uint64_t unknown_timezones() const { return unknown_timezones_; }

  // Applies one valid event; appends the triggers it causes (timer-fired ones first) to `out`.
  // An event whose id was applied to the customer within the dedup horizon is skipped (only
  // counted in duplicates()). kTimersFirst: a chunk of the timers due before it fired (their
  // triggers are in `out`), the event is not applied yet. Errors come from the store; the event
  // is then not applied.
  StatusOr<EventStep> Process(const v1::TouchpointEvent& event, std::vector<v1::Trigger>& out);

  // Moves the watermark to `watermark_ms` if that is later, firing a chunk of what comes due.
  Status AdvanceWatermark(TimeMs watermark_ms, std::vector<v1::Trigger>& out);

  // Fires the next chunk of timers due at or before the watermark.
  Status FireDueTimers(std::vector<v1::Trigger>& out);
  // True if the last chunk stopped at its bound: timers due may be left (exactly a bound's worth
  // due also reads true, until the next chunk finds none).
  bool timer_backlog() const { return timer_backlog_; }
  // The due time of the earliest timer in the index (a rule's or a deferral's); nullopt: none.
  StatusOr<std::optional<TimeMs>> NextTimerDue() { return store_->NextTimerDue(); }

  TimeMs watermark_ms() const { return watermark_ms_; }
  TimeMs max_event_time_ms() const { return max_event_time_ms_; }
  // Events skipped as duplicates since construction.
  uint64_t duplicates() const { return duplicates_; }
  // Timer index entries popped since construction (fired, re-armed, or found stale).
  uint64_t timers_popped() const { return timers_popped_; }
  // Of them, lagging entries re-armed at their rule's later due time (processor/core/rule_timer.h).
  uint64_t timers_rearmed() const { return timers_rearmed_; }
  // State entries trimmed to the limits since construction.
  const TrimCounts& trims() const { return trims_; }

 private:
  // Erases the request's customer (unless the request is a repeat: kErasureRepeated),
  // remembers the erasure and records its ERASED audit.
  StatusOr<EventStep> Erase(const v1::TouchpointEvent& request);
  // The erasure memory that applies to `customer_id`: its state's copy or, for a customer with
  // no state, the partition's entry under its hash. nullopt: none, or no memory kept.
  StatusOr<std::optional<v1::state::ErasureMemory>> MemoryOf(const std::string& customer_id);
  // A memory entry's forget timer fired.
  Status Forget(const TimerKey& timer);
  // Keeps the timer index in step with a rule state whose due time may have changed; its entry
  // was at `indexed_before` (0: none, or popped). Lazily: processor/core/rule_timer.h.
  void SyncTimer(const std::string& customer_id, const std::string& rule_id,
                 TimeMs indexed_before, RuleState& rule_state);
  // Completes the rule's emissions and adds them to the group being decided.
  void Complete(const Rule& rule, CustomerState& customer, std::vector<Emission>& emitted,
                bool timer_fired);
  // A deferral's timer fired: its trigger joins the group, with the rule's "still holds".
  void Release(const std::string& trigger_id, TimeMs due_ms, CustomerState& customer);
  // Adds one candidate to the group (one customer, one instant).
  void AddToGroup(CustomerState& customer, PolicyCandidate candidate);
  // Decides the group (the policy stage, if on) and appends what is sent to `out`. The caller
  // then trims the customer (a deferral holds a whole trigger).
  void FlushGroup(std::vector<v1::Trigger>& out);
  // FlushGroup for a group of timers, the customer trimmed if the policy stage may have deferred
  // a trigger; then the store may settle the customer, whom nothing changes before the next
  // Mutable (PartitionStore::Settle).
  void FlushTimerGroup(std::vector<v1::Trigger>& out);
  // Trims the customer to the state limits at `now_ms`; a deferral trimmed is suppressed
  // (state_limit, audited) and its timer cancelled. Returns the state's encoded size, measured
  // last (TrimToLimits): settle the customer with it before any change.
  size_t Trim(CustomerState& customer, TimeMs now_ms);

  // Constant after construction (the rule set must not change while the pipeline lives).
  const RuleSet* rules_;
  std::unordered_map<std::string, const Rule*> rules_by_id_;
  PartitionStore* store_;
  const DurationMs allowed_lateness_ms_;
  const DedupPolicy dedup_;
  const StateLimits limits_;
  const size_t max_timers_per_step_;

  TimeMs max_event_time_ms_ = kNoTime;
  TimeMs watermark_ms_ = kNoTime;
  uint64_t duplicates_ = 0;
  uint64_t timers_popped_ = 0;
  uint64_t timers_rearmed_ = 0;
  bool timer_backlog_ = false;
  TrimCounts trims_;
  std::vector<Emission> scratch_;  // reused across calls
  // What a rule runs on for an event where the customer has no state of it (customer_aggregate.h,
  // AddRuleStateIfNotEmpty); reused.
  RuleState blank_rule_state_;
  const PolicyStage* policy_ = nullptr;
  const PrivacySettings* privacy_ = nullptr;
  std::optional<TimeMs> wall_clock_ms_;
  std::vector<v1::AuditRecord> audits_;
  uint64_t unknown_timezones_ = 0;
  // The group of triggers being built: one customer's, of one instant.
  std::vector<PolicyCandidate> group_;
  CustomerState* group_customer_ = nullptr;
  TimeMs group_ms_ = 0;
  PolicyOutput policy_out_;                          // reused
  std::vector<v1::state::DeferredTrigger> dropped_;  // reused by Trim
};

// Fills a trigger's customer summary from the aggregate.
void FillSummary(const CustomerState& customer, v1::CustomerSummary& summary);

}  // namespace touchstream
