// The suggested channel (issue 12, step 2): the permitted channel the customer engaged on most
// recently; for a customer who never engaged on a permitted one, the first permitted channel in
// `channels.preference`. Pure.
#pragma once

#include <optional>

#include "processor/core/time.h"
#include "processor/policy/consent.h"
#include "processor/policy/policy_config.h"

namespace touchstream {

// Records an engagement on `channel` at `time_ms` if it is the channel's latest. Returns
// whether the state changed.
bool RecordEngagement(v1::Channel channel, TimeMs time_ms, PolicyState& state);

// The channel to suggest, nullopt when no channel is permitted (SUPPRESS no_consent). Ties in
// engagement time go to the channel earlier in `preference`.
std::optional<v1::Channel> ChooseChannel(const PolicyState& state, const ChannelPolicy& policy);

}  // namespace touchstream
