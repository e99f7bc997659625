#include "processor/kafka/undeliverable.h"

namespace touchstream {

namespace {

constexpr char kReasonHeader[] = "touchstream.reason";
constexpr char kUndeliverable[] = "undeliverable";

bool IsRerouted(const v1::state::OutboxRecord& record) {
  for (const auto& h : record.headers()) {
    if (h.key() == kReasonHeader && h.value() == kUndeliverable) return true;
  }
  return false;
}

}  // namespace

bool IsPermanentProduceError(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_INVALID_MSG_SIZE:
      return true;
    default:
      return false;
  }
}

UndeliverableAction Decide(const UndeliverablePolicy& policy,
                           const v1::state::OutboxRecord& record) {
  if (!policy.changelog_topic.empty() && record.topic() == policy.changelog_topic) {
    return UndeliverableAction::kStop;
  }
  if (record.topic() == policy.dead_letter_topic && IsRerouted(record)) {
    return UndeliverableAction::kDrop;
  }
  return UndeliverableAction::kReroute;
}

v1::state::OutboxRecord Reroute(const UndeliverablePolicy& policy,
                                const v1::state::OutboxRecord& record, const std::string& error) {
  v1::state::OutboxRecord out;
  out.set_topic(policy.dead_letter_topic);
  out.set_key(record.key());
  const bool truncated = record.value().size() > kMaxUndeliverableValueBytes;
  out.set_value(truncated ? record.value().substr(0, kMaxUndeliverableValueBytes) : record.value());
  *out.mutable_headers() = record.headers();
  auto add = [&out](const char* key, std::string value) {
    auto* h = out.add_headers();
    h->set_key(key);
    h->set_value(std::move(value));
  };
  add(kReasonHeader, kUndeliverable);
  add("touchstream.detail", error);
  add("touchstream.original.topic", record.topic());
  add("touchstream.truncated", truncated ? "true" : "false");
  return out;
}

}  // namespace touchstream
