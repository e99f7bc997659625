#include "processor/kafka/undeliverable.h"

#include <string_view>

#include "processor/core/dead_letter.h"

namespace touchstream {

namespace {

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
    // Not ERR_INVALID_TIMESTAMP (outside the broker's log.message.timestamp.difference.max.ms,
    // message.timestamp.before/after.max.ms): no record carries a timestamp of its own (a
    // forwarded record's origin time is a header), librdkafka stamps each with the local clock
    // as it is produced, so the refusal says that clock (or the broker's) is off by more than the
    // bound, for every record alike. Retried, it goes out once the clocks agree again; rerouted,
    // every trigger would go to the dead-letter topic, which refuses them too.
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
  const bool truncated = record.value().size() > kMaxUndeliverableValueBytes;
  const std::string_view value =
      std::string_view(record.value())
          .substr(0, truncated ? kMaxUndeliverableValueBytes : record.value().size());
  v1::state::OutboxRecord out = MakeDeadLetter(policy.dead_letter_topic, record.key(), value,
                                               kUndeliverable, error, record.headers());
  out.set_null_key(record.null_key());
  out.set_null_value(record.null_value());
  AddHeader(out, "touchstream.original.topic", record.topic());
  AddHeader(out, "touchstream.truncated", truncated ? "true" : "false");
  return out;
}

}  // namespace touchstream
