#include "processor/policy/frequency_cap.h"

#include <algorithm>

namespace touchstream {

CapCheck CheckCaps(const std::string& rule_id, TimeMs t, const PolicyState& state,
                   const std::vector<FrequencyCap>& caps) {
  CapCheck check;
  std::vector<TimeMs> counted;  // oldest first, as stored
  for (const FrequencyCap& cap : caps) {
    if (!cap.AppliesTo(rule_id)) continue;
    counted.clear();
    for (const v1::state::SentTrigger& sent : state.sent()) {
      if (sent.time_ms() > t - cap.per && sent.time_ms() <= t && cap.AppliesTo(sent.rule_id())) {
        counted.push_back(sent.time_ms());
      }
    }
    const int64_t count = static_cast<int64_t>(counted.size());
    if (count < cap.max) continue;
    // Room again once count - max + 1 of the counted sends have left the window.
    const TimeMs room_at = counted[count - cap.max] + cap.per;
    check.retry_ms = check.allowed ? room_at : std::max(check.retry_ms, room_at);
    check.allowed = false;
  }
  return check;
}

void RecordSend(const std::string& rule_id, TimeMs send_ms, const PolicyConfig& config,
                PolicyState& state) {
  if (!config.AnyCapCounts(rule_id)) return;
  auto* sent = state.mutable_sent();
  v1::state::SentTrigger added;
  added.set_time_ms(send_ms);
  added.set_rule_id(rule_id);
  auto at =
      std::upper_bound(sent->begin(), sent->end(), send_ms,
                       [](TimeMs t, const v1::state::SentTrigger& s) { return t < s.time_ms(); });
  const int index = static_cast<int>(at - sent->begin());
  sent->Add(std::move(added));
  // Moves the appended entry to `index`, keeping the list sorted by time (oldest first).
  for (int i = sent->size() - 1; i > index; --i) sent->SwapElements(i, i - 1);

  const TimeMs latest = sent->Get(sent->size() - 1).time_ms();
  const TimeMs horizon = latest - config.LongestCapWindow();
  int expired = 0;
  while (expired < sent->size() && sent->Get(expired).time_ms() <= horizon) ++expired;
  if (expired > 0) sent->DeleteSubrange(0, expired);
}

}  // namespace touchstream
