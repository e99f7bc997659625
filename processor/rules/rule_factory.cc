#include "processor/rules/rule_factory.h"

#include <limits>

#include "processor/rules/cart_abandonment_rule.h"

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

}  // namespace

std::unique_ptr<const Rule> MakeRule(const std::string& id, YamlReader& params) {
  CheckId(id);
  const std::string kind = params.Enum("kind", "", {"cart_abandonment"});
  if (kind == "cart_abandonment") return MakeCartAbandonment(id, params);
  throw ConfigError(params.Key("kind") + ": unknown rule kind '" + kind + "'");
}

}  // namespace touchstream
