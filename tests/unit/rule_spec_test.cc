#include "processor/config/rule_spec.h"

#include <gtest/gtest.h>

#include "processor/config/config.h"
#include "processor/config/config_error.h"
#include "tests/unit/config_errors.h"

namespace touchstream {
namespace {

using testing::ParseErrorOf;

TEST(RuleSpecTest, KeepsIdKindAndTheKindsOwnKeysInConfigOrder) {
  const Config c = ParseConfig(R"(
rules:
  zz_cart: {kind: cart_abandonment, delay: 2h}
  aa_win_back: {kind: win_back}
)",
                               "t");
  ASSERT_EQ(c.rules.size(), 2u);
  EXPECT_EQ(c.rules[0].id, "zz_cart");
  EXPECT_EQ(c.rules[0].path(), "rules.zz_cart");
  EXPECT_EQ(c.rules[0].kind, "cart_abandonment");
  EXPECT_EQ(c.rules[0].params["delay"].as<std::string>(), "2h");
  EXPECT_FALSE(c.rules[0].params["kind"]) << "common keys are not the kind's parameters";
  EXPECT_EQ(c.rules[1].id, "aa_win_back");
  EXPECT_TRUE(c.rules[1].params.IsMap());
  EXPECT_EQ(c.rules[1].params.size(), 0u);
}

TEST(RuleSpecTest, KindParametersAreNotCheckedHere) {
  // The kind's builder checks them (BuildRuleSet, rule_registry_test.cc): config/ knows no kind.
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: cart_abandonment, delay: soon}}"), "no error");
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: no_such_kind}}"), "no error");
}

TEST(RuleSpecTest, ErrorsNameTheKey) {
  EXPECT_EQ(ParseErrorOf("rules: {\"Bad Id\": {kind: cart_abandonment}}"),
            "rules.Bad Id: a rule id is 1-64 characters of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(
      ParseErrorOf("rules: {" + std::string(65, 'a') + ": {kind: win_back}}"),
      "rules." + std::string(65, 'a') + ": a rule id is 1-64 characters of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(ParseErrorOf("rules: {c: 5}"), "rules.c: expected a mapping of keys to values");
  EXPECT_EQ(ParseErrorOf("rules: {c: {kind: [a]}}"), "rules.c.kind: expected a single value");
  EXPECT_EQ(ParseErrorOf("rules: [a]"), "rules: expected a mapping of rule id to rule");
}

}  // namespace
}  // namespace touchstream
