#include <gtest/gtest.h>

#include "processor/policy/priority.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::PolicyTrigger;

constexpr TimeMs kT = 1'800'000'000'000;

std::vector<std::string> Order(std::vector<DecisionCandidate> candidates,
                               const PolicyConfig& config) {
  OrderForDecision(candidates, config);
  std::vector<std::string> ids;
  for (const DecisionCandidate& c : candidates) ids.push_back(c.trigger->trigger_id());
  return ids;
}

TEST(PriorityTest, TimerFiredThenPriorityThenRuleId) {
  PolicyConfig config;
  config.rules["win_back"].priority = 10;
  config.rules["reward"].priority = -1;
  const v1::Trigger cart = PolicyTrigger("cart_1h", "c-1", kT, "t-cart");
  const v1::Trigger browse = PolicyTrigger("browse", "c-1", kT, "t-browse");
  const v1::Trigger win_back = PolicyTrigger("win_back", "c-1", kT, "t-win");
  const v1::Trigger reward = PolicyTrigger("reward", "c-1", kT, "t-reward");
  // Event-caused: win_back (10), then browse and cart_1h (0, by rule id), then reward (-1);
  // the timer-fired (or released) cart_1h comes before all of them.
  EXPECT_EQ(Order({{&reward, kT, false},
                   {&cart, kT, false},
                   {&win_back, kT, false},
                   {&browse, kT, false},
                   {&cart, kT, true}},
                  config),
            (std::vector<std::string>{"t-cart", "t-win", "t-browse", "t-cart", "t-reward"}));
}

TEST(PriorityTest, EarlierInstantFirstAndTriggerIdLast) {
  PolicyConfig config;
  const v1::Trigger a = PolicyTrigger("cart_1h", "c-1", kT, "t-a");
  const v1::Trigger b = PolicyTrigger("cart_1h", "c-1", kT, "t-b");
  const v1::Trigger later = PolicyTrigger("win_back", "c-1", kT + 1, "t-later");
  EXPECT_EQ(Order({{&later, kT + 1, true}, {&b, kT, false}, {&a, kT, false}}, config),
            (std::vector<std::string>{"t-a", "t-b", "t-later"}));
}

}  // namespace
}  // namespace touchstream
