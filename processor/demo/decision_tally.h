// What the policy stage made of the triggers the demo saw delivered, for its closing summary:
// triggers sent (the triggers topic) and, from the audit topic, deferrals and suppressions by
// reason and holdouts. Counts what Kafka acknowledged, so "sent" matches the TRIGGER lines the
// demo printed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "audit.pb.h"
#include "trigger.pb.h"

namespace touchstream {

// Not thread-safe: the demo counts on the consume thread (the relay's delivery callback) and
// reads the summary after the processor stopped.
class DecisionTally {
 public:
  // A trigger delivered to the triggers topic (sent at once or at a deferral's release).
  void CountSent(const v1::Trigger& trigger);
  // An audit record delivered to the audit topic. RELEASED (its trigger counts as sent) and
  // ERASED count in nothing.
  void CountAudit(const v1::AuditRecord& audit);

  uint64_t sent() const { return sent_; }

  // One line, reasons by count (most first, then by name), e.g.
  // "sent 812 · deferred 40 (quiet_hours 31, frequency_cap 9) · suppressed 22 (no_consent 15,
  // frequency_cap 7) · holdout 12". A decision nothing got reads "deferred 0".
  std::string Summary() const;

 private:
  uint64_t sent_ = 0;
  uint64_t holdout_ = 0;
  std::map<std::string, uint64_t> deferred_;    // by reason
  std::map<std::string, uint64_t> suppressed_;  // by reason
};

}  // namespace touchstream
