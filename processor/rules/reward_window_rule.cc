#include "processor/rules/reward_window_rule.h"

#include <limits>

#include "processor/config/yaml_reader.h"
#include "processor/core/customer_aggregate.h"
#include "processor/core/saturating.h"

namespace touchstream {

namespace {

using Window = v1::state::RewardRuleState;

// amount × points / 100, floored; saturates instead of overflowing.
int64_t BonusPoints(int64_t amount_minor, int64_t points_per_unit) {
  return SaturatingAdd(SaturatingMul(amount_minor / 100, points_per_unit),
                       amount_minor % 100 * points_per_unit / 100);
}

Emission RewardTrigger(v1::TriggerType type, const Window& window) {
  Emission e;
  e.episode = window.window_id();
  e.trigger.set_type(type);
  v1::RewardDetail& detail = *e.trigger.mutable_reward();
  detail.set_window_id(window.window_id());
  detail.set_campaign_id(window.campaign_id());
  *detail.mutable_opens_at() = ToTimestamp(window.opens_ms());
  *detail.mutable_expires_at() = ToTimestamp(window.expires_ms());
  detail.set_purchases(window.purchases());
  detail.set_amount_minor(window.amount_minor());
  return e;
}

Emission TimerTrigger(v1::TriggerType type, TimeMs due_ms, const Window& window) {
  Emission e = RewardTrigger(type, window);
  *e.trigger.mutable_fire_time() = ToTimestamp(due_ms);
  e.trigger.set_cause_event_id(window.opened_by_event_id());
  return e;
}

// Forgets the window but remembers when it closed, for the cooldown and so that a late opener
// from before the close cannot reopen the past. Clears the timer.
void Close(TimeMs closed_ms, RuleState& rule_state) {
  rule_state.Clear();
  rule_state.mutable_reward()->set_last_closed_ms(closed_ms);
}

}  // namespace

bool RewardWindowRule::IsOpener(const v1::TouchpointEvent& event) const {
  return event.type() == params_.opener_type &&
         (params_.opener_campaign_id.empty() || event.campaign_id() == params_.opener_campaign_id);
}

TimeMs RewardWindowRule::NextDue(const Window& window) const {
  if (params_.reminder_before_ms > 0 && !window.reminder_sent()) {
    return window.expires_ms() - params_.reminder_before_ms;
  }
  return window.expires_ms();
}

void RewardWindowRule::OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& /*applied*/,
                               const CustomerState& /*customer*/, RuleState& rule_state,
                               std::vector<Emission>& out) const {
  // Read through the const accessor: mutable_reward() would leave a non-empty state behind.
  const Window& window = rule_state.reward();
  const TimeMs t = ToTimeMs(event.event_time());
  if (!window.window_id().empty()) {
    // An opener after the window's end, its expiry not fired yet (timers.allowed_lateness):
    // the window expires first, as it would have in event-time order, and the opener counts.
    if (!IsOpener(event) || t < window.expires_ms()) {
      CountPurchase(event, rule_state, out);
      return;
    }
    out.push_back(
        TimerTrigger(v1::TRIGGER_TYPE_REWARD_WINDOW_EXPIRED, window.expires_ms(), window));
    Close(window.expires_ms(), rule_state);
  }
  if (!IsOpener(event)) return;
  const TimeMs last_closed_ms = rule_state.reward().last_closed_ms();  // Close replaced `window`
  if (last_closed_ms != 0 && t < last_closed_ms + params_.cooldown_ms) return;
  Open(event, rule_state, out);
}

void RewardWindowRule::Open(const v1::TouchpointEvent& event, RuleState& rule_state,
                            std::vector<Emission>& out) const {
  const TimeMs t = ToTimeMs(event.event_time());
  Window& window = *rule_state.mutable_reward();
  window.set_window_id(id() + ":" + std::to_string(t));
  window.set_campaign_id(event.campaign_id());
  window.set_opens_ms(t);
  window.set_expires_ms(t + params_.duration_ms);
  window.set_opened_by_event_id(event.event_id());
  rule_state.set_due_ms(NextDue(window));
  out.push_back(RewardTrigger(v1::TRIGGER_TYPE_REWARD_WINDOW_OPENED, window));
}

