#include "processor/policy/channel_choice.h"

#include <algorithm>

namespace touchstream {

bool RecordEngagement(v1::Channel channel, TimeMs time_ms, PolicyState& state) {
  auto* entries = state.mutable_engagement();
  auto it = std::lower_bound(
      entries->begin(), entries->end(), channel,
      [](const v1::state::ChannelEngagement& e, v1::Channel ch) { return e.channel() < ch; });
  if (it != entries->end() && it->channel() == channel) {
    if (time_ms <= it->last_ms()) return false;
    it->set_last_ms(time_ms);
    return true;
  }
  v1::state::ChannelEngagement added;
  added.set_channel(channel);
  added.set_last_ms(time_ms);
  const int index = static_cast<int>(it - entries->begin());
  entries->Add(std::move(added));
  // Moves the appended entry to `index`, keeping the list sorted by channel.
  for (int i = entries->size() - 1; i > index; --i) entries->SwapElements(i, i - 1);
  return true;
}

std::optional<v1::Channel> ChooseChannel(const PolicyState& state, const ChannelPolicy& policy) {
  std::optional<v1::Channel> first_permitted;
  std::optional<v1::Channel> latest_engaged;
  TimeMs latest_ms = 0;
  // In preference order, so that the first permitted channel and ties come out of it.
  for (v1::Channel channel : policy.preference) {
    if (!IsPermitted(channel, state, policy)) continue;
    if (!first_permitted) first_permitted = channel;
    for (const v1::state::ChannelEngagement& e : state.engagement()) {
      if (e.channel() != channel) continue;
      if (!latest_engaged || e.last_ms() > latest_ms) {
        latest_engaged = channel;
        latest_ms = e.last_ms();
      }
    }
  }
  return latest_engaged ? latest_engaged : first_permitted;
}

}  // namespace touchstream
