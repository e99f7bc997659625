#include "processor/metrics/labels.h"

#include <cctype>

namespace touchstream {

namespace {

std::string Lower(const std::string& name, size_t strip_prefix) {
  std::string out = name.substr(strip_prefix);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ChannelLabel(v1::Channel channel) {
  return Lower(v1::Channel_Name(channel), sizeof("CHANNEL_") - 1);
}

std::string EventTypeLabel(v1::EventType type) {
  return Lower(v1::EventType_Name(type), sizeof("EVENT_TYPE_") - 1);
}

std::string TriggerLabel(v1::TriggerType type) {
  return Lower(v1::TriggerType_Name(type), sizeof("TRIGGER_TYPE_") - 1);
}

}  // namespace touchstream
