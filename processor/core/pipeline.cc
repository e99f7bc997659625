#include "processor/core/pipeline.h"

#include <algorithm>

#include "processor/core/rule_timer.h"
#include "processor/core/trigger_id.h"

namespace touchstream {

namespace {

// A state of another rule kind under the rule's id (Rule::state_kind).
bool IsForeign(const RuleState& state, const Rule& rule) {
  return state.kind_case() != RuleState::KIND_NOT_SET && state.kind_case() != rule.state_kind();
}

}  // namespace

PartitionPipeline::PartitionPipeline(const RuleSet& rules, PartitionStore& store,
                                     DurationMs allowed_lateness_ms, DedupPolicy dedup,
                                     StateLimits limits, size_t max_timers_per_step)
    : rules_(&rules),
      store_(&store),
      allowed_lateness_ms_(allowed_lateness_ms),
      dedup_(dedup),
      limits_(limits),
      max_timers_per_step_(max_timers_per_step) {
  for (const auto& rule : *rules_) rules_by_id_[rule->id()] = rule.get();
}

void PartitionPipeline::RestoreClock(TimeMs max_event_time_ms, TimeMs watermark_ms) {
  max_event_time_ms_ = max_event_time_ms;
  watermark_ms_ = watermark_ms;
}

StatusOr<EventStep> PartitionPipeline::Process(const v1::TouchpointEvent& event,
                                               std::vector<v1::Trigger>& out) {
  const TimeMs t = ToTimeMs(event.event_time());
  if (t > max_event_time_ms_) {
    max_event_time_ms_ = t;
    watermark_ms_ = std::max(watermark_ms_, t - allowed_lateness_ms_);
  }
  if (Status s = FireDueTimers(out); !s.ok()) return s;
  if (timer_backlog_) return EventStep::kTimersFirst;
  if (event.type() == v1::EVENT_TYPE_ERASURE_REQUEST) return Erase(event);
  StatusOr<std::optional<v1::state::ErasureMemory>> memory = MemoryOf(event.customer_id());
  if (!memory.ok()) return memory.status();
  if (*memory && DropsEvent(**memory, t, max_event_time_ms_)) return EventStep::kDroppedErased;

  StatusOr<CustomerState*> loaded = store_->Mutable(event.customer_id());
  if (!loaded.ok()) return loaded.status();
  CustomerState& customer = **loaded;
  // A customer back after an erasure keeps the memory: their own late events are dropped too.
  if (*memory && customer.first_seen_ms() == 0) *customer.mutable_erased() = **memory;
  const uint64_t id_hash = dedup_.horizon_ms > 0 ? EventIdHash(event.event_id()) : 0;
  if (dedup_.horizon_ms > 0 && SeenRecently(customer, id_hash)) {
    ++duplicates_;
    return EventStep::kApplied;
  }
  const AppliedEvent applied = ApplyEvent(event, customer);
  RememberEvent(customer, id_hash, t, watermark_ms_, dedup_);
  if (policy_ != nullptr && policy_->OnEvent(event, customer)) ++unknown_timezones_;

  for (const auto& rule : *rules_) {
    RuleState* stored = FindRuleState(customer, rule->id());
    if (stored == nullptr) blank_rule_state_.Clear();
    RuleState& rule_state = stored != nullptr ? *stored : blank_rule_state_;
    const TimeMs indexed = LiveEntry(rule_state, watermark_ms_);
    // Another kind's state under this id: dropped, its entry cancelled by SyncTimer below.
    if (IsForeign(rule_state, *rule)) rule_state.Clear();
    scratch_.clear();
    rule->OnEvent(event, applied, customer, rule_state, scratch_);
    SyncTimer(customer.customer_id(), rule->id(), indexed, rule_state);
    if (stored != nullptr) {
      if (IsEmptyRuleState(*stored)) DropRuleStateIfEmpty(customer, rule->id());
    } else {
      AddRuleStateIfNotEmpty(customer, rule->id(), blank_rule_state_);
    }
    for (Emission& e : scratch_) {
      if (!e.trigger.has_fire_time()) *e.trigger.mutable_fire_time() = event.event_time();
      if (e.trigger.cause_event_id().empty()) e.trigger.set_cause_event_id(event.event_id());
    }
    Complete(*rule, customer, scratch_, /*timer_fired=*/false);
  }
  FlushGroup(out);
  const size_t encoded_bytes = Trim(customer, t);
  store_->Settle(customer, encoded_bytes);
  return EventStep::kApplied;
}

Status PartitionPipeline::AdvanceWatermark(TimeMs watermark_ms, std::vector<v1::Trigger>& out) {
  if (watermark_ms <= watermark_ms_) return Status::Ok();
  watermark_ms_ = watermark_ms;
  return FireDueTimers(out);
}

Status PartitionPipeline::FireDueTimers(std::vector<v1::Trigger>& out) {
  size_t popped = 0;
  TimerKey last;  // the last popped: past the bound, only the rest of its instant may follow
  timer_backlog_ = false;
  while (true) {
    const bool bounded = max_timers_per_step_ != 0 && popped >= max_timers_per_step_;
    StatusOr<std::optional<TimerKey>> next =
        store_->PopDueTimer(TimerLimit{watermark_ms_, bounded ? &last : nullptr});
    if (!next.ok()) return next.status();
    if (!next->has_value()) {
      // The last group's deferrals may be due already (a watermark that jumped past a quiet
      // hours' end): decide it, then look again.
      if (!group_.empty()) {
        FlushTimerGroup(out);
        continue;
      }
      timer_backlog_ = bounded;
      return Status::Ok();
    }
    last = std::move(**next);
    const TimerKey& key = last;
    ++popped;
    ++timers_popped_;
    if (key.rule_id == kForgetTimerId) {
      // Decided first: the group's customer may be closed while the forget timers at its
      // instant (their keys sort after every customer id) load erasure memories.
      if (group_customer_ != nullptr) FlushTimerGroup(out);
      if (Status s = Forget(key); !s.ok()) return s;
      continue;
    }
    if (group_customer_ != nullptr &&
        (key.due_ms != group_ms_ || key.customer_id != group_customer_->customer_id())) {
      FlushTimerGroup(out);
    }
    const std::optional<std::string> deferred = DeferredTriggerOf(key.rule_id);
    // A stale index entry of an erased customer: dropped without touching the store (an empty
    // entry would write a tombstone keyed by the raw id again).
    StatusOr<const CustomerState*> known = store_->Find(key.customer_id);
    if (!known.ok()) return known.status();
    if (*known == nullptr) continue;
    auto rule_it = rules_by_id_.find(key.rule_id);
    if (!deferred) {
      // A lagging entry is re-armed without touching the state (processor/core/rule_timer.h),
      // also of a rule removed from the config: as an entry at the due time would, it then
      // fires if the rule is back by then.
      const RuleState* peek = FindRuleState(**known, key.rule_id);
      const PoppedTimer popped_as =
          peek == nullptr ? PoppedTimer::kStale : ClassifyPopped(*peek, key.due_ms);
      if (popped_as == PoppedTimer::kRearm) {
        ++timers_rearmed_;
        store_->ScheduleTimer(TimerKey{peek->due_ms(), key.customer_id, key.rule_id});
        continue;
      }
      if (popped_as == PoppedTimer::kStale) continue;
      if (rule_it == rules_by_id_.end()) continue;  // rule removed from the config
    }
    StatusOr<CustomerState*> loaded = store_->Mutable(key.customer_id);
    if (!loaded.ok()) return loaded.status();
    CustomerState& customer = **loaded;
    if (deferred) {
      Release(*deferred, key.due_ms, customer);
      continue;
    }
    RuleState* rule_state = FindRuleState(customer, key.rule_id);
    if (rule_state == nullptr) continue;  // Find and Mutable give the same entry: not expected
    if (IsForeign(*rule_state, *rule_it->second)) {
      // Another kind's state under this id (the popped entry was its timer): dropped.
      rule_state->Clear();
      DropRuleStateIfEmpty(customer, key.rule_id);
      continue;
    }
    // Armed under other parameters, which now give a later due time: re-armed there.
    if (const TimeMs due_now = rule_it->second->DueNow(customer, *rule_state);
        due_now > key.due_ms) {
      rule_state->set_due_ms(due_now);
      SyncTimer(customer.customer_id(), key.rule_id, 0, *rule_state);
      continue;
    }
    scratch_.clear();
    rule_it->second->OnTimer(key.due_ms, customer, *rule_state, scratch_);
    // The popped entry is gone from the index; only a new due time needs an entry.
    SyncTimer(customer.customer_id(), key.rule_id, 0, *rule_state);
    if (IsEmptyRuleState(*rule_state)) DropRuleStateIfEmpty(customer, key.rule_id);
    Complete(*rule_it->second, customer, scratch_, /*timer_fired=*/true);
  }
}

StatusOr<EventStep> PartitionPipeline::Erase(const v1::TouchpointEvent& request) {
  const std::string& customer_id = request.customer_id();
  const TimeMs erased_at = ToTimeMs(request.event_time());
  StatusOr<CustomerState*> loaded = store_->Mutable(customer_id);
  if (!loaded.ok()) return loaded.status();
  // A customer back after an erasure carries its memory: a request it covers was carried out.
  const bool repeated = (*loaded)->has_erased() && (*loaded)->erased().erased_at_ms() >= erased_at;
  if (!repeated) {
    for (const TimerKey& timer : TimersOf(**loaded, watermark_ms_)) store_->CancelTimer(timer);
    store_->Erase(customer_id);
  }

  v1::AuditRecord audit;
  audit.set_decision(v1::AUDIT_DECISION_ERASED);
  audit.set_reason(repeated ? "repeated" : "erased");
  *audit.mutable_decision_time() = request.event_time();
  audit.set_event_id(request.event_id());
  if (privacy_ != nullptr && privacy_->remembers()) {
    audit.set_customer_hash(CustomerHash(privacy_->hash_key, customer_id));
    const std::string key = ErasureMemoryKey(audit.customer_hash());
    StatusOr<CustomerState*> entry = store_->Mutable(key);
    if (!entry.ok()) return entry.status();
    v1::state::ErasureMemory& memory = *(*entry)->mutable_erased();
    if (memory.forget_at_ms() != 0)
      store_->CancelTimer({memory.forget_at_ms(), key, kForgetTimerId});
    memory.set_erased_at_ms(std::max(memory.erased_at_ms(), erased_at));
    memory.set_forget_at_ms(memory.erased_at_ms() + privacy_->erasure_memory_ms);
    store_->ScheduleTimer({memory.forget_at_ms(), key, kForgetTimerId});
  }
  audits_.push_back(std::move(audit));
  return repeated ? EventStep::kErasureRepeated : EventStep::kErased;
}

StatusOr<std::optional<v1::state::ErasureMemory>> PartitionPipeline::MemoryOf(
    const std::string& customer_id) {
  using Memory = std::optional<v1::state::ErasureMemory>;
  if (privacy_ == nullptr || !privacy_->remembers()) return Memory();
  // Peek, not Find: the event's Mutable of the customer then finds what this read.
  StatusOr<const CustomerState*> customer = store_->Peek(customer_id);
  if (!customer.ok()) return customer.status();
  if (!HoldsNothing(**customer)) {
    return (*customer)->has_erased() ? Memory((*customer)->erased()) : Memory();
  }
  StatusOr<const CustomerState*> entry =
      store_->Find(ErasureMemoryKey(CustomerHash(privacy_->hash_key, customer_id)));
  if (!entry.ok()) return entry.status();
  return *entry != nullptr ? Memory((*entry)->erased()) : Memory();
}

Status PartitionPipeline::Forget(const TimerKey& timer) {
  StatusOr<const CustomerState*> entry = store_->Find(timer.customer_id);
  if (!entry.ok()) return entry.status();
  // A later erasure moved the entry's forget time: this index entry is stale.
  if (*entry != nullptr && (*entry)->erased().forget_at_ms() == timer.due_ms) {
    store_->Erase(timer.customer_id);
  }
  return Status::Ok();
}

void PartitionPipeline::SyncTimer(const std::string& customer_id, const std::string& rule_id,
                                  TimeMs indexed_before, RuleState& rule_state) {
  const TimerMove move = FollowDue(rule_state, indexed_before);
  if (move.cancel_ms != 0) store_->CancelTimer(TimerKey{move.cancel_ms, customer_id, rule_id});
  if (move.schedule_ms != 0) {
    store_->ScheduleTimer(TimerKey{move.schedule_ms, customer_id, rule_id});
  }
}

void PartitionPipeline::Complete(const Rule& rule, CustomerState& customer,
                                 std::vector<Emission>& emitted, bool timer_fired) {
  for (Emission& e : emitted) {
    v1::Trigger& t = e.trigger;
    t.set_trigger_id(MakeTriggerId(rule.id(), customer.customer_id(), t.type(), e.episode));
    t.set_rule_id(rule.id());
    t.set_customer_id(customer.customer_id());
    if (t.suggested_channel() == v1::CHANNEL_UNSPECIFIED) {
      t.set_suggested_channel(static_cast<v1::Channel>(customer.last_channel()));
    }
    FillSummary(customer, *t.mutable_customer());
    const TimeMs fire_ms = ToTimeMs(t.fire_time());
    AddToGroup(customer, PolicyCandidate{std::move(t), fire_ms, timer_fired});
  }
}

void PartitionPipeline::Release(const std::string& trigger_id, TimeMs due_ms,
                                CustomerState& customer) {
  auto& pending = *customer.mutable_policy()->mutable_deferred();
  auto it = std::find_if(pending.begin(), pending.end(), [&](const auto& d) {
    return d.trigger().trigger_id() == trigger_id && d.release_ms() == due_ms;
  });
  if (it == pending.end()) return;  // stale: released or replaced already
  PolicyCandidate candidate{std::move(*it->mutable_trigger()), due_ms, /*timer_fired=*/true,
                            /*release=*/true};
  pending.erase(it);
  auto rule_it = rules_by_id_.find(candidate.trigger.rule_id());
  // A rule removed from the config, or whose id a rule of another kind took, no longer stands
  // behind its trigger.
  candidate.still_holds =
      rule_it != rules_by_id_.end() && rule_it->second->Emits(candidate.trigger.type()) &&
      rule_it->second->StillHolds(candidate.trigger, due_ms, customer,
                                  FindRuleState(customer, candidate.trigger.rule_id()));
  AddToGroup(customer, std::move(candidate));
}

void PartitionPipeline::AddToGroup(CustomerState& customer, PolicyCandidate candidate) {
  group_customer_ = &customer;
  group_ms_ = candidate.decision_ms;
  group_.push_back(std::move(candidate));
}

void PartitionPipeline::FlushGroup(std::vector<v1::Trigger>& out) {
  if (group_.empty()) {
    group_customer_ = nullptr;
    return;
  }
  if (policy_ == nullptr) {
    for (PolicyCandidate& c : group_) out.push_back(std::move(c.trigger));
  } else {
    policy_out_.sent.clear();
    policy_out_.deferral_timers.clear();
    policy_->Decide(group_, *group_customer_, wall_clock_ms_, policy_out_);
    for (v1::Trigger& t : policy_out_.sent) out.push_back(std::move(t));
    for (v1::AuditRecord& a : policy_out_.audits) audits_.push_back(std::move(a));
    policy_out_.audits.clear();
    for (const TimerKey& timer : policy_out_.deferral_timers) store_->ScheduleTimer(timer);
  }
  group_.clear();
  group_customer_ = nullptr;
}

void PartitionPipeline::FlushTimerGroup(std::vector<v1::Trigger>& out) {
  CustomerState* customer = group_customer_;  // set while the group holds a candidate
  const TimeMs decided_ms = group_ms_;
  FlushGroup(out);
  if (customer == nullptr) return;
  // Without the policy stage no deferral is held: the limits are left to the customer's next
  // event, as before (a timer adds a few bytes at most to the part that does not grow).
  std::optional<size_t> encoded_bytes;
  if (policy_ != nullptr) encoded_bytes = Trim(*customer, decided_ms);
  store_->Settle(*customer, encoded_bytes);
}

size_t PartitionPipeline::Trim(CustomerState& customer, TimeMs now_ms) {
  dropped_.clear();
  const size_t encoded_bytes = TrimToLimits(customer, limits_, trims_, &dropped_);
  for (v1::state::DeferredTrigger& deferral : dropped_) {
    store_->CancelTimer({deferral.release_ms(), customer.customer_id(),
                         DeferralTimerId(deferral.trigger().trigger_id())});
    v1::AuditRecord audit;
    *audit.mutable_trigger() = std::move(*deferral.mutable_trigger());
    audit.mutable_trigger()->clear_suggested_channel();  // held back: suggested no channel
    audit.set_decision(v1::AUDIT_DECISION_SUPPRESSED);
    audit.set_reason(std::string(ReasonName(PolicyReason::kStateLimit)));
    *audit.mutable_decision_time() = ToTimestamp(now_ms);
    audits_.push_back(std::move(audit));
  }
  return encoded_bytes;
}

void FillSummary(const CustomerState& customer, v1::CustomerSummary& summary) {
  summary.set_lifetime_value_minor(customer.lifetime_value_minor());
  summary.set_purchases_online(customer.purchases_online());
  summary.set_purchases_offline(customer.purchases_offline());
  summary.set_last_channel(static_cast<v1::Channel>(customer.last_channel()));
  *summary.mutable_first_seen_time() = ToTimestamp(customer.first_seen_ms());
  if (customer.last_activity_ms() != 0) {
    *summary.mutable_last_activity_time() = ToTimestamp(customer.last_activity_ms());
  }
}

}  // namespace touchstream
