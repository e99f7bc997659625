// The records a relay holds until Kafka acknowledges them, by outbox sequence number. Sequence
// numbers come in ascending (one counter: a restart's re-sent outbox, then each commit's records)
// and mostly leave in order, so the records live in a deque indexed by seq - the first seq:
// O(1) lookups and no allocation per record (a std::map's node insert and erase were 4 % of
// `run`'s profile). A record that leaves before an earlier one leaves a hole until every record
// before it has left; the deque spans the oldest record held to the newest, which the relay's
// barriers and backpressure bound (about a commit's records). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>

namespace touchstream {

template <typename T>
class InFlightRecords {
 public:
  // Holds `value` under `seq` (moved in); false (and `value` left as it was) if `seq` is already
  // held. A seq below the first one held costs a slot for every seq in between, as one far above
  // does.
  bool Insert(uint64_t seq, T&& value) {
    if (size_ == 0) {
      slots_.clear();
      first_ = seq;
    }
    while (seq < first_) {
      slots_.emplace_front();
      --first_;
    }
    while (seq - first_ >= slots_.size()) slots_.emplace_back();
    std::optional<T>& slot = slots_[seq - first_];
    if (slot.has_value()) return false;
    slot.emplace(std::move(value));
    ++size_;
    return true;
  }

  // The record under `seq`, nullptr if none.
  T* Find(uint64_t seq) {
    if (seq < first_ || seq - first_ >= slots_.size()) return nullptr;
    std::optional<T>& slot = slots_[seq - first_];
    return slot.has_value() ? &*slot : nullptr;
  }
  // The record under `seq`, which must be held (as std::map::at, throws std::out_of_range if not).
  T& At(uint64_t seq) {
    T* found = Find(seq);
    if (found == nullptr) throw std::out_of_range("no record in flight under this seq");
    return *found;
  }

  // Drops the record under `seq`; false if none was held.
  bool Erase(uint64_t seq) {
    if (Find(seq) == nullptr) return false;
    slots_[seq - first_].reset();
    --size_;
    while (!slots_.empty() && !slots_.front().has_value()) {
      slots_.pop_front();
      ++first_;
    }
    return true;
  }

  // fn(seq, record) for every record held, in ascending seq; `fn` may change the records (in the
  // non-const overload), not insert or erase any.
  template <typename Fn>
  void ForEach(Fn fn) const {
    ForEachIn(*this, fn);
  }
  template <typename Fn>
  void ForEach(Fn fn) {
    ForEachIn(*this, fn);
  }

  // The lowest seq held; only when not empty.
  uint64_t first() const { return first_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  // Both ForEach overloads: `self` is this, const or not.
  template <typename Self, typename Fn>
  static void ForEachIn(Self& self, Fn& fn) {
    for (size_t i = 0; i < self.slots_.size(); ++i) {
      if (self.slots_[i].has_value()) fn(self.first_ + i, *self.slots_[i]);
    }
  }

  std::deque<std::optional<T>> slots_;
  uint64_t first_ = 0;  // the seq of slots_.front()
  size_t size_ = 0;
};

}  // namespace touchstream
