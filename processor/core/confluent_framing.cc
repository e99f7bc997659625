#include "processor/core/confluent_framing.h"

namespace touchstream {

MessageIndexPath::MessageIndexPath(std::initializer_list<int32_t> indexes) {
  for (int32_t index : indexes) Append(index);
}

void MessageIndexPath::Append(int32_t index) {
  if (size_ < kMaxKept) kept_[size_] = index;
  ++size_;
}

std::string MessageIndexPath::ToString() const {
  std::string out = "[";
  for (int i = 0; i < size_ && i < kMaxKept; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(kept_[i]);
  }
  if (size_ > kMaxKept) out += ", ...";
  return out + "]";
}

namespace {

// Reads bytes from the front of a record, as Kafka's ByteBuffer reads do.
class FrameReader {
 public:
  explicit FrameReader(std::string_view bytes) : rest_(bytes) {}

  // A zigzag varint of a 32-bit int (Kafka's ByteUtils.readVarint), at most 5 bytes.
  Status ReadVarint(const char* what, int32_t* out) {
    uint32_t raw = 0;
    for (int i = 0;; ++i) {
      if (rest_.empty()) return Status::InvalidArgument(std::string(what) + " is truncated");
      const auto byte = static_cast<uint8_t>(rest_.front());
      rest_.remove_prefix(1);
      // The 5th byte holds bits 28..31: anything above them, or a 6th byte, overflows 32 bits.
      if (i == 4 && byte > 0x0F) {
        return Status::InvalidArgument(std::string(what) + " overflows 32 bits");
      }
      raw |= static_cast<uint32_t>(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) break;
    }
    *out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
    return Status::Ok();
  }

  Status ReadBigEndianInt32(const char* what, int32_t* out) {
    if (rest_.size() < 4) return Status::InvalidArgument(std::string(what) + " is truncated");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(4);
    *out = static_cast<int32_t>(value);
    return Status::Ok();
  }

  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

void AppendVarint(int32_t value, std::string* out) {
  uint32_t zigzag = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31);
  while (zigzag >= 0x80) {
    out->push_back(static_cast<char>((zigzag & 0x7F) | 0x80));
    zigzag >>= 7;
  }
  out->push_back(static_cast<char>(zigzag));
}

}  // namespace

StatusOr<ConfluentFrame> ParseConfluentFrame(std::string_view record) {
  if (!IsConfluentFramed(record)) {
    return Status::InvalidArgument("does not start with the magic byte 0x00");
  }
  FrameReader reader(record.substr(1));
  ConfluentFrame frame;
  if (Status s = reader.ReadBigEndianInt32("schema id", &frame.schema_id); !s.ok()) return s;
  if (frame.schema_id < 0) {
    return Status::InvalidArgument("schema id " + std::to_string(frame.schema_id) + " is negative");
  }
  int32_t count = 0;
  if (Status s = reader.ReadVarint("message-index count", &count); !s.ok()) return s;
  if (count < 0) {
    return Status::InvalidArgument("message-index count " + std::to_string(count) + " is negative");
  }
  if (count == 0) {
    frame.message_indexes.Append(0);  // the serializer's short form of the path [0]
  }
  for (int32_t i = 0; i < count; ++i) {
    int32_t index = 0;
    if (Status s = reader.ReadVarint("message index", &index); !s.ok()) return s;
    if (index < 0) {
      return Status::InvalidArgument("message index " + std::to_string(index) + " is negative");
    }
    frame.message_indexes.Append(index);
  }
  frame.payload = reader.rest();
  return frame;
}

std::string ConfluentFramingPrefix(int32_t schema_id, std::span<const int32_t> indexes) {
  std::string out(1, kConfluentMagicByte);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<uint32_t>(schema_id) >> shift) & 0xFF));
  }
  if (indexes.size() == 1 && indexes[0] == 0) {
    AppendVarint(0, &out);
    return out;
  }
  AppendVarint(static_cast<int32_t>(indexes.size()), &out);
  for (int32_t index : indexes) AppendVarint(index, &out);
  return out;
}

}  // namespace touchstream
