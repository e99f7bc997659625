#include "processor/metrics/rule_counters.h"

namespace touchstream {

RuleCounters::RuleCounters(prometheus::Family<prometheus::Counter>& family, int a_count,
                           int b_count, LabelsFn labels)
    : family_(family), a_count_(a_count), b_count_(b_count), labels_(std::move(labels)) {}

prometheus::Counter& RuleCounters::Get(const std::string& rule_id, int a, int b) {
  if (a < 0 || a >= a_count_ || b < 0 || b >= b_count_) {
    return family_.Add(labels_(rule_id, a, b));
  }
  auto it = by_rule_.find(rule_id);
  if (it == by_rule_.end()) {
    it = by_rule_.emplace(rule_id, std::vector<prometheus::Counter*>(a_count_ * b_count_)).first;
  }
  prometheus::Counter*& counter = it->second[a * b_count_ + b];
  if (counter == nullptr) counter = &family_.Add(labels_(rule_id, a, b));
  return *counter;
}

}  // namespace touchstream
