#include "processor/core/trigger_id.h"

#include <cstdint>

#include "processor/core/sha256.h"

namespace touchstream {

namespace {

void AppendField(std::string& buf, std::string_view field) {
  const uint32_t n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) buf.push_back(static_cast<char>(n >> shift));
  buf.append(field);
}

}  // namespace

std::string MakeTriggerId(std::string_view rule_id, std::string_view customer_id,
                          v1::TriggerType type, std::string_view episode) {
  std::string buf;
  buf.reserve(rule_id.size() + customer_id.size() + episode.size() + 32);
  AppendField(buf, rule_id);
  AppendField(buf, customer_id);
  AppendField(buf, v1::TriggerType_Name(type));
  AppendField(buf, episode);
  const Sha256Digest digest = Sha256(buf);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "t-";
  for (int i = 0; i < 16; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0xf]);
  }
  return id;
}

}  // namespace touchstream
