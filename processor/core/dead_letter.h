// Dead-letter records. Every dead letter carries the key and value bytes it was given and
// headers that say why:
//   touchstream.reason           a reason code, e.g. "missing_event_id" (RejectReasonName)
//   touchstream.detail           human-readable detail, e.g. naming the field
// A rejected input record's dead letter (MakeDeadLetter with a Verdict) adds where it came from:
//   touchstream.source.topic     input topic
//   touchstream.source.partition input partition (decimal)
//   touchstream.source.offset    input offset (decimal)
// The relay's reroute of an undeliverable record adds its own (processor/kafka/undeliverable.h).
#pragma once

#include <string>
#include <string_view>

#include "processor/core/event_validator.h"
#include "state.pb.h"

namespace touchstream {

inline constexpr char kReasonHeader[] = "touchstream.reason";
inline constexpr char kDetailHeader[] = "touchstream.detail";

using RecordHeaders = google::protobuf::RepeatedPtrField<v1::state::RecordHeader>;

// A dead letter to `dead_letter_topic` with `key` and `value`: first `headers` (in their
// order), then touchstream.reason `reason` and touchstream.detail `detail`. A caller adds
// headers of its own after these (AddHeader).
v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, std::string_view reason,
                                       std::string_view detail,
                                       const RecordHeaders& headers = RecordHeaders());

// Appends the header `name`: `value` to `record`.
void AddHeader(v1::state::OutboxRecord& record, std::string_view name, std::string_view value);

struct SourcePosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The dead letter of the input record at `source` that `verdict` rejected.
v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, const Verdict& verdict,
                                       const SourcePosition& source);

}  // namespace touchstream
