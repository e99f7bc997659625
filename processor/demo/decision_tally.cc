#include "processor/demo/decision_tally.h"

#include <algorithm>
#include <vector>

namespace touchstream {

namespace {

// "deferred 40 (quiet_hours 31, frequency_cap 9)"; "deferred 0" when empty.
std::string ByReason(const std::string& decision, const std::map<std::string, uint64_t>& counts) {
  std::vector<std::pair<std::string, uint64_t>> reasons(counts.begin(), counts.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  uint64_t total = 0;
  std::string detail;
  for (const auto& [reason, n] : reasons) {
    total += n;
    detail += (detail.empty() ? "" : ", ") + reason + " " + std::to_string(n);
  }
  std::string out = decision + " " + std::to_string(total);
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

}  // namespace

void DecisionTally::CountSent(const v1::Trigger&) { ++sent_; }

void DecisionTally::CountAudit(const v1::AuditRecord& audit) {
  switch (audit.decision()) {
    case v1::AUDIT_DECISION_DEFERRED:
      ++deferred_[audit.reason()];
      break;
    case v1::AUDIT_DECISION_SUPPRESSED:
      ++suppressed_[audit.reason()];
      break;
    case v1::AUDIT_DECISION_HOLDOUT:
      ++holdout_;
      break;
    default:  // RELEASED: its trigger is counted as sent; ERASED: no trigger
      break;
  }
}

std::string DecisionTally::Summary() const {
  return "sent " + std::to_string(sent_) + " · " + ByReason("deferred", deferred_) + " · " +
         ByReason("suppressed", suppressed_) + " · holdout " + std::to_string(holdout_);
}

}  // namespace touchstream
