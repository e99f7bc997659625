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
#include <optional>

namespace touchstream {

inline constexpr std::chrono::steady_clock::duration kMaxCommitDeferral = std::chrono::seconds(1);

struct CommitDue {
  std::chrono::steady_clock::duration interval;
  int64_t max_events;

  // How long one pass of the consume loop may block, in milliseconds.
  struct Waits {
    int consume_ms;  // the consumer's poll for the next record
    int relay_ms;    // the relay's poll, when the consumer's returned nothing
  };

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

  // The loop's waits for a batch open for `open_for`; `relaying`: the relay holds records in
  // flight; `timer_backlog`: a backlog of due timers fires in chunks; `until_timer`: when the
  // next timer on the wall clock comes due (<= 0: due already; none under exactly_once).
  // Idle, the consumer waits until the interval ends (at least 1 ms, at most 100 ms, so that a
  // stop is seen), or until a due timer may close the batch (TimerWake). With records in flight
  // the consumer does not wait: the relay's poll does, which a delivery report ends at once (an
  // acknowledged barrier lets the next commit go out), up to 10 ms, also past the interval
  // (group commit: the batch waits for the relay without a 1 ms spin). A timer backlog does not
  // wait for input: its next chunk fires at once.
  Waits LoopWaits(std::chrono::steady_clock::duration open_for, bool relaying, bool timer_backlog,
                  std::optional<std::chrono::steady_clock::duration> until_timer) const {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    int64_t wait_ms =
        relaying && open_for >= interval
            ? 10
            : std::max<int64_t>(1, duration_cast<milliseconds>(interval - open_for).count());
    if (until_timer && !relaying) {
      const int64_t wake_ms =
          duration_cast<milliseconds>(TimerWake(open_for, *until_timer)).count();
      wait_ms = std::clamp<int64_t>(wake_ms, 1, wait_ms);
    }
    return {relaying || timer_backlog ? 0 : static_cast<int>(std::min<int64_t>(wait_ms, 100)),
            relaying ? static_cast<int>(std::min<int64_t>(wait_ms, 10)) : 0};
  }
};

}  // namespace touchstream
