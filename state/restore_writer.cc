#include "state/restore_writer.h"

#include <algorithm>

#include "processor/core/erasure_memory.h"

namespace touchstream {

Status RestoreWriter::Put(std::string_view customer_id, const std::string_view* value,
                          const v1::state::CustomerState* state) {
  std::optional<std::string> copy;
  if (value != nullptr) copy.emplace(*value);
  if (auto it = values_.find(customer_id); it != values_.end()) {
    it->second = std::move(copy);
  } else {
    values_.emplace(std::string(customer_id), std::move(copy));
  }
  if (state != nullptr) {
    std::vector<TimerKey> timers = TimersOfEntry(customer_id, *state, watermark_ms_);
    timers_.insert(timers_.end(), std::make_move_iterator(timers.begin()),
                   std::make_move_iterator(timers.end()));
  }
  return values_.size() >= kCustomersPerWrite ? Flush() : Status::Ok();
}

Status RestoreWriter::Flush() {
  for (const auto& [customer_id, value] : values_) {
    batch_.PutCustomerValue(partition_, customer_id, value ? &*value : nullptr);
  }
  values_.clear();
  // TimerKey's order is its stored key's (state/keys.h).
  std::sort(timers_.begin(), timers_.end());
  for (const TimerKey& timer : timers_) batch_.PutTimer(partition_, timer);
  timers_.clear();
  return batch_.Commit();
}

}  // namespace touchstream
