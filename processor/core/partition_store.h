// What the pipeline needs from state: the customers of one input partition and their timer
// index. Implemented in memory (backtest, tests) and on RocksDB with a write-back cache (run).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <tuple>

#include "processor/core/customer_aggregate.h"
#include "processor/core/status.h"

namespace touchstream {

// One entry of the timer index, ordered by due time, then customer id, then rule id: the
// order in which due timers fire.
struct TimerKey {
  TimeMs due_ms = 0;
  std::string customer_id;
  std::string rule_id;

  friend bool operator<(const TimerKey& a, const TimerKey& b) {
    return std::tie(a.due_ms, a.customer_id, a.rule_id) <
           std::tie(b.due_ms, b.customer_id, b.rule_id);
  }
  friend bool operator==(const TimerKey& a, const TimerKey& b) {
    return std::tie(a.due_ms, a.customer_id, a.rule_id) ==
           std::tie(b.due_ms, b.customer_id, b.rule_id);
  }
};

// Which due timer PopDueTimer may return: one due at or before the watermark and, with
// `same_instant`, only one due at that timer's instant for that timer's customer (the pipeline
// finishes a customer's instant before it stops a bounded chunk of timers).
struct TimerLimit {
  TimeMs watermark_ms = 0;
  const TimerKey* same_instant = nullptr;

  bool Admits(const TimerKey& key) const {
    if (key.due_ms > watermark_ms) return false;
    return same_instant == nullptr ||
           (key.due_ms == same_instant->due_ms && key.customer_id == same_instant->customer_id);
  }
};

// Owned by the thread that drives the partition's pipeline.
class PartitionStore {
 public:
  // How many other customers a caller may read before a state pointer it holds may be gone
  // (PartitionState keeps that many parsed, the rest encoded).
  static constexpr size_t kHeldStates = 8;

  virtual ~PartitionStore() = default;

  // The customer's state for update; a new empty state (first_seen_ms == 0) if unknown. The
  // pointer stays valid until the next Erase or commit of the store, or until kHeldStates other
  // customers were read through it (Mutable, Find, Peek): hold it across one event or one group
  // of a customer's timers, no longer. The state may be changed through it until Settle(*it),
  // after which a change takes a new Mutable. Errors: storage I/O or a corrupt stored state.
  virtual StatusOr<CustomerState*> Mutable(const std::string& customer_id) = 0;

  // The stored entry without marking it changed; nullptr if unknown (or erased). The pointer
  // stays valid as Mutable's. Errors: as Mutable.
  virtual StatusOr<const CustomerState*> Find(const std::string& customer_id) = 0;

  // The customer's state without marking it changed: an empty state (HoldsNothing) if unknown
  // or erased, which the store keeps at hand for a Mutable of the same customer (no second read
  // of the store). The pointer stays valid as Mutable's. Errors: as Mutable.
  virtual StatusOr<const CustomerState*> Peek(const std::string& customer_id) = 0;

  // Forgets the customer (erasure request).
  virtual void Erase(const std::string& customer_id) = 0;

  // The pipeline is done changing `customer` (the state the last Mutable returned) for now: an
  // event applied, or a group of its timers due at one instant that emitted triggers, decided
  // (policy stage) and trimmed (state limits). A store may encode it now, while it is still in the
  // CPU's cache, instead of at the commit. Changing it again takes a new Mutable. Does nothing if
  // `customer` is not what the last Mutable returned. (A state a timer changed without a decision
  // is not settled: the commit encodes it.) `encoded_bytes`: customer.ByteSizeLong() as the
  // caller computed it last, nothing changed since (so protobuf's cached sizes of the message are
  // current and the store encodes without measuring it again), or nullopt. A wrong total is
  // caught (the state is measured again); a change after the measure that keeps the total is not.
  virtual void Settle(const CustomerState& customer, std::optional<size_t> encoded_bytes) {
    (void)customer;
    (void)encoded_bytes;
  }
  void Settle(const CustomerState& customer) { Settle(customer, std::nullopt); }

  virtual void ScheduleTimer(const TimerKey& key) = 0;
  virtual void CancelTimer(const TimerKey& key) = 0;

  // Removes and returns the first timer of the index if `limit` admits it; nullopt if not (or
  // the index is empty).
  virtual StatusOr<std::optional<TimerKey>> PopDueTimer(const TimerLimit& limit) = 0;

  // The due time of the first timer of the index, nullopt if it is empty; nothing is removed.
  virtual StatusOr<std::optional<TimeMs>> NextTimerDue() = 0;
};

}  // namespace touchstream
