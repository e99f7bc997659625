#include "processor/rules/win_back_rule.h"

#include "processor/config/yaml_reader.h"

namespace touchstream {

namespace {

Emission WinBack(TimeMs due_ms, int tier, const v1::state::WinBackRuleState& dormancy) {
  const TimeMs start = dormancy.dormancy_start_ms();
  Emission e;
  e.episode = std::to_string(start) + "/" + std::to_string(tier);
  v1::Trigger& t = e.trigger;
  t.set_type(v1::TRIGGER_TYPE_WIN_BACK);
  *t.mutable_fire_time() = ToTimestamp(due_ms);
  t.set_cause_event_id(dormancy.started_by_event_id());
  v1::WinBackDetail& detail = *t.mutable_win_back();
  detail.set_tier(tier);
  *detail.mutable_last_activity_time() = ToTimestamp(start);
  detail.set_inactive_days(static_cast<int32_t>((due_ms - start) / kDayMs));
  return e;
}

// fire_time and cause_event_id are the event's, filled in by the pipeline.
Emission Reactivated(const v1::TouchpointEvent& event, const v1::state::WinBackRuleState& ended) {
  const TimeMs start = ended.dormancy_start_ms();
  Emission e;
  e.episode = std::to_string(start);
  v1::Trigger& t = e.trigger;
  t.set_type(v1::TRIGGER_TYPE_REACTIVATED);
  v1::ReactivatedDetail& detail = *t.mutable_reactivated();
  detail.set_dormant_days(static_cast<int32_t>((ToTimeMs(event.event_time()) - start) / kDayMs));
  detail.set_channel(event.channel());
  return e;
}

}  // namespace

bool WinBackRule::Eligible(const CustomerState& customer) const {
  return !params_.require_purchase || customer.purchases_online() > 0 ||
         customer.purchases_offline() > 0;
}

TimeMs WinBackRule::NextDue(const v1::state::WinBackRuleState& dormancy,
                            const CustomerState& customer) const {
  const size_t next = static_cast<size_t>(dormancy.tiers_fired());
  if (next >= params_.tiers_ms.size() || !Eligible(customer)) return 0;
  return dormancy.dormancy_start_ms() + params_.tiers_ms[next];
}

void WinBackRule::OnEvent(const v1::TouchpointEvent& event, const AppliedEvent& applied,
                          const CustomerState& customer, RuleState& rule_state,
                          std::vector<Emission>& out) const {
  if (!applied.engagement) return;
  const TimeMs t = ToTimeMs(event.event_time());
  const bool new_dormancy =
      !rule_state.has_win_back() || t > rule_state.win_back().dormancy_start_ms();
  v1::state::WinBackRuleState& dormancy = *rule_state.mutable_win_back();
  if (new_dormancy) {
    const bool after_first_win_back =
        dormancy.tiers_fired() > 0 && t >= dormancy.dormancy_start_ms() + params_.tiers_ms.front();
    if (after_first_win_back) out.push_back(Reactivated(event, dormancy));
    dormancy.set_dormancy_start_ms(t);
    dormancy.set_started_by_event_id(event.event_id());
    dormancy.set_tiers_fired(0);
  }
  // Also for a late event: a late purchase can make the customer eligible.
  rule_state.set_due_ms(NextDue(dormancy, customer));
}

void WinBackRule::OnTimer(TimeMs due_ms, const CustomerState& customer, RuleState& rule_state,
                          std::vector<Emission>& out) const {
  v1::state::WinBackRuleState& dormancy = *rule_state.mutable_win_back();
  rule_state.set_due_ms(0);
  // Re-checked because the config (tiers, require_purchase) may have changed since arming.
  if (NextDue(dormancy, customer) == 0) return;
  const int tier = dormancy.tiers_fired() + 1;
  dormancy.set_tiers_fired(tier);
  out.push_back(WinBack(due_ms, tier, dormancy));
  rule_state.set_due_ms(NextDue(dormancy, customer));
}

namespace {

// A list of strictly increasing positive durations, e.g. [30d, 60d, 90d].
std::vector<DurationMs> ReadTiers(YamlReader& p, std::vector<DurationMs> fallback) {
  const std::string key = p.Key("tiers");
  const YAML::Node node = p.Raw("tiers");
  if (!node || node.IsNull()) return fallback;
  if (!node.IsSequence() || node.size() == 0) {
    throw ConfigError(key + ": expected a non-empty list of durations, e.g. [30d, 60d, 90d]");
  }
  std::vector<DurationMs> tiers;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item = key + "[" + std::to_string(i) + "]";
    if (!node[i].IsScalar()) throw ConfigError(item + ": expected a duration");
    const std::optional<DurationMs> d = ParseDuration(node[i].Scalar());
    if (!d) {
      throw ConfigError(item + ": invalid duration '" + node[i].Scalar() +
                        "' (expected an integer with a unit: 500ms, 30s, 15m, 1h, 7d)");
    }
    if (*d <= 0) throw ConfigError(item + ": must be greater than 0");
    // Added to event times, as every config duration (YamlReader::Duration).
    if (*d > kMaxConfigDurationMs) throw ConfigError(item + ": must be at most 36500d (100 years)");
    if (!tiers.empty() && *d <= tiers.back()) {
      throw ConfigError(item + ": must be greater than the previous tier (" +
                        FormatDuration(tiers.back()) + ")");
    }
    tiers.push_back(*d);
  }
  return tiers;
}

}  // namespace

std::unique_ptr<const Rule> MakeWinBackRule(const std::string& id, YamlReader& p) {
  WinBackParams params;
  params.tiers_ms = ReadTiers(p, params.tiers_ms);
  params.require_purchase = p.Bool("require_purchase", params.require_purchase);
  return std::make_unique<WinBackRule>(id, std::move(params));
}

bool WinBackRule::StillHolds(const v1::Trigger& trigger, TimeMs /*release_ms*/,
                             const CustomerState& customer, const RuleState* /*rule_state*/) const {
  if (trigger.type() != v1::TRIGGER_TYPE_WIN_BACK) return true;  // REACTIVATED: a fact
  // No engagement since the inactivity it names.
  return customer.last_activity_ms() <= ToTimeMs(trigger.win_back().last_activity_time());
}

}  // namespace touchstream
