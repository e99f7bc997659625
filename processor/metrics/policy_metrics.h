// The policy stage's series (issue 12, README "Metrics"): what became of each trigger the rules
// made. Counted by the task manager from what a commit holds: the triggers that went out (SENT)
// and the audit records of every other decision (proto/audit.proto).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "audit.pb.h"
#include "processor/metrics/rule_counters.h"
#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream {

// Counting is for one thread (the consume thread); the series are safe for concurrent scrapes.
class PolicyMetrics {
 public:
  // Registers the series in `registry` (which must outlive this object) and creates at zero,
  // for each of `rule_ids`: suppressed and deferred by every reason the stage can give, holdout,
  // and sent by every trigger type and each of `channels` (the messageable ones).
  PolicyMetrics(prometheus::Registry& registry, const std::vector<std::string>& rule_ids,
                const std::vector<v1::Channel>& channels);

  // A trigger that went out: touchstream_triggers_sent_total{rule,type,channel}, the channel
  // being its suggested_channel.
  void CountSent(const v1::Trigger& trigger);
  // One audit record: suppressed, deferred or holdout by its decision (RELEASED and ERASED count
  // in no counter), and touchstream_deferred_pending (below).
  void CountAudit(const v1::AuditRecord& audit);

  // touchstream_deferred_pending: DEFERRED audit records minus audit records decided at the
  // release of a deferral (RELEASED, or SUPPRESSED / DEFERRED again at the release: a record
  // whose decision_time is after its trigger's fire_time), counted by this process since it
  // started. So it is the deferrals this instance stored and has not yet released. It does not
  // follow partitions that move between instances (a deferral stored here and released
  // elsewhere stays counted here, and goes negative there), nor erasures, which drop a
  // customer's deferrals without a per-trigger record.
  prometheus::Gauge& deferred_pending() { return *deferred_pending_; }

  prometheus::Counter& suppressed(const std::string& rule_id, const std::string& reason);
  prometheus::Counter& deferred(const std::string& rule_id, const std::string& reason);
  prometheus::Counter& holdout(const std::string& rule_id);
  prometheus::Counter& sent(const std::string& rule_id, v1::TriggerType type, v1::Channel channel);

 private:
  prometheus::Family<prometheus::Counter>* suppressed_family_;
  prometheus::Family<prometheus::Counter>* deferred_family_;
  prometheus::Family<prometheus::Counter>* holdout_family_;
  prometheus::Family<prometheus::Counter>* sent_family_;
  // Of each family, resolved once per label set (RuleCounters): suppressed_ and deferred_ by
  // the reasons the policy stage gives, holdout_ by rule only.
  std::unique_ptr<RuleCounters> suppressed_;
  std::unique_ptr<RuleCounters> deferred_;
  std::unique_ptr<RuleCounters> holdout_;
  std::unique_ptr<RuleCounters> sent_;  // of sent_family_
  prometheus::Gauge* deferred_pending_;
};

}  // namespace touchstream
