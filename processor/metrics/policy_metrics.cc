#include "processor/metrics/policy_metrics.h"

#include <iterator>
#include <utility>

#include "processor/metrics/labels.h"

namespace touchstream {

namespace {

// The reasons the policy stage gives (processor/policy/decision.h, ReasonName).
constexpr const char* kSuppressReasons[] = {"no_consent", "quiet_hours", "frequency_cap",
                                            "superseded", "stale",       "state_limit"};
constexpr const char* kDeferReasons[] = {"quiet_hours", "frequency_cap"};

// The counter of (`rule_id`, `reason`): resolved once (`counters`, by the reason's index in
// `reasons`) for a reason the stage gives; any other looked up in `family` by name each time.
template <size_t N>
prometheus::Counter& ByReason(RuleCounters& counters,
                              prometheus::Family<prometheus::Counter>& family,
                              const char* const (&reasons)[N], const std::string& rule_id,
                              const std::string& reason) {
  for (size_t i = 0; i < N; ++i) {
    if (reason == reasons[i]) return counters.Get(rule_id, static_cast<int>(i));
  }
  return family.Add({{"rule", rule_id}, {"reason", reason}});
}

// Decided when a deferral was released, not when the rule fired it: a release happens after
// the fire time, a first decision at it (PartitionPipeline). Timestamps compare as (seconds,
// nanos) pairs, which is their order.
bool AtRelease(const v1::AuditRecord& audit) {
  if (!audit.has_trigger()) return false;
  const google::protobuf::Timestamp& decided = audit.decision_time();
  const google::protobuf::Timestamp& fired = audit.trigger().fire_time();
  return std::pair(decided.seconds(), decided.nanos()) > std::pair(fired.seconds(), fired.nanos());
}

}  // namespace

PolicyMetrics::PolicyMetrics(prometheus::Registry& registry,
                             const std::vector<std::string>& rule_ids,
                             const std::vector<v1::Channel>& channels) {
  using prometheus::BuildCounter;
  suppressed_family_ = &BuildCounter()
                            .Name("touchstream_triggers_suppressed_total")
                            .Help("Triggers the policy stage suppressed, by rule and reason")
                            .Register(registry);
  deferred_family_ = &BuildCounter()
                          .Name("touchstream_triggers_deferred_total")
                          .Help(
                              "Trigger deferrals by the policy stage (a deferral deferred "
                              "again at its release counts again), by rule and reason")
                          .Register(registry);
  holdout_family_ = &BuildCounter()
                         .Name("touchstream_triggers_holdout_total")
                         .Help("Triggers not sent because the customer is in the rule's holdout")
                         .Register(registry);
  sent_family_ = &BuildCounter()
                      .Name("touchstream_triggers_sent_total")
                      .Help(
                          "Triggers the policy stage sent (at once or at a deferral's "
                          "release), by rule, type and suggested channel")
                      .Register(registry);
  sent_ = std::make_unique<RuleCounters>(
      *sent_family_, v1::TriggerType_ARRAYSIZE, v1::Channel_ARRAYSIZE,
      [](const std::string& rule, int type, int channel) {
        return prometheus::Labels{{"rule", rule},
                                  {"type", TriggerLabel(static_cast<v1::TriggerType>(type))},
                                  {"channel", ChannelLabel(static_cast<v1::Channel>(channel))}};
      });
  // RuleCounters asks only for the indexes ByReason gives it: reasons of the list.
  const auto reason_labels = [](const char* const* reasons) {
    return [reasons](const std::string& rule, int reason, int) {
      return prometheus::Labels{{"rule", rule}, {"reason", reasons[reason]}};
    };
  };
  suppressed_ = std::make_unique<RuleCounters>(*suppressed_family_, std::size(kSuppressReasons), 1,
                                               reason_labels(kSuppressReasons));
  deferred_ = std::make_unique<RuleCounters>(*deferred_family_, std::size(kDeferReasons), 1,
                                             reason_labels(kDeferReasons));
  holdout_ =
      std::make_unique<RuleCounters>(*holdout_family_, 1, 1, [](const std::string& rule, int, int) {
        return prometheus::Labels{{"rule", rule}};
      });
  deferred_pending_ = &prometheus::BuildGauge()
                           .Name("touchstream_deferred_pending")
                           .Help(
                               "Deferrals this instance stored and has not yet released "
                               "(counted since start-up; see README, Metrics)")
                           .Register(registry)
                           .Add({});
  for (const std::string& rule : rule_ids) {
    for (const char* reason : kSuppressReasons) suppressed(rule, reason);
    for (const char* reason : kDeferReasons) deferred(rule, reason);
    holdout(rule);
    for (int t = 1; v1::TriggerType_IsValid(t); ++t) {
      for (v1::Channel channel : channels) sent(rule, static_cast<v1::TriggerType>(t), channel);
    }
  }
}

void PolicyMetrics::CountSent(const v1::Trigger& trigger) {
  sent(trigger.rule_id(), trigger.type(), trigger.suggested_channel()).Increment();
}

void PolicyMetrics::CountAudit(const v1::AuditRecord& audit) {
  const std::string& rule = audit.trigger().rule_id();
  switch (audit.decision()) {
    case v1::AUDIT_DECISION_SUPPRESSED:
      suppressed(rule, audit.reason()).Increment();
      break;
    case v1::AUDIT_DECISION_DEFERRED:
      deferred(rule, audit.reason()).Increment();
      deferred_pending_->Increment();
      break;
    case v1::AUDIT_DECISION_HOLDOUT:
      holdout(rule).Increment();
      break;
    default:  // RELEASED (its send is counted as sent), ERASED
      break;
  }
  // A deferral trimmed to the state limits leaves pending too, whenever it is trimmed.
  const bool trimmed =
      audit.decision() == v1::AUDIT_DECISION_SUPPRESSED && audit.reason() == "state_limit";
  if (AtRelease(audit) || trimmed) deferred_pending_->Decrement();
}

prometheus::Counter& PolicyMetrics::suppressed(const std::string& rule_id,
                                               const std::string& reason) {
  return ByReason(*suppressed_, *suppressed_family_, kSuppressReasons, rule_id, reason);
}

prometheus::Counter& PolicyMetrics::deferred(const std::string& rule_id,
                                             const std::string& reason) {
  return ByReason(*deferred_, *deferred_family_, kDeferReasons, rule_id, reason);
}

prometheus::Counter& PolicyMetrics::holdout(const std::string& rule_id) {
  return holdout_->Get(rule_id, 0);
}

prometheus::Counter& PolicyMetrics::sent(const std::string& rule_id, v1::TriggerType type,
                                         v1::Channel channel) {
  return sent_->Get(rule_id, type, channel);
}

}  // namespace touchstream