void RewardWindowRule::CountPurchase(const v1::TouchpointEvent& event, RuleState& rule_state,
                                     std::vector<Emission>& out) const {
  const TimeMs t = ToTimeMs(event.event_time());
  Window& window = *rule_state.mutable_reward();
  if (event.type() != v1::EVENT_TYPE_PURCHASE || t < window.opens_ms() ||
      t >= window.expires_ms()) {
    return;
  }
  window.set_purchases(window.purchases() + 1);
  window.set_amount_minor(SaturatingAdd(window.amount_minor(), OrderTotalMinor(event)));
  if (window.purchases() < params_.goal_purchases ||
      window.amount_minor() < params_.goal_min_amount_minor) {
    return;
  }
  Emission e = RewardTrigger(v1::TRIGGER_TYPE_REWARD_EARNED, window);
  e.trigger.mutable_reward()->set_bonus_points(
      BonusPoints(window.amount_minor(), params_.points_per_unit));
  out.push_back(std::move(e));
  Close(t, rule_state);
}

void RewardWindowRule::OnTimer(TimeMs due_ms, const CustomerState& /*customer*/,
                               RuleState& rule_state, std::vector<Emission>& out) const {
  Window& window = *rule_state.mutable_reward();
  if (window.window_id().empty()) {
    rule_state.set_due_ms(0);
    return;
  }
  if (due_ms < window.expires_ms()) {
    window.set_reminder_sent(true);
    rule_state.set_due_ms(NextDue(window));
    out.push_back(TimerTrigger(v1::TRIGGER_TYPE_REWARD_WINDOW_REMINDER, due_ms, window));
    return;
  }
  out.push_back(TimerTrigger(v1::TRIGGER_TYPE_REWARD_WINDOW_EXPIRED, due_ms, window));
  Close(window.expires_ms(), rule_state);
}

namespace {

// Required; "OFFER_ACCEPTED" or "EVENT_TYPE_OFFER_ACCEPTED".
v1::EventType ReadEventType(YamlReader& p, const std::string& key) {
  const std::string name = p.String(key, "");
  if (name.empty()) throw ConfigError(p.Key(key) + ": required, e.g. OFFER_ACCEPTED");
  const std::string full = name.rfind("EVENT_TYPE_", 0) == 0 ? name : "EVENT_TYPE_" + name;
  v1::EventType type = v1::EVENT_TYPE_UNSPECIFIED;
  // Erasure requests never reach rules.
  if (!v1::EventType_Parse(full, &type) || type == v1::EVENT_TYPE_UNSPECIFIED ||
      type == v1::EVENT_TYPE_ERASURE_REQUEST) {
    throw ConfigError(p.Key(key) + ": '" + name +
                      "' is not an event type that can open a window, e.g. OFFER_ACCEPTED");
  }
  return type;
}

}  // namespace

std::unique_ptr<const Rule> MakeRewardWindowRule(const std::string& id, YamlReader& p) {
  RewardWindowParams params;
  YamlReader opener = p.Child("opener");
  params.opener_type = ReadEventType(opener, "event_type");
  params.opener_campaign_id = opener.String("campaign_id", params.opener_campaign_id);
  opener.Finish();

  params.duration_ms = p.Duration("duration", params.duration_ms);
  if (params.duration_ms <= 0) throw ConfigError(p.Key("duration") + ": must be greater than 0");

  YamlReader goal = p.Child("goal");
  params.goal_purchases =
      static_cast<int32_t>(goal.Int("purchases", params.goal_purchases, 1, 1'000'000));
  params.goal_min_amount_minor = goal.Int("min_amount_minor", params.goal_min_amount_minor, 0,
                                          std::numeric_limits<int64_t>::max());
  goal.Finish();

  params.reminder_before_ms = p.Duration("reminder_before", params.reminder_before_ms);
  if (params.reminder_before_ms >= params.duration_ms) {
    throw ConfigError(p.Key("reminder_before") + ": must be less than duration (" +
                      FormatDuration(params.duration_ms) + ")");
  }
  params.points_per_unit = p.Int("points_per_unit", params.points_per_unit, 0, 1'000'000);
  params.cooldown_ms = p.Duration("cooldown", params.cooldown_ms);
  return std::make_unique<RewardWindowRule>(id, std::move(params));
}

bool RewardWindowRule::StillHolds(const v1::Trigger& trigger, TimeMs release_ms,
                                  const CustomerState& /*customer*/,
                                  const RuleState* rule_state) const {
  if (trigger.type() != v1::TRIGGER_TYPE_REWARD_WINDOW_REMINDER) return true;
  // The window it reminds of is still open (not earned, not expired) at the release.
  return rule_state != nullptr &&
         rule_state->reward().window_id() == trigger.reward().window_id() &&
         release_ms < rule_state->reward().expires_ms();
}

}  // namespace touchstream
