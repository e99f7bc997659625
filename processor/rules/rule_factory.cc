#include "processor/rules/rule_factory.h"

#include <limits>
#include <vector>

#include "processor/rules/cart_abandonment_rule.h"
#include "processor/rules/reward_window_rule.h"
#include "processor/rules/win_back_rule.h"

namespace touchstream {

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

void CheckId(const std::string& id) {
  const bool valid = !id.empty() && id.size() <= 64 &&
                     id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                         std::string::npos;
  if (!valid) {
    throw ConfigError("rules." + id +
                      ": a rule id is 1-64 characters of a-z, 0-9, '_' and '-'");
  }
}

std::unique_ptr<const Rule> MakeCartAbandonment(const std::string& id, YamlReader& p) {
  CartAbandonmentParams params;
  params.delay_ms = p.Duration("delay", params.delay_ms);
  if (params.delay_ms <= 0) throw ConfigError(p.Key("delay") + ": must be greater than 0");
  params.min_cart_value_minor =
      p.Int("min_cart_value_minor", params.min_cart_value_minor, 0, kMaxInt);
  return std::make_unique<CartAbandonmentRule>(id, params);
}

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
    if (!tiers.empty() && *d <= tiers.back()) {
      throw ConfigError(item + ": must be greater than the previous tier (" +
                        FormatDuration(tiers.back()) + ")");
    }
    tiers.push_back(*d);
  }
  return tiers;
}

std::unique_ptr<const Rule> MakeWinBack(const std::string& id, YamlReader& p) {
  WinBackParams params;
  params.tiers_ms = ReadTiers(p, params.tiers_ms);
  params.require_purchase = p.Bool("require_purchase", params.require_purchase);
  return std::make_unique<WinBackRule>(id, std::move(params));
}

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

std::unique_ptr<const Rule> MakeRewardWindow(const std::string& id, YamlReader& p) {
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
  params.goal_min_amount_minor =
      goal.Int("min_amount_minor", params.goal_min_amount_minor, 0, kMaxInt);
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

}  // namespace

std::unique_ptr<const Rule> MakeRule(const std::string& id, YamlReader& params) {
  CheckId(id);
  const std::string kind =
      params.Enum("kind", "", {"cart_abandonment", "win_back", "reward_window"});
  if (kind == "cart_abandonment") return MakeCartAbandonment(id, params);
  if (kind == "win_back") return MakeWinBack(id, params);
  if (kind == "reward_window") return MakeRewardWindow(id, params);
  throw ConfigError(params.Key("kind") + ": unknown rule kind '" + kind + "'");
}

}  // namespace touchstream
