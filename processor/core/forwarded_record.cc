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
  AddHeader(out, kCreateTimeHeader,
            record.create_time_ms ? std::to_string(*record.create_time_ms) : std::string());
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
    } else if (h.key == kCreateTimeHeader) {
      origin.create_time_header = true;
      if (TimeMs ms = 0; ParseDecimal(h.value, ms)) origin.create_time_ms = ms;
    }
  }
  if (found != 7) return std::nullopt;
  return origin;
}

std::optional<TimeMs> InputCreateTime(const InputRecord& record,
                                      const std::optional<RecordOrigin>& origin) {
  if (origin && origin->create_time_header) return origin->create_time_ms;
  return record.create_time_ms;
}

void MoveCreateTimeToHeader(v1::state::OutboxRecord& record) {
  if (!record.has_timestamp_ms()) return;
  bool forwarded = false;
  for (const auto& h : record.headers()) {
    if (h.key() == kCreateTimeHeader) return;  // written since the header exists
    forwarded |= h.key() == kOffsetHeader;
  }
  if (!forwarded) return;
  AddHeader(record, kCreateTimeHeader, std::to_string(record.timestamp_ms()));
  record.clear_timestamp_ms();
}

std::string OriginKey(std::string_view topic, int32_t partition) {
  return PartitionName(topic, partition);
}

}  // namespace touchstream
