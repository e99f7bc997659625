#include "processor/policy/decision.h"

namespace touchstream {

std::string_view PolicyVerdictName(PolicyVerdict verdict) {
  switch (verdict) {
    case PolicyVerdict::kSend:
      return "send";
    case PolicyVerdict::kDefer:
      return "defer";
    case PolicyVerdict::kSuppress:
      return "suppress";
    case PolicyVerdict::kHoldout:
      return "holdout";
  }
  return "unknown";
}

std::string_view ReasonName(PolicyReason reason) {
  switch (reason) {
    case PolicyReason::kNone:
      return "";
    case PolicyReason::kHoldout:
      return "holdout";
    case PolicyReason::kNoConsent:
      return "no_consent";
    case PolicyReason::kQuietHours:
      return "quiet_hours";
    case PolicyReason::kFrequencyCap:
      return "frequency_cap";
    case PolicyReason::kSuperseded:
      return "superseded";
    case PolicyReason::kStale:
      return "stale";
    case PolicyReason::kStateLimit:
      return "state_limit";
  }
  return "unknown";
}

std::string DescribeDecision(const Decision& decision) {
  switch (decision.verdict) {
    case PolicyVerdict::kSend:
      return "SEND " + v1::Channel_Name(decision.channel);
    case PolicyVerdict::kDefer:
      return "DEFER " + std::string(ReasonName(decision.reason)) + " until " +
             FormatTime(decision.until_ms);
    case PolicyVerdict::kSuppress:
      return "SUPPRESS " + std::string(ReasonName(decision.reason));
    case PolicyVerdict::kHoldout:
      return "HOLDOUT";
  }
  return "UNKNOWN";
}

}  // namespace touchstream
