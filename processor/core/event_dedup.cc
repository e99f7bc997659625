#include "processor/core/event_dedup.h"

#include <openssl/sha.h>

#include <algorithm>

#include "processor/core/saturating.h"

namespace touchstream {

uint64_t EventIdHash(std::string_view event_id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(event_id.data()), event_id.size(), digest);
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | digest[i];
  return h;
}

bool SeenRecently(const CustomerState& customer, std::string_view event_id) {
  if (customer.recent_events_size() == 0) return false;
  const uint64_t h = EventIdHash(event_id);
  for (const auto& recent : customer.recent_events()) {
    if (recent.id_hash() == h) return true;
  }
  return false;
}

void RememberEvent(CustomerState& customer, std::string_view event_id, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy) {
  if (policy.horizon_ms <= 0) return;
  auto& recent = *customer.mutable_recent_events();
  // Saturating: before the first watermark (kNoTime) nothing is older than the horizon.
  const TimeMs cutoff = SaturatingAdd(watermark_ms, -policy.horizon_ms);
  recent.erase(std::remove_if(recent.begin(), recent.end(),
                              [cutoff](const auto& r) { return r.time_ms() < cutoff; }),
               recent.end());
  if (event_time_ms < cutoff) return;  // older than the horizon: not worth remembering
  while (recent.size() >= policy.max_ids) recent.erase(recent.begin());
  auto* entry = customer.add_recent_events();
  entry->set_id_hash(EventIdHash(event_id));
  entry->set_time_ms(event_time_ms);
}

}  // namespace touchstream
