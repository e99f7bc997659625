#include "processor/core/event_dedup.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "processor/core/saturating.h"
#include "processor/core/sha256.h"

namespace touchstream {

uint64_t EventIdHash(std::string_view event_id) { return Sha256Prefix64(event_id); }

bool SeenRecently(const CustomerState& customer, uint64_t id_hash) {
  const auto& hashes = customer.recent_id_hashes();
  if (std::find(hashes.begin(), hashes.end(), id_hash) != hashes.end()) return true;
  for (const auto& recent : customer.recent_events()) {  // a state written before
    if (recent.id_hash() == id_hash) return true;
  }
  return false;
}

bool NormalizeEventIds(CustomerState& customer) {
  auto& hashes = *customer.mutable_recent_id_hashes();
  auto& times = *customer.mutable_recent_times_ms();
  const bool uneven = hashes.size() != times.size();
  if (uneven) {
    const int even = std::min(hashes.size(), times.size());
    hashes.Truncate(even);
    times.Truncate(even);
  }
  if (customer.recent_events().empty()) return uneven;
  std::vector<std::pair<int64_t, uint64_t>> ids;  // time, hash
  for (const auto& recent : customer.recent_events()) {
    ids.emplace_back(recent.time_ms(), recent.id_hash());
  }
  if (!times.empty()) {
    for (int i = 0; i < times.size(); ++i) ids.emplace_back(times[i], hashes[i]);
    std::stable_sort(ids.begin(), ids.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    times.Clear();
    hashes.Clear();
  }
  customer.clear_recent_events();
  for (const auto& [time_ms, hash] : ids) {
    times.Add(time_ms);
    hashes.Add(hash);
  }
  return true;
}

void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy) {
  if (policy.horizon_ms <= 0) return;
  NormalizeEventIds(customer);
  auto& hashes = *customer.mutable_recent_id_hashes();
  auto& times = *customer.mutable_recent_times_ms();
  // Saturating: before the first watermark (kNoTime) nothing is older than the horizon.
  const TimeMs cutoff = SaturatingAdd(watermark_ms, -policy.horizon_ms);
  int kept = 0;
  for (int i = 0; i < times.size(); ++i) {
    if (times[i] < cutoff) continue;
    hashes[kept] = hashes[i];
    times[kept] = times[i];
    ++kept;
  }
  hashes.Truncate(kept);
  times.Truncate(kept);
  if (event_time_ms < cutoff) return;  // older than the horizon: not worth remembering
  if (times.size() >= policy.max_ids) {
    const int forget = times.size() - policy.max_ids + 1;
    hashes.erase(hashes.begin(), hashes.begin() + forget);
    times.erase(times.begin(), times.begin() + forget);
  }
  hashes.Add(id_hash);
  times.Add(event_time_ms);
}

}  // namespace touchstream
