#include "state/keys.h"

namespace touchstream::keys {

namespace {

void PutU32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, sizeof bytes);
}

void PutU64(std::string& out, uint64_t v) {
  PutU32(out, static_cast<uint32_t>(v >> 32));
  PutU32(out, static_cast<uint32_t>(v));
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
  std::string out;
  AssignCustomer(out, partition, customer_id);
  return out;
}

void AssignCustomer(std::string& out, int32_t partition, std::string_view customer_id) {
  out.clear();
  out.reserve(4 + customer_id.size());
  PutU32(out, static_cast<uint32_t>(partition));
  out.append(customer_id);
}

std::string Timer(int32_t partition, const TimerKey& key) {
  std::string out;
  AssignTimer(out, partition, key);
  return out;
}

void AssignTimer(std::string& out, int32_t partition, const TimerKey& key) {
  const std::string_view id = key.customer_id;
  out.clear();
  out.reserve(4 + 8 + id.size() + 2 + key.rule_id.size() + 1);  // one escaped zero byte fits
  PutU32(out, static_cast<uint32_t>(partition));
  PutU64(out, static_cast<uint64_t>(key.due_ms) ^ kSignBit);
  // The customer id with each zero byte escaped as 0x00 0xFF, in runs between them.
  size_t from = 0;
  for (size_t zero; (zero = id.find('\0', from)) != std::string_view::npos; from = zero + 1) {
    out.append(id.substr(from, zero + 1 - from));
    out.push_back('\xff');
  }
  out.append(id.substr(from));
  out.append("\0\x01", 2);
  out.append(key.rule_id);
}

std::optional<TimerKey> DecodeTimer(std::string_view in) {
  if (in.size() < 4 + 8 + 2) return std::nullopt;
  TimerKey key;
  key.due_ms = static_cast<TimeMs>(GetU64(in.substr(4)) ^ kSignBit);
  // The customer id runs up to the first zero byte not followed by 0xFF (an escaped zero), which
  // must be followed by 0x01 and the rule id.
  size_t from = 12;
  while (true) {
    const size_t zero = in.find('\0', from);
    if (zero == std::string_view::npos || zero + 1 == in.size()) return std::nullopt;
    key.customer_id.append(in.substr(from, zero - from));
    if (in[zero + 1] == '\x01') {
      key.rule_id.assign(in.substr(zero + 2));
      return key;
    }
    if (in[zero + 1] != '\xff') return std::nullopt;
    key.customer_id.push_back('\0');
    from = zero + 2;
  }
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
