// Per-customer limits on the stored state, so that no customer's changelog record can grow past
// what Kafka accepts (message.max.bytes: checked against max_state_bytes at config load) and one
// customer cannot grow without bound. The pipeline applies them to a customer's state after each
// event it applies (the aggregate and every rule updated), before the state is committed; a
// state over a limit is trimmed, oldest entries first, the same way every time, so `run` and
// `backtest` keep the same state. Pure: no I/O, no clock.
//
// What grows with a customer's events, and is trimmed:
//   1. cart lines over max_cart_lines: the line first added longest ago goes first;
//   then, while the serialized state is over max_state_bytes:
//   2. cart lines, the oldest first (down to none: the cart rule then has nothing to remind of);
//   3. browsed skus of each browse_abandonment rule (rule_id order), the oldest view first;
//   4. remembered event ids (input dedup), the oldest first: a retry of a forgotten event
//      would be applied again;
//   5. the policy stage's send history (what frequency caps count), the oldest first: a cap
//      then counts fewer sends;
//   6. the policy stage's deferred triggers (each holds a whole trigger, cart included), the
//      one released last first: they are returned, and the pipeline suppresses each with an
//      audit record (reason state_limit) and cancels its timer.
// The rest of a state (ids, times, counters, one slot per rule) does not grow with events; its
// size is bounded by validation.max_field_bytes and the number of rules (MinStateBytes). A new
// list in proto/state.proto that grows with events must be trimmed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "processor/core/customer_aggregate.h"

namespace touchstream {

struct StateLimits {
  int max_cart_lines = 200;
  size_t max_state_bytes = 512 * 1024;  // serialized CustomerState
};

// Why entries were trimmed. Stable: the names are metric label values.
enum class TrimReason { kMaxCartLines, kMaxStateBytes };
inline constexpr TrimReason kAllTrimReasons[] = {TrimReason::kMaxCartLines,
                                                 TrimReason::kMaxStateBytes};

// "max_cart_lines", "max_state_bytes".
const char* TrimReasonName(TrimReason reason);

// Entries (cart lines, browsed skus, event ids) removed by trimming, by reason.
struct TrimCounts {
  uint64_t max_cart_lines = 0;
  uint64_t max_state_bytes = 0;

  uint64_t of(TrimReason reason) const {
    return reason == TrimReason::kMaxCartLines ? max_cart_lines : max_state_bytes;
  }
  uint64_t total() const { return max_cart_lines + max_state_bytes; }
};

// Trims `customer` to `limits` (see the order above); adds what it removed to `counts`, and the
// deferred triggers it removed to `dropped` (if not null; else they are just removed).
// Afterwards the cart has at most max_cart_lines lines, and the state is at most
// max_state_bytes unless its part that does not grow with events alone is larger. The size is
// measured without the rules' indexed_ms (the timer index's bookkeeping, which depends on the
// watermark; at most kLaggingEntryMaxBytes per rule on top: processor/core/rule_timer.h).
// Returns the state's encoded size as it is left (ByteSizeLong, computed last, so protobuf's
// cached sizes of the message are current: PartitionStore::Settle encodes with them).
size_t TrimToLimits(CustomerState& customer, const StateLimits& limits, TrimCounts& counts,
                    std::vector<v1::state::DeferredTrigger>* dropped = nullptr);

// An upper bound on the serialized size of a state with every list empty: the customer id and
// the event ids the aggregate and `rule_count` rules keep (each at most `max_field_bytes`), and
// their fixed-size fields. Config load requires max_state_bytes to be at least this.
size_t MinStateBytes(size_t max_field_bytes, size_t rule_count);

}  // namespace touchstream
