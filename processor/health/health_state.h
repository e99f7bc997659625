// What /healthz and /readyz report, written by the consume thread (and the restore threads) and
// read by HTTP threads.
//   live:  the consume loop polled Kafka within the allowed age, or work that holds it away from
//          its poll made progress within that age (it is not stuck or dead): a rebalance's
//          restores and changelog republishing run inside the consumer's poll, for as long as
//          the partitions' state takes, and report each step forward (RecordProgress).
//   ready: the state store is open, at least one input partition is assigned (assignment
//          loads the partition's checkpoint synchronously, so assigned means restored), the
//          loop has no fatal error, and the state filesystem has its reserve free
//          (state.min_free_bytes; below it processing pauses, see
//          processor/run/group_membership.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace touchstream {

// Monotonic milliseconds: the clock the consume loop and /healthz use.
inline int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct HealthVerdict {
  bool ok = false;
  std::string reason;  // why not ok, or "ok"
};

// Safe for concurrent use (all members are atomics).
class HealthState {
 public:
  // `now_ms` is any monotonic clock in milliseconds; Live() must be given the same clock.
  void RecordPoll(int64_t now_ms) { last_poll_ms_.store(now_ms); }
  // Work inside a poll moved forward (records read or written, acknowledged): alive as a poll.
  void RecordProgress(int64_t now_ms) { last_progress_ms_.store(now_ms); }
  void SetStoreOpen(bool open) { store_open_.store(open); }
  void SetAssignedPartitions(int count) { assigned_.store(count); }
  void SetFatal(bool fatal) { fatal_.store(fatal); }
  // True while the state filesystem has less than its reserve free.
  void SetDiskFull(bool full) { disk_full_.store(full); }

  HealthVerdict Live(int64_t now_ms, int64_t max_poll_age_ms) const {
    const int64_t poll = last_poll_ms_.load();
    const int64_t progress = last_progress_ms_.load();
    if (progress >= 0 && now_ms - progress <= max_poll_age_ms) return {true, "ok"};
    if (poll < 0) return {false, "consume loop has not polled yet"};
    if (now_ms - poll > max_poll_age_ms) {
      return {false, "last poll " + std::to_string(now_ms - poll) + " ms ago" +
                         (progress >= 0 ? ", last rebalance progress " +
                                              std::to_string(now_ms - progress) + " ms ago"
                                        : "")};
    }
    return {true, "ok"};
  }

  HealthVerdict Ready() const {
    if (!store_open_.load()) return {false, "state store not open"};
    if (fatal_.load()) return {false, "processing stopped on a fatal error"};
    if (disk_full_.load()) {
      return {false, "state filesystem below state.min_free_bytes: processing paused"};
    }
    if (assigned_.load() <= 0) return {false, "no input partitions assigned"};
    return {true, "ok"};
  }

 private:
  std::atomic<int64_t> last_poll_ms_{-1};
  std::atomic<int64_t> last_progress_ms_{-1};
  std::atomic<bool> store_open_{false};
  std::atomic<int> assigned_{0};
  std::atomic<bool> fatal_{false};
  std::atomic<bool> disk_full_{false};
};

}  // namespace touchstream
