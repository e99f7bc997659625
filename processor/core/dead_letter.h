// The dead-letter record for a rejected input record: the original key and value bytes
// untouched, and headers that say why and where it came from:
//   touchstream.reason           reason code (RejectReasonName), e.g. "missing_event_id"
//   touchstream.detail           human-readable detail naming the field
//   touchstream.source.topic     input topic
//   touchstream.source.partition input partition (decimal)
//   touchstream.source.offset    input offset (decimal)
#pragma once

#include <string>
#include <string_view>

#include "processor/core/event_validator.h"
#include "state.pb.h"

namespace touchstream {

struct SourcePosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, const Verdict& verdict,
                                       const SourcePosition& source);

}  // namespace touchstream
