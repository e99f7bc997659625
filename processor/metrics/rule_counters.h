// The counters of one family by a rule id and up to two small enum labels (a trigger's type and
// channel; a policy decision's reason, by its index in the stage's list), each resolved from the
// family once. prometheus-cpp's Family::Add builds a label map, hashes it and takes the family's
// lock at every call; called per trigger, that was 1.4 % of `run`'s profile (per audit record,
// 1.7 %). For one thread (the consume thread); the counters themselves are safe for
// concurrent scrapes, and live as long as their family (none is ever removed).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace touchstream {

class RuleCounters {
 public:
  // The labels of (rule id, a, b).
  using LabelsFn = std::function<prometheus::Labels(const std::string& rule_id, int a, int b)>;

  // Enum values a in [0, a_count) and b in [0, b_count) are cached; others are looked up in the
  // family each time. `family` must outlive this object.
  RuleCounters(prometheus::Family<prometheus::Counter>& family, int a_count, int b_count,
               LabelsFn labels);

  prometheus::Counter& Get(const std::string& rule_id, int a, int b = 0);

 private:
  prometheus::Family<prometheus::Counter>& family_;
  const int a_count_;
  const int b_count_;
  const LabelsFn labels_;
  // Per rule id, a * b_count + b -> the counter (nullptr until first used).
  std::map<std::string, std::vector<prometheus::Counter*>, std::less<>> by_rule_;
};

}  // namespace touchstream
