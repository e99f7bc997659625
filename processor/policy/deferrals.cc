#include "processor/policy/deferrals.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace touchstream {

v1::state::DeferralReason DeferralReasonOf(PolicyReason reason) {
  switch (reason) {
    case PolicyReason::kQuietHours:
      return v1::state::DEFERRAL_REASON_QUIET_HOURS;
    case PolicyReason::kFrequencyCap:
      return v1::state::DEFERRAL_REASON_FREQUENCY_CAP;
    default:
      return v1::state::DEFERRAL_REASON_UNSPECIFIED;
  }
}

void AddDeferral(v1::Trigger trigger, TimeMs release_ms, v1::state::DeferralReason reason,
                 PolicyState& state) {
  RemoveDeferral(trigger.trigger_id(), state);
  auto* deferred = state.mutable_deferred();
  auto at = std::upper_bound(
      deferred->begin(), deferred->end(), std::forward_as_tuple(release_ms, trigger.trigger_id()),
      [](const auto& key, const v1::state::DeferredTrigger& d) {
        return key < std::forward_as_tuple(d.release_ms(), d.trigger().trigger_id());
      });
  const int index = static_cast<int>(at - deferred->begin());
  v1::state::DeferredTrigger* added = deferred->Add();
  *added->mutable_trigger() = std::move(trigger);
  added->set_release_ms(release_ms);
  added->set_reason(reason);
  // Moves the appended entry to `index`, keeping the list sorted.
  for (int i = deferred->size() - 1; i > index; --i) deferred->SwapElements(i, i - 1);
}

bool RemoveDeferral(const std::string& trigger_id, PolicyState& state) {
  auto* deferred = state.mutable_deferred();
  for (int i = 0; i < deferred->size(); ++i) {
    if (deferred->Get(i).trigger().trigger_id() == trigger_id) {
      deferred->DeleteSubrange(i, 1);
      return true;
    }
  }
  return false;
}

std::optional<TimeMs> NextRelease(const PolicyState& state) {
  if (state.deferred().empty()) return std::nullopt;
  return state.deferred(0).release_ms();
}

}  // namespace touchstream
