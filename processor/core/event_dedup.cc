#include "processor/core/event_dedup.h"

#include <algorithm>

#include "processor/core/saturating.h"
#include "processor/core/sha256.h"

namespace touchstream {

uint64_t EventIdHash(std::string_view event_id) { return Sha256Prefix64(event_id); }

bool SeenRecently(const CustomerState& customer, uint64_t id_hash) {
  for (const auto& recent : customer.recent_events()) {
    if (recent.id_hash() == id_hash) return true;
  }
  return false;
}

void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
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
  entry->set_id_hash(id_hash);
  entry->set_time_ms(event_time_ms);
}

}  // namespace touchstream
