// reward_window: an opener event (e.g. OFFER_ACCEPTED) opens a reward window of `duration`;
// reaching the purchase goal inside it earns bonus points.
//
// - An opener (its type, and its campaign_id if the rule names one) opens the window
//   [t, t + duration) when none is open and t >= the last window's close + cooldown:
//   REWARD_WINDOW_OPENED. window_id = "<rule_id>:<opens epoch ms>"; campaign_id is the
//   opener's. An opener while a window is open, or during the cooldown, does nothing.
// - Each PURCHASE on any channel, online or in-store, with opens_at <= t < expires_at adds 1
//   purchase and its order total (amount_minor, or the items' total when that is 0). When
//   both goal parts are met: REWARD_EARNED with bonus_points = amount × points_per_unit / 100
//   (floored), and the window closes at that purchase's time. The opener itself never counts,
//   even when it is a PURCHASE, and an event that closes a window opens none.
// - With reminder_before > 0, REWARD_WINDOW_REMINDER once at expires_at − reminder_before.
// - At expires_at with the goal unmet: REWARD_WINDOW_EXPIRED; the window closes then. A
//   purchase exactly at expires_at is too late (the timer fires before it is applied).
// - Timer-fired triggers have fire_time = the due time and cause_event_id = the opener.
//   Every trigger carries a RewardDetail; episode = window_id.
// - One timer: the reminder while it is pending, else the expiry.
#pragma once

#include <string>

#include "processor/core/rule.h"

namespace touchstream {

class YamlReader;

struct RewardWindowParams {
  v1::EventType opener_type = v1::EVENT_TYPE_OFFER_ACCEPTED;
  std::string opener_campaign_id;         // empty: any campaign
  DurationMs duration_ms = 72 * kHourMs;  // > 0
  int32_t goal_purchases = 1;             // >= 1
  int64_t goal_min_amount_minor = 0;
  DurationMs reminder_before_ms = 0;  // 0: no reminder; else < duration_ms
  int64_t points_per_unit = 0;        // bonus points per major currency unit (100 minor)
  DurationMs cooldown_ms = 0;         // after a window closes, before an opener counts again
};

class RewardWindowRule final : public Rule {
 public:
  RewardWindowRule(std::string id, RewardWindowParams params)
      : Rule(std::move(id)), params_(std::move(params)) {}

  void OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
               const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  void OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
               std::vector<Emission>& out) const override;
  RuleState::KindCase state_kind() const override { return RuleState::kReward; }
  TimeMs DueNow(const CustomerState& /*customer*/, const RuleState& rule_state) const override {
    return rule_state.reward().window_id().empty() ? 0 : NextDue(rule_state.reward());
  }
  bool Emits(v1::TriggerType type) const override {
    return type == v1::TRIGGER_TYPE_REWARD_WINDOW_OPENED ||
           type == v1::TRIGGER_TYPE_REWARD_WINDOW_REMINDER ||
           type == v1::TRIGGER_TYPE_REWARD_EARNED || type == v1::TRIGGER_TYPE_REWARD_WINDOW_EXPIRED;
  }
  bool StillHolds(const v1::Trigger& trigger, TimeMs release_ms, const CustomerState& customer,
                  const RuleState* rule_state) const override;

  const RewardWindowParams& params() const { return params_; }

 private:
  bool IsOpener(const v1::TouchpointEvent& event) const;
  void Open(const v1::TouchpointEvent& event, RuleState& rule_state,
            std::vector<Emission>& out) const;
  void CountPurchase(const v1::TouchpointEvent& event, RuleState& rule_state,
                     std::vector<Emission>& out) const;
  // The reminder time while the reminder is pending, else the expiry.
  TimeMs NextDue(const v1::state::RewardRuleState& window) const;

  const RewardWindowParams params_;
};

// The `reward_window` kind's builder (processor/rules/rule_registry.h): reads `opener`
// (`event_type` required, `campaign_id`), `duration`, `goal` (`purchases`,
// `min_amount_minor`), `reminder_before`, `points_per_unit` and `cooldown`.
std::unique_ptr<const Rule> MakeRewardWindowRule(const std::string& id, YamlReader& params);

}  // namespace touchstream
