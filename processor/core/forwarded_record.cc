#include "processor/core/forwarded_record.h"

#include <charconv>

#include "processor/core/dead_letter.h"
#include "processor/core/partition_name.h"

namespace touchstream {

namespace {

constexpr std::string_view kTopicHeader = "touchstream.source.topic";
constexpr std::string_view kPartitionHeader = "touchstream.source.partition";
constexpr std::string_view kOffsetHeader = "touchstream.source.offset";
constexpr std::string_view kCreateTimeHeader = "touchstream.source.create_time";

template <typename Int>
bool ParseDecimal(std::string_view text, Int& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

}  // namespace

v1::state::OutboxRecord MakeForwarded(const std::string& repartition_topic, int32_t owner,
                                      std::string_view customer_id, const InputRecord& record) {
  v1::state::OutboxRecord out;
  out.set_topic(repartition_topic);
  out.set_partition(owner);
  out.set_key(std::string(customer_id));
  out.set_value(std::string(record.value));
  AddHeader(out, kTopicHeader, record.topic);
  AddHeader(out, kPartitionHeader, std::to_string(record.partition));
  AddHeader(out, kOffsetHeader, std::to_string(record.offset));
  if (record.create_time_ms) {
    AddHeader(out, kCreateTimeHeader, std::to_string(*record.create_time_ms));
  }
  return out;
}

std::optional<RecordOrigin> ParseOrigin(std::span<const InputHeader> headers) {
  RecordOrigin origin;
  int found = 0;
  for (const InputHeader& h : headers) {
    if (h.key == kTopicHeader && !h.value.empty()) {
      origin.topic = h.value;
      found |= 1;
    } else if (h.key == kPartitionHeader && ParseDecimal(h.value, origin.partition)) {
      found |= 2;
    } else if (h.key == kOffsetHeader && ParseDecimal(h.value, origin.offset)) {
      found |= 4;
    } else if (TimeMs ms = 0; h.key == kCreateTimeHeader && ParseDecimal(h.value, ms)) {
      origin.create_time_ms = ms;
    }
  }
  if (found != 7) return std::nullopt;
  return origin;
}

std::string OriginKey(std::string_view topic, int32_t partition) {
  return PartitionName(topic, partition);
}

}  // namespace touchstream
