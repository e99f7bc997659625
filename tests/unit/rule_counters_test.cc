// RuleCounters resolves each (rule, a, b) once and returns the family's own counter.
#include "processor/metrics/rule_counters.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

namespace touchstream {
namespace {

prometheus::Labels LabelsOf(const std::string& rule, int a, int b) {
  return {{"rule", rule}, {"a", std::to_string(a)}, {"b", std::to_string(b)}};
}

TEST(RuleCountersTest, EachCounterIsTheFamilysOwnForItsLabels) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("x_total").Help("x").Register(registry);
  RuleCounters counters(family, 3, 2, LabelsOf);
  counters.Get("r1", 2, 1).Increment();
  counters.Get("r1", 2, 1).Increment();
  counters.Get("r2", 0, 0).Increment(5);
  // Outside the cached range: still the family's counter of those labels.
  counters.Get("r1", 7, 0).Increment();
  counters.Get("r1", 7, 0).Increment();
  EXPECT_EQ(family.Add(LabelsOf("r1", 2, 1)).Value(), 2);
  EXPECT_EQ(family.Add(LabelsOf("r2", 0, 0)).Value(), 5);
  EXPECT_EQ(family.Add(LabelsOf("r1", 7, 0)).Value(), 2);
  EXPECT_EQ(&counters.Get("r1", 2, 1), &family.Add(LabelsOf("r1", 2, 1)));
  EXPECT_EQ(&counters.Get("r1", 1, 1), &family.Add(LabelsOf("r1", 1, 1)))
      << "no two (a, b) share a slot";
  EXPECT_NE(&counters.Get("r1", 1, 1), &counters.Get("r1", 2, 0));
  EXPECT_EQ(family.Collect().at(0).metric.size(), 5u);  // only what was asked for
}

}  // namespace
}  // namespace touchstream
