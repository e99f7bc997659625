// Prometheus label values for the contract's enums: the enum value's name in lower case without
// its type prefix (CHANNEL_WEB -> "web", EVENT_TYPE_PAGE_VIEW -> "page_view",
// TRIGGER_TYPE_CART_ABANDONED -> "cart_abandoned"), as the dashboards and alerts spell them.
#pragma once

#include <string>

#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream {

std::string ChannelLabel(v1::Channel channel);
std::string EventTypeLabel(v1::EventType type);
std::string TriggerLabel(v1::TriggerType type);

}  // namespace touchstream
