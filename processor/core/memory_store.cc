#include "processor/core/memory_store.h"

#include "processor/core/erasure_memory.h"

namespace touchstream {

StatusOr<CustomerState*> MemoryStore::Mutable(const std::string& customer_id) {
  return &customers_[customer_id];
}

StatusOr<const CustomerState*> MemoryStore::Find(const std::string& customer_id) {
  auto it = customers_.find(customer_id);
  if (it == customers_.end() || HoldsNothing(it->second)) {
    return static_cast<const CustomerState*>(nullptr);
  }
  return static_cast<const CustomerState*>(&it->second);
}

StatusOr<const CustomerState*> MemoryStore::Peek(const std::string& customer_id) {
  static const CustomerState kUnknown;
  auto it = customers_.find(customer_id);
  return it == customers_.end() ? &kUnknown : &it->second;
}

void MemoryStore::Erase(const std::string& customer_id) { customers_.erase(customer_id); }

StatusOr<std::optional<TimerKey>> MemoryStore::PopDueTimer(const TimerLimit& limit) {
  if (timers_.empty() || !limit.Admits(*timers_.begin())) {
    return std::optional<TimerKey>();
  }
  TimerKey key = *timers_.begin();
  timers_.erase(timers_.begin());
  return std::optional<TimerKey>(std::move(key));
}

StatusOr<std::optional<TimeMs>> MemoryStore::NextTimerDue() {
  if (timers_.empty()) return std::optional<TimeMs>();
  return std::optional<TimeMs>(timers_.begin()->due_ms);
}

}  // namespace touchstream
