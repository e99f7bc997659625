// Input deduplication: upstream retries re-send an event with the same event_id at a new
// offset. A customer's state remembers the ids (as 64-bit hashes) of events applied within a
// horizon of event time; a repeat within the horizon is skipped, not applied twice. The ids are
// two packed lists of the state (recent_id_hashes, recent_times_ms); ids a state written before
// holds one message each (recent_events) are seen too, and moved to the lists by the next
// RememberEvent.
#pragma once

#include <string_view>

#include "processor/core/customer_aggregate.h"

namespace touchstream {

struct DedupPolicy {
  DurationMs horizon_ms = 0;  // 0 = off
  int max_ids = 512;          // per customer; the oldest are forgotten first
};

// Stable across builds and platforms (stored in the state).
uint64_t EventIdHash(std::string_view event_id);

// True if the event whose id hashes to `id_hash` (EventIdHash) was applied to this customer
// within the remembered horizon.
bool SeenRecently(const CustomerState& customer, uint64_t id_hash);

// Puts the customer's remembered ids in the packed lists alone: a state written before holds
// them one message each (recent_events), moved over in their order when the lists are empty,
// else by time with those already there (a build that wrote recent_events after a later one
// wrote the lists, in a rollback, keeps both: protobuf carries the fields it does not know).
// Lists of unequal length (a damaged state) are cut to the shorter. Cheap when there is
// nothing to do. Returns whether it changed the state.
bool NormalizeEventIds(CustomerState& customer);

// Records an applied event (its EventIdHash) and forgets ids older than `watermark_ms` − horizon.
void RememberEvent(CustomerState& customer, uint64_t id_hash, TimeMs event_time_ms,
                   TimeMs watermark_ms, const DedupPolicy& policy);

}  // namespace touchstream
