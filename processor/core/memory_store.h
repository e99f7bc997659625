// PartitionStore held entirely in memory: for backtest and tests. Not thread-safe.
#pragma once

#include <map>
#include <set>

#include "processor/core/partition_store.h"

namespace touchstream {

class MemoryStore final : public PartitionStore {
 public:
  StatusOr<CustomerState*> Mutable(const std::string& customer_id) override;
  StatusOr<const CustomerState*> Find(const std::string& customer_id) override;
  StatusOr<const CustomerState*> Peek(const std::string& customer_id) override;
  void Erase(const std::string& customer_id) override;
  void ScheduleTimer(const TimerKey& key) override { timers_.insert(key); }
  void CancelTimer(const TimerKey& key) override { timers_.erase(key); }
  StatusOr<std::optional<TimerKey>> PopDueTimer(const TimerLimit& limit) override;
  StatusOr<std::optional<TimeMs>> NextTimerDue() override;

  // Customers by id, in id order (for state dumps).
  const std::map<std::string, CustomerState>& customers() const { return customers_; }

 private:
  std::map<std::string, CustomerState> customers_;
  std::set<TimerKey> timers_;
};

}  // namespace touchstream
