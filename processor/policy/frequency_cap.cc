#include "processor/policy/frequency_cap.h"

#include <algorithm>

namespace touchstream {

namespace {

// Whether every window of `cap` that holds `t` ([w, w + per) with t - per < w <= t) has room
// for one more send. A window's count grows only where its end passes a send, so its fullest
// positions are the first one, (t - per, t], and each that ends at a later send.
bool HasRoom(const FrequencyCap& cap, const PolicyState& state, TimeMs t) {
  const auto count_from = [&](TimeMs w) {
    return std::count_if(state.sent().begin(), state.sent().end(), [&](const auto& sent) {
      return sent.time_ms() >= w && sent.time_ms() < w + cap.per && cap.AppliesTo(sent.rule_id());
    });
  };
  if (count_from(t - cap.per + 1) >= cap.max) return false;
  for (const v1::state::SentTrigger& sent : state.sent()) {
    const TimeMs s = sent.time_ms();
    if (s > t && s < t + cap.per && cap.AppliesTo(sent.rule_id()) &&
        count_from(s - cap.per + 1) >= cap.max) {
      return false;
    }
  }
  return true;
}

}  // namespace

CapCheck CheckCaps(const std::string& rule_id, TimeMs t, const PolicyState& state,
                   const std::vector<FrequencyCap>& caps) {
  if (state.sent_size() == 0) return CapCheck{};  // most customers: nothing sent lately
  const auto room_at = [&](TimeMs at) {
    return std::all_of(caps.begin(), caps.end(), [&](const FrequencyCap& cap) {
      return !cap.AppliesTo(rule_id) || HasRoom(cap, state, at);
    });
  };
  CapCheck check;
  if (room_at(t)) return check;
  check.allowed = false;
  // Room comes back only when a send leaves every window that holds the time (at send + per);
  // a later time meets later sends too, so the earliest such moment with room is the retry. At
  // the last of them every send has left.
  std::vector<TimeMs> leaves;
  for (const FrequencyCap& cap : caps) {
    if (!cap.AppliesTo(rule_id)) continue;
    for (const v1::state::SentTrigger& sent : state.sent()) {
      const TimeMs at = sent.time_ms() + cap.per;
      if (at > t && cap.AppliesTo(sent.rule_id())) leaves.push_back(at);
    }
  }
  std::sort(leaves.begin(), leaves.end());
  check.retry_ms = leaves.back();
  for (TimeMs at : leaves) {
    if (room_at(at)) {
      check.retry_ms = at;
      break;
    }
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

  // A decision may come before the latest send (a late event's timer, a trigger fired behind
  // an event-caused one): its windows reach back a longest window from its time.
  const TimeMs latest = sent->Get(sent->size() - 1).time_ms();
  const TimeMs horizon = latest - 2 * config.LongestCapWindow();
  int expired = 0;
  while (expired < sent->size() && sent->Get(expired).time_ms() <= horizon) ++expired;
  if (expired > 0) sent->DeleteSubrange(0, expired);
}

}  // namespace touchstream
