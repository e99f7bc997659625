#include "processor/core/erasure_memory.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "processor/policy/policy_stage.h"

namespace touchstream {

namespace {
constexpr std::string_view kMemoryKeyPrefix =
    "\xFE"
    "erased.";
}  // namespace

std::string CustomerHash(std::string_view hash_key, std::string_view customer_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), hash_key.data(), static_cast<int>(hash_key.size()),
       reinterpret_cast<const unsigned char*>(customer_id.data()), customer_id.size(), digest,
       &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

std::string ErasureMemoryKey(std::string_view customer_hash) {
  std::string key(kMemoryKeyPrefix);
  key.append(customer_hash);
  return key;
}

bool IsErasureMemoryKey(std::string_view key) {
  return key.substr(0, kMemoryKeyPrefix.size()) == kMemoryKeyPrefix;
}

bool DropsEvent(const v1::state::ErasureMemory& memory, TimeMs event_ms, TimeMs clock_ms) {
  return memory.erased_at_ms() != 0 && event_ms <= memory.erased_at_ms() &&
         clock_ms < memory.forget_at_ms();
}

bool HoldsNothing(const CustomerState& entry) {
  return entry.first_seen_ms() == 0 && !entry.has_erased();
}

std::vector<TimerKey> TimersOfEntry(std::string_view key, const CustomerState& entry,
                                    TimeMs watermark_ms) {
  if (IsErasureMemoryKey(key)) {
    if (entry.erased().forget_at_ms() == 0) return {};
    return {TimerKey{entry.erased().forget_at_ms(), std::string(key), kForgetTimerId}};
  }
  return TimersOf(entry, watermark_ms);
}

}  // namespace touchstream
