#include "processor/core/partition_task.h"

#include <algorithm>

namespace touchstream {

PartitionTask::PartitionTask(const TaskSettings& settings, const RuleSet& rules,
                             PartitionStore& store)
    : settings_(settings),
      validator_(settings.validation),
      pipeline_(rules, store, settings.allowed_lateness_ms, settings.dedup, settings.limits,
                settings.max_timers_per_step) {
  pipeline_.SetPolicy(settings.policy);
  pipeline_.SetPrivacy(&settings.privacy);
  checkpoint_.set_max_event_time_ms(kNoTime);
  checkpoint_.set_watermark_ms(kNoTime);
  pipeline_.RestoreClock(kNoTime, kNoTime);
}

void PartitionTask::Resume(const v1::state::PartitionCheckpoint& checkpoint) {
  checkpoint_ = checkpoint;
  pipeline_.RestoreClock(checkpoint.max_event_time_ms(), checkpoint.watermark_ms());
}

StatusOr<RecordOutcome> PartitionTask::Process(const InputRecord& record, const TaskTime& time,
                                               TaskOutput& out) {
  RecordOutcome outcome;
  const bool forwarded = repartitioning() && record.topic == settings_.repartition_topic;
  std::optional<RecordOrigin> origin;
  if (forwarded) origin = ParseOrigin(record.headers);
  outcome.create_time_ms = InputCreateTime(record, origin);
  if (record.offset < NextOffset(record.topic)) {
    outcome.kind = RecordOutcome::Kind::kAlreadyApplied;
    return outcome;
  }
  (forwarded ? sources_.repartition : sources_.input) = false;
  if (settings_.staleness_by_wall_clock) pipeline_.SetWallClock(time.wall_ms);
  bool& held = forwarded ? held_.repartition : held_.input;
  if (held || timer_backlog()) {
    outcome.began_hold = !held;
    held = true;
    outcome.kind = RecordOutcome::Kind::kHeld;
    return outcome;
  }
  dirty_ = true;
  if (origin && AppliedBefore(*origin)) {
    SetNextOffset(record.topic, record.offset + 1);
    outcome.kind = RecordOutcome::Kind::kAlreadyApplied;
    return outcome;
  }
  struct ReleaseLarge {
    v1::TouchpointEvent& event;
    bool large;
    ~ReleaseLarge() {
      if (large || event.items_size() > kLargeRecordItems) event = v1::TouchpointEvent();
    }
  } release{event_, record.value.size() > kLargeRecordBytes};
  // "In the future" by the producer's clock when the record carries it (a forwarded record names
  // its input record's): a local clock that jumped back must not dead-letter live events.
  outcome.verdict = validator_.DecodeAndValidate(
      record.value, outcome.create_time_ms.value_or(time.wall_ms), &event_, time.wall_ms);
  if (!outcome.verdict.ok()) {
    outcome.kind = RecordOutcome::Kind::kDeadLettered;
    // Where the record was first read: a forwarded record names its origin.
    const SourcePosition source =
        origin ? SourcePosition{std::string(origin->topic), origin->partition, origin->offset}
               : SourcePosition{std::string(record.topic), record.partition, record.offset};
    v1::state::OutboxRecord& dead_letter = out.dead_letters.emplace_back(
        MakeDeadLetter(settings_.dead_letter_topic, record.key.value_or(std::string_view()),
                       record.value, outcome.verdict, source));
    // The original's null key and null value (a tombstone) stay null.
    dead_letter.set_null_key(!record.key.has_value());
    dead_letter.set_null_value(record.value.data() == nullptr);
  } else if (const int32_t owner = OwnerOf(event_.customer_id(), record.partition);
             !forwarded && owner != record.partition) {
    outcome.kind = RecordOutcome::Kind::kForwarded;
    outcome.type = event_.type();
    outcome.channel = event_.channel();
    out.forwarded.push_back(
        MakeForwarded(settings_.repartition_topic, owner, event_.customer_id(), record));
  } else if (!forwarded && MustWaitForRepartition(ToTimeMs(event_.event_time()), time)) {
    held_.input = true;
    outcome.kind = RecordOutcome::Kind::kHeld;
    outcome.began_hold = true;
    return outcome;
  } else {
    outcome.type = event_.type();
    outcome.channel = event_.channel();
    if (forwarded) {
      wait_.event_time_ms = std::max(wait_.event_time_ms, ToTimeMs(event_.event_time()));
    }
    const uint64_t duplicates = pipeline_.duplicates();
    StatusOr<EventStep> step = pipeline_.Process(event_, fired_scratch_);
    if (!step.ok()) {
      fired_scratch_.clear();
      return step.status();
    }
    if (*step == EventStep::kTimersFirst) {
      AddTriggers(fired_scratch_, nullptr, out);
      held = true;
      outcome.kind = RecordOutcome::Kind::kHeld;
      outcome.began_hold = true;
      return outcome;  // its offsets stay: it is delivered again
    }
    if (pipeline_.duplicates() != duplicates) outcome.kind = RecordOutcome::Kind::kDuplicate;
    if (*step == EventStep::kDroppedErased) outcome.kind = RecordOutcome::Kind::kDroppedErased;
    AddTriggers(fired_scratch_, &event_.event_id(), out);
    // With the triggers of the customer's timers that fired just before the request.
    if (*step == EventStep::kErased) {
      Withdraw(event_.customer_id(), out);
      outcome.erased_customer = event_.customer_id();
    }
  }
  if (origin) {
    (*checkpoint_.mutable_forwarded_next_offsets())[OriginKey(origin->topic, origin->partition)] =
        origin->offset + 1;
  }
  SetNextOffset(record.topic, record.offset + 1);
  return outcome;
}

bool PartitionTask::held(std::string_view topic) const {
  if (topic == settings_.input_topic) return held_.input;
  return repartitioning() && topic == settings_.repartition_topic && held_.repartition;
}

void PartitionTask::Rewound(std::string_view topic) {
  if (topic == settings_.input_topic) held_.input = false;
  if (repartitioning() && topic == settings_.repartition_topic) held_.repartition = false;
}

void PartitionTask::Hold(std::string_view topic) {
  if (topic == settings_.input_topic) held_.input = true;
  if (repartitioning() && topic == settings_.repartition_topic) held_.repartition = true;
}

void PartitionTask::MarkCaughtUp(std::string_view topic) {
  // A held record is still to be read, whatever the consumer says about the end.
  if (held(topic)) return;
  if (topic == settings_.input_topic) sources_.input = true;
  if (repartitioning() && topic == settings_.repartition_topic) {
    sources_.repartition = true;
    wait_.timed_out = false;
  }
}

void PartitionTask::MarkBehind(std::string_view topic) {
  if (topic == settings_.input_topic) sources_.input = false;
  if (repartitioning() && topic == settings_.repartition_topic) sources_.repartition = false;
}

bool PartitionTask::caught_up(std::string_view topic) const {
  if (topic == settings_.input_topic) return sources_.input;
  return repartitioning() && topic == settings_.repartition_topic && sources_.repartition;
}

bool PartitionTask::MustWaitForRepartition(TimeMs event_time_ms, const TaskTime& time) {
  if (!repartitioning() || sources_.repartition || wait_.timed_out) return false;
  if (wait_.event_time_ms != kNoTime && event_time_ms <= wait_.event_time_ms) return false;
  wait_.since_ms = time.steady_ms;
  wait_.held_event_time_ms = event_time_ms;
  return true;
}

bool PartitionTask::WaitsForRepartition(TimeMs steady_ms) {
  if (!held_.input || wait_.since_ms == kNoTime) return false;
  const bool reached =
      wait_.event_time_ms != kNoTime && wait_.event_time_ms >= wait_.held_event_time_ms;
  const bool timed_out = steady_ms - wait_.since_ms >= settings_.max_repartition_wait_ms;
  if (!sources_.repartition && !reached && !timed_out) return true;
  if (!sources_.repartition && !reached) {
    wait_.timed_out = true;
    ++wait_.timeouts;
  }
  wait_.since_ms = kNoTime;
  wait_.held_event_time_ms = kNoTime;
  return false;
}

int32_t PartitionTask::OwnerOf(const std::string& customer_id, int32_t here) const {
  return repartitioning() ? settings_.ownership->OwnerOf(customer_id) : here;
}

bool PartitionTask::AppliedBefore(const RecordOrigin& origin) const {
  const auto& applied = checkpoint_.forwarded_next_offsets();
  auto it = applied.find(OriginKey(origin.topic, origin.partition));
  return it != applied.end() && origin.offset < it->second;
}

void PartitionTask::ObserveWallClock(const TaskTime& time) {
  // Timers fired after a downtime are as old as the downtime: judged by the clock now, not by
  // the last record's (none yet after a restart).
  if (settings_.staleness_by_wall_clock) pipeline_.SetWallClock(time.wall_ms);
}

Status PartitionTask::Punctuate(const TaskTime& time, TimeMs idle_limit_ms, TaskOutput& out) {
  ObserveWallClock(time);
  if (settings_.clock != ClockMode::kHybrid || !sources_caught_up()) return Status::Ok();
  return AdvanceWatermark(idle_limit_ms - settings_.allowed_lateness_ms, out);
}

StatusOr<std::optional<TimeMs>> PartitionTask::NextPunctuation() {
  if (settings_.clock != ClockMode::kHybrid || !sources_caught_up()) {
    return std::optional<TimeMs>();
  }
  StatusOr<std::optional<TimeMs>> due = pipeline_.NextTimerDue();
  if (!due.ok() || !due->has_value()) return due;
  return std::optional<TimeMs>(**due + settings_.allowed_lateness_ms);
}

Status PartitionTask::AdvanceWatermark(TimeMs watermark_ms, TaskOutput& out) {
  if (watermark_ms <= pipeline_.watermark_ms()) return Status::Ok();
  const uint64_t popped_before = pipeline_.timers_popped();
  if (Status s = pipeline_.AdvanceWatermark(watermark_ms, fired_scratch_); !s.ok()) {
    fired_scratch_.clear();
    return s;
  }
  // Only a timer makes an idle partition's commit worth a write and a changelog marker: a watermark
  // that fired nothing is derived from the wall clock again after a restart, with the same outcome.
  if (pipeline_.timers_popped() != popped_before) dirty_ = true;
  AddTriggers(fired_scratch_, nullptr, out);
  return Status::Ok();
}

StatusOr<uint64_t> PartitionTask::FireDueTimers(TaskOutput& out) {
  const uint64_t popped_before = pipeline_.timers_popped();
  if (Status s = pipeline_.FireDueTimers(fired_scratch_); !s.ok()) {
    fired_scratch_.clear();
    return s;
  }
  const uint64_t popped = pipeline_.timers_popped() - popped_before;
  if (popped != 0) dirty_ = true;
  AddTriggers(fired_scratch_, nullptr, out);
  return popped;
}

const v1::state::PartitionCheckpoint& PartitionTask::PrepareCommit() {
  checkpoint_.set_max_event_time_ms(pipeline_.max_event_time_ms());
  checkpoint_.set_watermark_ms(pipeline_.watermark_ms());
  checkpoint_.set_commit_seq(checkpoint_.commit_seq() + 1);
  if (settings_.input_partitions > 0) checkpoint_.set_input_partitions(settings_.input_partitions);
  return checkpoint_;
}

int64_t PartitionTask::NextOffset(std::string_view topic) const {
  if (topic == settings_.input_topic) return checkpoint_.next_offset();
  const auto& sources = checkpoint_.source_next_offsets();
  auto it = sources.find(std::string(topic));
  return it == sources.end() ? 0 : it->second;
}

void PartitionTask::SetNextOffset(std::string_view topic, int64_t next) {
  if (topic == settings_.input_topic) {
    checkpoint_.set_next_offset(next);
  } else {
    (*checkpoint_.mutable_source_next_offsets())[std::string(topic)] = next;
  }
}

void PartitionTask::Withdraw(const std::string& customer_id, TaskOutput& out) {
  std::erase_if(out.triggers, [&](const TaskOutput::EmittedTrigger& t) {
    return t.trigger.customer_id() == customer_id;
  });
  std::erase_if(out.audits, [&](const v1::AuditRecord& audit) {
    return audit.has_trigger() && audit.trigger().customer_id() == customer_id;
  });
}

void PartitionTask::AddTriggers(std::vector<v1::Trigger>& fired, const std::string* event_id,
                                TaskOutput& out) {
  for (v1::Trigger& t : fired) {
    // Timers fire before the event is applied, so a timer-fired trigger names an earlier cause.
    const bool event_caused = event_id != nullptr && t.cause_event_id() == *event_id;
    out.triggers.push_back({std::move(t), event_caused});
  }
  fired.clear();
  for (v1::AuditRecord& audit : pipeline_.audits()) out.audits.push_back(std::move(audit));
  pipeline_.audits().clear();
}

}  // namespace touchstream
