#include "processor/core/event_dedup.h"

#include <algorithm>

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

namespace {

// Moves the ids of a state written before (recent_events, older than any in the lists) to the
// front of the packed lists.
void MoveOverOlderIds(CustomerState& customer) {
  if (customer.recent_events().empty()) return;
  google::protobuf::RepeatedField<uint64_t> hashes;
  google::protobuf::RepeatedField<int64_t> times;
  for (const auto& recent : customer.recent_events()) {
    hashes.Add(recent.id_hash());
    times.Add(recent.time_ms());
  }
  hashes.MergeFrom(customer.recent_id_hashes());
  times.MergeFrom(customer.recent_times_ms());
  customer.mutable_recent_id_hashes()->Swap(&hashes);
  customer.mutable_recent_times_ms()->Swap(&times);
  customer.clear_recent_events();
}

}  // namespace

void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy) {
  if (policy.horizon_ms <= 0) return;
  MoveOverOlderIds(customer);
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
