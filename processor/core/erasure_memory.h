// Erasure (README "Privacy"). An ERASURE_REQUEST deletes everything the partition holds of the
// customer: state, timers, deferred triggers, dedup ids, and (PartitionTask) the triggers and
// audit records of the same commit not yet in the outbox. With privacy.hash_key set, the
// partition then remembers the erasure for privacy.erasure_memory of event time, under an entry
// keyed by the keyed hash of the customer id, never the id:
//  - key: "\xFE" "erased." + CustomerHash(hash_key, customer id). 0xFE never occurs in valid
//    UTF-8, so no customer id equals it; the entry is restored from the changelog like a
//    customer (a CustomerState with only `erased` set) and forgotten by a timer of the entry
//    (kForgetTimerId) at forget_at_ms, which writes its tombstone.
//  - an event of a customer with no state whose memory holds it (dated at or before
//    erased_at_ms, while the partition's clock is before forget_at_ms) is dropped, never
//    dead-lettered (a dead letter would copy the personal data);
//  - a later event starts a fresh customer, whose state carries a copy of the memory, so its own
//    late events dated before the erasure are dropped too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "processor/core/customer_aggregate.h"
#include "processor/core/partition_store.h"
#include "processor/core/time.h"

namespace touchstream {

// Constant for the life of a task.
struct PrivacySettings {
  // The HMAC key of customer hashes (privacy.hash_key); empty: no erasure memory, and ERASED
  // audit records carry no hash.
  std::string hash_key;
  DurationMs erasure_memory_ms = 30 * 24 * kHourMs;

  bool remembers() const { return !hash_key.empty(); }
};

// The timer of an erasure memory entry: it forgets the entry.
inline constexpr char kForgetTimerId[] = "~forget";

// HMAC-SHA256 of `customer_id` under `hash_key`, lowercase hex (64 characters).
std::string CustomerHash(std::string_view hash_key, std::string_view customer_id);

// The store key of the erasure memory of the customer whose hash is `customer_hash`.
std::string ErasureMemoryKey(std::string_view customer_hash);
// True for an erasure memory entry's key (never a customer id).
bool IsErasureMemoryKey(std::string_view key);

// Whether `memory` drops an event dated `event_ms` while the partition's clock (its latest event
// time) is `clock_ms`.
bool DropsEvent(const v1::state::ErasureMemory& memory, TimeMs event_ms, TimeMs clock_ms);

// An entry that holds nothing: the store deletes it at the commit.
bool HoldsNothing(const CustomerState& entry);

// The timers of a stored entry (a customer's rule timers and deferrals, or a memory's forget
// timer), for a restore that derives the timer index from the states of a commit whose
// watermark was `watermark_ms` (TimersOf).
std::vector<TimerKey> TimersOfEntry(std::string_view key, const CustomerState& entry,
                                    TimeMs watermark_ms);

}  // namespace touchstream
