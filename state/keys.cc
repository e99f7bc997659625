#include "state/keys.h"

namespace touchstream::keys {

namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

constexpr uint64_t kSignBit = 1ULL << 63;

}  // namespace

std::string PartitionPrefix(int32_t partition) {
  std::string out;
  PutU32(out, static_cast<uint32_t>(partition));
  return out;
}

std::string Customer(int32_t partition, std::string_view customer_id) {
  std::string out = PartitionPrefix(partition);
  out.append(customer_id);
  return out;
}

std::string Timer(int32_t partition, const TimerKey& key) {
  std::string out = PartitionPrefix(partition);
  PutU64(out, static_cast<uint64_t>(key.due_ms) ^ kSignBit);
  for (char c : key.customer_id) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
  out.append(key.rule_id);
  return out;
}

std::optional<TimerKey> DecodeTimer(std::string_view in) {
  if (in.size() < 4 + 8 + 2) return std::nullopt;
  TimerKey key;
  key.due_ms = static_cast<TimeMs>(GetU64(in.substr(4)) ^ kSignBit);
  size_t i = 12;
  while (i + 1 < in.size()) {
    if (in[i] == '\0') {
      if (in[i + 1] == '\xff') {
        key.customer_id.push_back('\0');
        i += 2;
        continue;
      }
      if (in[i + 1] == '\x01') {
        key.rule_id.assign(in.substr(i + 2));
        return key;
      }
      return std::nullopt;
    }
    key.customer_id.push_back(in[i++]);
  }
  return std::nullopt;
}

std::string Checkpoint(std::string_view topic, int32_t partition) {
  std::string out(topic);
  out.push_back('\0');
  PutU32(out, static_cast<uint32_t>(partition));
  return out;
}

std::string RestoreHint(std::string_view changelog_topic, int32_t partition) {
  std::string out("\xFFrestore-hint");
  out.push_back('\0');
  out.append(changelog_topic);
  out.push_back('\0');
  PutU32(out, static_cast<uint32_t>(partition));
  return out;
}

std::string ReleasedPrefix() {
  std::string out("\xFFreleased");
  out.push_back('\0');
  return out;
}

std::string Released(int32_t partition) {
  std::string out = ReleasedPrefix();
  PutU32(out, static_cast<uint32_t>(partition));
  return out;
}

std::optional<int32_t> DecodeReleased(std::string_view encoded) {
  const std::string prefix = ReleasedPrefix();
  if (encoded.size() != prefix.size() + 4 || encoded.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  uint32_t partition = 0;
  for (char c : encoded.substr(prefix.size())) partition = (partition << 8) | uint8_t(c);
  return static_cast<int32_t>(partition);
}

std::string Outbox(uint64_t seq) {
  std::string out;
  PutU64(out, seq);
  return out;
}

uint64_t DecodeOutbox(std::string_view encoded) {
  return encoded.size() == 8 ? GetU64(encoded) : 0;
}

}  // namespace touchstream::keys
