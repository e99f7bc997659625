#include "processor/policy/policy_state.h"

#include "processor/core/customer_aggregate.h"
#include "processor/policy/channel_choice.h"

namespace touchstream {

PolicyUpdate UpdatePolicyState(const v1::TouchpointEvent& event, const TimeZoneCatalog& zones,
                               PolicyState& state) {
  PolicyUpdate update;
  const TimeMs t = ToTimeMs(event.event_time());
  if (event.type() == v1::EVENT_TYPE_CONSENT_CHANGE) {
    const v1::Channel channel = event.consent().channel() != v1::CHANNEL_UNSPECIFIED
                                    ? event.consent().channel()
                                    : event.channel();
    if (v1::Channel_IsValid(channel) && channel != v1::CHANNEL_UNSPECIFIED) {
      update.changed |= ApplyConsentChange(channel, event.consent().opted_in(), t, state);
    }
  }
  if (IsEngagement(event.type())) update.changed |= RecordEngagement(event.channel(), t, state);
  if (!event.timezone().empty()) {
    if (!zones.Knows(event.timezone())) {
      update.unknown_timezone = true;
    } else if (state.timezone().empty() || t >= state.timezone_ms()) {
      update.changed |= state.timezone() != event.timezone() || state.timezone_ms() != t;
      state.set_timezone(event.timezone());
      state.set_timezone_ms(t);
    }
  }
  return update;
}

}  // namespace touchstream
