#include "processor/policy/consent.h"

#include <algorithm>

namespace touchstream {

namespace {

bool Contains(const std::vector<v1::Channel>& channels, v1::Channel channel) {
  return std::find(channels.begin(), channels.end(), channel) != channels.end();
}

}  // namespace

const v1::state::ChannelConsent* FindConsent(const PolicyState& state, v1::Channel channel) {
  for (const v1::state::ChannelConsent& c : state.consent()) {
    if (c.channel() == channel) return &c;
  }
  return nullptr;
}

bool ApplyConsentChange(v1::Channel channel, bool opted_in, TimeMs time_ms, PolicyState& state) {
  auto* entries = state.mutable_consent();
  auto it = std::lower_bound(
      entries->begin(), entries->end(), channel,
      [](const v1::state::ChannelConsent& c, v1::Channel ch) { return c.channel() < ch; });
  if (it != entries->end() && it->channel() == channel) {
    const bool newer = time_ms > it->time_ms();
    const bool opt_out_at_same_time = time_ms == it->time_ms() && !opted_in && it->opted_in();
    if (!newer && !opt_out_at_same_time) return false;
    it->set_opted_in(opted_in);
    it->set_time_ms(time_ms);
    return true;
  }
  v1::state::ChannelConsent added;
  added.set_channel(channel);
  added.set_opted_in(opted_in);
  added.set_time_ms(time_ms);
  const int index = static_cast<int>(it - entries->begin());
  entries->Add(std::move(added));
  // Moves the appended entry to `index`, keeping the list sorted by channel.
  for (int i = entries->size() - 1; i > index; --i) entries->SwapElements(i, i - 1);
  return true;
}

bool IsPermitted(v1::Channel channel, const PolicyState& state, const ChannelPolicy& policy) {
  if (!Contains(policy.messageable, channel)) return false;
  if (const v1::state::ChannelConsent* consent = FindConsent(state, channel)) {
    return consent->opted_in();
  }
  return !Contains(policy.opt_in_required, channel);
}

}  // namespace touchstream
