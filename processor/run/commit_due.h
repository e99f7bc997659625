// When the consume loop closes its batch and commits it: group commit. A batch closes once it
// holds `processing.commit_max_events` records, or once `processing.commit_interval` has passed
// and the relay has acknowledged everything it was handed. Each commit's changelog markers wait
// for its records' acknowledgements and nothing later is produced before them (outbox_relay.h),
// so committing faster than Kafka acknowledges would only queue commits behind one another: a
// 1-2 ms interval fell behind without bound at 1,000-5,000 events/s. While the relay is busy the
// batch keeps growing instead, and the commit goes out with its acknowledgement: the interval
// becomes a lower bound, a round trip the upper one. A relay that makes no progress (a broker
// away) still gets a commit every kMaxCommitDeferral or commit_interval, whichever is longer
// (committed records wait in the outbox, bounded by the outbox backpressure). Under exactly_once
// the transactional relay publishes synchronously (nothing in flight between commits): no
// change there, and no early close for timers either (each commit is a synchronous transaction).
// A timer due on the wall clock (TaskManager::MsUntilPunctuation) closes the batch at half the
// interval once the relay is idle, so that it waits at most half an interval rather than a whole
// one. Not sooner: timers come due continuously under load, and closing the batch for each
// (every relay round trip) multiplied the commits: at 5,000 events/s the event-caused p90 went
// from 0.74 to 2.1 s and one timer in eight waited over a second (benchmarks/RESULTS.md,
// latency). With records in flight a due timer waits like the rest of the batch.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace touchstream {

inline constexpr std::chrono::steady_clock::duration kMaxCommitDeferral = std::chrono::seconds(1);

struct CommitDue {
  std::chrono::steady_clock::duration interval;
  int64_t max_events;

  // `open_for`: since the batch opened; `records`: in it; `relay_in_flight`: records the relay
  // holds unacknowledged; `timer_due`: a commit's punctuation would fire a timer now.
  bool operator()(std::chrono::steady_clock::duration open_for, int64_t records,
                  size_t relay_in_flight, bool timer_due = false) const {
    if (records >= max_events) return true;
    if (timer_due && relay_in_flight == 0 && open_for >= interval / 2) return true;
    if (open_for < interval) return false;
    return relay_in_flight == 0 || open_for >= std::max(interval, kMaxCommitDeferral);
  }

  // For an idle relay: how long from now until a timer due in `until_timer` (<= 0: due already)
  // may close the batch open for `open_for`: its due time, not before half the interval.
  std::chrono::steady_clock::duration TimerWake(
      std::chrono::steady_clock::duration open_for,
      std::chrono::steady_clock::duration until_timer) const {
    return std::max(until_timer, interval / 2 - open_for);
  }
};

}  // namespace touchstream
