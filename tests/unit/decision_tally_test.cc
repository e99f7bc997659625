#include "processor/demo/decision_tally.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

v1::AuditRecord Audit(v1::AuditDecision decision, const std::string& reason) {
  v1::AuditRecord audit;
  audit.set_decision(decision);
  audit.set_reason(reason);
  return audit;
}

TEST(DecisionTallyTest, SummarizesSendsAndEveryOtherDecisionByReason) {
  DecisionTally tally;
  for (int i = 0; i < 3; ++i) tally.CountSent(v1::Trigger());
  tally.CountAudit(Audit(v1::AUDIT_DECISION_DEFERRED, "frequency_cap"));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_DEFERRED, "quiet_hours"));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_DEFERRED, "quiet_hours"));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_SUPPRESSED, "no_consent"));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_SUPPRESSED, "frequency_cap"));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_HOLDOUT, "holdout"));
  // A release is counted by its trigger (sent), an erasure not at all.
  tally.CountAudit(Audit(v1::AUDIT_DECISION_RELEASED, ""));
  tally.CountAudit(Audit(v1::AUDIT_DECISION_ERASED, "erased"));
  EXPECT_EQ(tally.Summary(),
            "sent 3 · deferred 3 (quiet_hours 2, frequency_cap 1) · suppressed 2 (frequency_cap 1, "
            "no_consent 1) · holdout 1");
}

TEST(DecisionTallyTest, NothingHeldBackReadsAsZeros) {
  DecisionTally tally;
  tally.CountSent(v1::Trigger());
  EXPECT_EQ(tally.Summary(), "sent 1 · deferred 0 · suppressed 0 · holdout 0");
}

}  // namespace
}  // namespace touchstream
