// Confluent's wire format for protobuf records: what Java apps write with Schema Registry's
// KafkaProtobufSerializer instead of plain protobuf bytes. A framed record is
//
//   0x00                  magic byte
//   4 bytes               schema id, a big-endian int32 (the id the registry gave the schema)
//   message-index path    which message of the schema's .proto file follows: a zigzag varint
//                         count n, then n zigzag varint indexes (the top-level message's index
//                         in file order, then the index of each nested message below it); the
//                         path [0] is written as the single byte 0x00 (count 0)
//   payload               the protobuf bytes of that message
//
// (Confluent's MessageIndexes and Kafka's ByteUtils.writeVarint: varints of 32-bit ints.)
//
// Why the first byte tells the framings apart: a plain protobuf message starts with a field tag,
// the varint (field_number << 3 | wire_type); field numbers start at 1, so a tag is at least 8
// and its first byte is never 0x00 (an empty message has no first byte at all). A record that
// starts with 0x00 is therefore framed or invalid, never a plain TouchpointEvent.
//
// Kafka-free; parsing allocates only for an error message. Every function is safe for concurrent
// use.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "processor/core/status.h"

namespace touchstream {

inline constexpr char kConfluentMagicByte = '\0';

// The message-index path of a framed record. Holds up to kMaxKept indexes without allocating;
// a longer path keeps its full size() and its first kMaxKept indexes.
class MessageIndexPath {
 public:
  static constexpr int kMaxKept = 8;

  MessageIndexPath() = default;
  MessageIndexPath(std::initializer_list<int32_t> indexes);

  // Number of indexes in the path (also those not kept).
  int size() const { return size_; }
  // The i-th index; i < min(size(), kMaxKept).
  int32_t operator[](int i) const { return kept_[i]; }
  void Append(int32_t index);
  // True if the path is exactly [index]: a top-level message of the .proto file.
  bool IsTopLevel(int32_t index) const { return size_ == 1 && kept_[0] == index; }
  // "[1, 0]"; "..." stands for indexes not kept.
  std::string ToString() const;

 private:
  int size_ = 0;
  std::array<int32_t, kMaxKept> kept_{};
};

struct ConfluentFrame {
  int32_t schema_id = 0;  // never negative (Schema Registry ids are positive)
  MessageIndexPath message_indexes;
  std::string_view payload;  // points into the parsed record; may be empty (an empty message)
};

// True if `record` starts with the magic byte (then it cannot be plain protobuf, see above).
inline bool IsConfluentFramed(std::string_view record) {
  return !record.empty() && record.front() == kConfluentMagicByte;
}

// Parses the framing of a record for which IsConfluentFramed is true. InvalidArgument, with a
// message saying what is wrong, if the record is not framed, the schema id or a varint is
// truncated, a varint is longer than 5 bytes or does not fit 32 bits, or the schema id, the
// count or an index is negative.
StatusOr<ConfluentFrame> ParseConfluentFrame(std::string_view record);

// The framing bytes (everything before the payload) as KafkaProtobufSerializer writes them for
// `schema_id` and the message-index path `indexes`, the path [0] as the single byte 0x00.
// For `touchstream produce`.
std::string ConfluentFramingPrefix(int32_t schema_id, std::span<const int32_t> indexes);

}  // namespace touchstream
