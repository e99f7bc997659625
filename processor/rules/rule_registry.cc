#include "processor/rules/rule_registry.h"

#include <algorithm>

#include "processor/rules/browse_abandonment_rule.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "processor/rules/reward_window_rule.h"
#include "processor/rules/win_back_rule.h"

namespace touchstream {

const std::vector<RuleKind>& RuleKinds() {
  // One line per kind.
  static const std::vector<RuleKind> kinds{
      {"browse_abandonment", &MakeBrowseAbandonmentRule},
      {"cart_abandonment", &MakeCartAbandonmentRule},
      {"reward_window", &MakeRewardWindowRule},
      {"win_back", &MakeWinBackRule},
  };
  return kinds;
}

namespace {

// "cart_abandonment, reward_window, ...": the known kinds, sorted, for error messages.
std::string KnownKindNames() {
  std::vector<std::string_view> names;
  for (const RuleKind& kind : RuleKinds()) names.push_back(kind.name);
  std::sort(names.begin(), names.end());
  std::string list;
  for (std::string_view name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

}  // namespace

const RuleKind* FindRuleKind(std::string_view name) {
  const auto& kinds = RuleKinds();
  auto it = std::find_if(kinds.begin(), kinds.end(),
                         [name](const RuleKind& kind) { return kind.name == name; });
  return it == kinds.end() ? nullptr : &*it;
}

RuleSet BuildRuleSet(const std::vector<RuleSpec>& specs) {
  RuleSet rules;
  for (const RuleSpec& spec : specs) {
    const RuleKind* kind = FindRuleKind(spec.kind);
    if (kind == nullptr) {
      throw ConfigError(spec.path() + ".kind: '" + spec.kind +
                        "' is not one of: " + KnownKindNames());
    }
    YamlReader params(spec.params, spec.path());
    rules.push_back(kind->build(spec.id, params));
    params.Finish();
  }
  return rules;
}

}  // namespace touchstream
