// Input deduplication: upstream retries re-send an event with the same event_id at a new
// offset. A customer's state remembers the ids (as 48-bit hashes) of events applied within a
// horizon of the partition's event time; a repeat within the horizon is skipped, not applied
// twice, however late the event itself. Two ids of
// one customer's horizon share a hash with a chance of 2^-48 per pair: with 512 ids remembered
// (processing.dedup_max_ids), one event in ~5 * 10^11 would be taken for a retry; with the ~6 a
// typical customer holds, one in ~5 * 10^13. The ids are two lists of the state of equal
// length (recent_ids, 6 bytes each, and recent_times_ms). Ids a state written before holds as
// 64-bit hashes (recent_id_hashes beside the times, or one message each: recent_events) are seen
// too, and moved over by the next RememberEvent.
#pragma once

#include <string_view>

#include "processor/core/customer_aggregate.h"

namespace touchstream {

struct DedupPolicy {
  DurationMs horizon_ms = 0;  // 0 = off
  int max_ids = 512;          // per customer; the oldest are forgotten first
};

// What one remembered id takes in recent_ids.
constexpr int kStoredEventIdBytes = 6;

// The first 48 bits of SHA-256(event_id), big-endian. Stable across builds and platforms (stored
// in the state).
uint64_t EventIdHash(std::string_view event_id);

// True if the event whose id hashes to `id_hash` (EventIdHash) was applied to this customer
// within the remembered horizon: among the ids NormalizeEventIds keeps, whether or not it ran.
bool SeenRecently(const CustomerState& customer, uint64_t id_hash);

// Puts the customer's remembered ids in recent_ids and recent_times_ms alone. A state written
// before holds them as 64-bit hashes: beside the times (recent_id_hashes), moved over in their
// order, and one message each (recent_events), moved over in their order when the lists are
// empty, else by time with those already there. A build that wrote those after a later one
// wrote recent_ids, in a rollback, carried recent_ids unread (protobuf keeps the fields it does
// not know) but cut the times it found without their hashes: recent_ids' entries are then
// dropped. Lists of unequal length (a damaged state) are cut to the shorter. Cheap when there is
// nothing to do. Returns whether it changed the state.
bool NormalizeEventIds(CustomerState& customer);

// The number of ids in recent_ids (whole 6-byte entries).
int RecentIdCount(const CustomerState& customer);

// Appends an id (its EventIdHash) and its event time to the lists as they are: no horizon, no
// bound (RememberEvent applies them).
void AppendRecentId(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms);

// Forgets the `count` oldest ids (at most all of them) of normalized lists.
void ForgetOldestIds(CustomerState& customer, int count);

// Records an applied event (its EventIdHash) under the later of its time and `watermark_ms` (a
// late event is remembered for a horizon from when it was applied), and forgets ids remembered
// under a time before `watermark_ms` − horizon.
void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy);

}  // namespace touchstream
