#include "processor/core/event_dedup.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "processor/core/saturating.h"
#include "processor/core/sha256.h"

namespace touchstream {

namespace {

// The bits of a 64-bit hash (a state written before) past the 48 stored now.
constexpr int kLegacyDroppedBits = 64 - 8 * kStoredEventIdBytes;

uint64_t IdAt(const std::string& ids, int index) {
  uint64_t id = 0;
  for (int i = 0; i < kStoredEventIdBytes; ++i) {
    id = (id << 8) | static_cast<unsigned char>(ids[index * kStoredEventIdBytes + i]);
  }
  return id;
}

void AppendId(std::string& ids, uint64_t id) {
  char bytes[kStoredEventIdBytes];
  for (int i = kStoredEventIdBytes - 1; i >= 0; --i, id >>= 8) {
    bytes[i] = static_cast<char>(id & 0xff);
  }
  ids.append(bytes, kStoredEventIdBytes);
}

}  // namespace

uint64_t EventIdHash(std::string_view event_id) {
  return Sha256Prefix64(event_id) >> kLegacyDroppedBits;
}

int RecentIdCount(const CustomerState& customer) {
  return static_cast<int>(customer.recent_ids().size() / kStoredEventIdBytes);
}

bool SeenRecently(const CustomerState& customer, uint64_t id_hash) {
  // Only the ids NormalizeEventIds keeps: those with a time, and none of recent_ids beside
  // 64-bit hashes (it lost its times in a rollback).
  const int times = customer.recent_times_ms_size();
  const auto& legacy = customer.recent_id_hashes();
  if (!legacy.empty()) {  // a state written before
    for (int i = 0, n = std::min(legacy.size(), times); i < n; ++i) {
      if ((legacy[i] >> kLegacyDroppedBits) == id_hash) return true;
    }
  } else {
    const std::string& ids = customer.recent_ids();
    for (int i = 0, n = std::min(RecentIdCount(customer), times); i < n; ++i) {
      if (IdAt(ids, i) == id_hash) return true;
    }
  }
  for (const auto& recent : customer.recent_events()) {
    if ((recent.id_hash() >> kLegacyDroppedBits) == id_hash) return true;
  }
  return false;
}

void AppendRecentId(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms) {
  AppendId(*customer.mutable_recent_ids(), id_hash);
  customer.add_recent_times_ms(event_time_ms);
}

void ForgetOldestIds(CustomerState& customer, int count) {
  auto& times = *customer.mutable_recent_times_ms();
  count = std::min(count, times.size());
  if (count <= 0) return;
  customer.mutable_recent_ids()->erase(0, static_cast<size_t>(count) * kStoredEventIdBytes);
  times.erase(times.begin(), times.begin() + count);
}

bool NormalizeEventIds(CustomerState& customer) {
  auto& times = *customer.mutable_recent_times_ms();
  bool changed = false;
  if (!customer.recent_id_hashes().empty()) {
    // 64-bit hashes beside the times: the times are theirs, and what recent_ids holds lost its
    // times in a rollback.
    const auto& legacy = customer.recent_id_hashes();
    const int even = std::min(legacy.size(), times.size());
    std::string ids;
    for (int i = 0; i < even; ++i) AppendId(ids, legacy[i] >> kLegacyDroppedBits);
    customer.set_recent_ids(std::move(ids));
    times.Truncate(even);
    customer.clear_recent_id_hashes();
    changed = true;
  } else if (customer.recent_ids().size() !=
             static_cast<size_t>(times.size()) * kStoredEventIdBytes) {
    const int even = std::min(RecentIdCount(customer), times.size());
    customer.mutable_recent_ids()->resize(static_cast<size_t>(even) * kStoredEventIdBytes);
    times.Truncate(even);
    changed = true;
  }
  if (customer.recent_events().empty()) return changed;
  std::vector<std::pair<int64_t, uint64_t>> ids;  // time, hash
  for (const auto& recent : customer.recent_events()) {
    ids.emplace_back(recent.time_ms(), recent.id_hash() >> kLegacyDroppedBits);
  }
  if (!times.empty()) {
    for (int i = 0; i < times.size(); ++i) {
      ids.emplace_back(times[i], IdAt(customer.recent_ids(), i));
    }
    std::stable_sort(ids.begin(), ids.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    times.Clear();
    customer.clear_recent_ids();
  }
  customer.clear_recent_events();
  for (const auto& [time_ms, hash] : ids) AppendRecentId(customer, hash, time_ms);
  return true;
}

void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy) {
  if (policy.horizon_ms <= 0) return;
  NormalizeEventIds(customer);
  std::string& ids = *customer.mutable_recent_ids();
  auto& times = *customer.mutable_recent_times_ms();
  // Saturating: before the first watermark (kNoTime) nothing is older than the horizon.
  const TimeMs cutoff = SaturatingAdd(watermark_ms, -policy.horizon_ms);
  int kept = 0;
  for (int i = 0; i < times.size(); ++i) {
    if (times[i] < cutoff) continue;
    if (kept != i) {
      std::copy_n(ids.begin() + i * kStoredEventIdBytes, kStoredEventIdBytes,
                  ids.begin() + kept * kStoredEventIdBytes);
      times[kept] = times[i];
    }
    ++kept;
  }
  ids.resize(static_cast<size_t>(kept) * kStoredEventIdBytes);
  times.Truncate(kept);
  if (times.size() >= policy.max_ids) ForgetOldestIds(customer, times.size() - policy.max_ids + 1);
  // A late event (a store's upload, an app's offline queue: what upstream retries most) is
  // remembered from when it was applied, not from its own time, which may be past the horizon
  // already.
  AppendRecentId(customer, id_hash, std::max(event_time_ms, watermark_ms));
}

}  // namespace touchstream
