// win_back: a customer inactive for each of `tiers` (event time since their last engagement)
// gets WIN_BACK, tier by tier; their next engagement after a WIN_BACK is REACTIVATED.
//
// - Engagement = any event but CONSENT_CHANGE, ERASURE_REQUEST and IDENTIFY. Each engagement
//   later than the current last activity starts a new dormancy and re-arms every tier; a late
//   one (at or before the current last activity) changes nothing but eligibility.
// - Tier i (1-based) fires at most once per dormancy, when the watermark reaches dormancy
//   start + tiers[i-1]: WIN_BACK with fire_time = that due time and cause_event_id = the event
//   that started the dormancy. Only eligible customers get it: with require_purchase, those
//   with at least one purchase, online or offline (a late purchase counts too).
// - REACTIVATED: the engagement that ends a dormancy in which a WIN_BACK fired (event-caused;
//   dormant_days = its time − the dormancy start, in whole days; channel = its channel). An
//   engagement from before the first WIN_BACK's due time that arrives late ends the dormancy
//   without REACTIVATED: it was no response to a win-back.
// - One timer: the next unfired tier of the current dormancy.
#pragma once

#include <vector>

#include "processor/core/rule.h"

namespace touchstream {

class YamlReader;

struct WinBackParams {
  // Inactivity thresholds: non-empty, each > 0, strictly increasing.
  std::vector<DurationMs> tiers_ms{30 * kDayMs, 60 * kDayMs, 90 * kDayMs};
  bool require_purchase = true;
};

class WinBackRule final : public Rule {
 public:
  WinBackRule(std::string id, WinBackParams params)
      : Rule(std::move(id)), params_(std::move(params)) {}

  void OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
               const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  void OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  RuleState::KindCase state_kind() const override { return RuleState::kWinBack; }
  TimeMs DueNow(const CustomerState& customer, const RuleState& rule_state) const override {
    return NextDue(rule_state.win_back(), customer);
  }
  bool Emits(v1::TriggerType type) const override {
    return type == v1::TRIGGER_TYPE_WIN_BACK || type == v1::TRIGGER_TYPE_REACTIVATED;
  }
  bool StillHolds(const v1::Trigger& trigger, TimeMs release_ms, const CustomerState& customer,
                  const RuleState* rule_state) const override;

  const WinBackParams& params() const { return params_; }

 private:
  bool Eligible(const CustomerState& customer) const;
  // Due time of the dormancy's next unfired tier; 0 when none is left or not eligible.
  TimeMs NextDue(const v1::state::WinBackRuleState& dormancy, const CustomerState& customer) const;

  const WinBackParams params_;
};

// The `win_back` kind's builder (processor/rules/rule_registry.h): reads `tiers` (a non-empty
// list of strictly increasing durations > 0) and `require_purchase`.
std::unique_ptr<const Rule> MakeWinBackRule(const std::string& id, YamlReader& params);

}  // namespace touchstream
