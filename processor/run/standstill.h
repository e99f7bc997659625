// Tells a process that stood still (frozen by SIGSTOP, a paused virtual machine, a host that
// starved it) from a consume loop that was only busy (a long commit, a slow restore), which a
// gap between two polls cannot: librdkafka heartbeats the group from threads of its own, so the
// group moves the partitions when the whole process stood still past session.timeout.ms, not
// when the loop took long (an unreachable coordinator the consumer reports itself, as a lost
// assignment; a loop that does not poll within max.poll.interval.ms too).
//
// StandstillTracker is the pure part: something ticks it often (every StandstillWatch::kTick);
// it keeps the longest interval between two ticks, or between a tick and a Take, since the last
// Take. The interval still open counts too, so that a Take right after a thaw, before the
// ticking thread has woken, sees the stand-still. The consume loop asks at every poll, from the
// loop's construction on: a freeze during start-up or inside a rebalance callback (a restore)
// counts as one anywhere else.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "processor/core/clock.h"

namespace touchstream {

// Not thread-safe on its own (StandstillWatch locks around it).
class StandstillTracker {
 public:
  using TimePoint = SteadyClock::TimePoint;
  using Duration = std::chrono::steady_clock::duration;

  explicit StandstillTracker(TimePoint now) : since_(now) {}

  void Tick(TimePoint now) {
    longest_ = std::max(longest_, now - since_);
    since_ = now;
  }

  // The longest interval since the last Take (or construction), the one open until `now`
  // included; starts over.
  Duration Take(TimePoint now) {
    const Duration longest = std::max(longest_, now - since_);
    longest_ = Duration::zero();
    since_ = now;
    return longest;
  }

 private:
  TimePoint since_;  // the later of the last tick and the last Take
  Duration longest_ = Duration::zero();
};

// A thread that ticks a StandstillTracker every kTick while the object lives. Safe for
// concurrent use. The thread sleeps on the real steady clock; the intervals are read from the
// injected one (a test's clock that jumps shows as one interval).
class StandstillWatch {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  // `clock` must outlive the watch.
  explicit StandstillWatch(const SteadyClock& clock)
      : clock_(clock), tracker_(clock.Now()), thread_([this] { Run(); }) {}
  ~StandstillWatch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  StandstillWatch(const StandstillWatch&) = delete;
  StandstillWatch& operator=(const StandstillWatch&) = delete;

  // How long the process stood still at most since the last call (a tick interval when it ran).
  StandstillTracker::Duration TakeLongest() {
    std::lock_guard<std::mutex> lock(mu_);
    return tracker_.Take(clock_.Now());
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, kTick, [this] { return stop_; })) tracker_.Tick(clock_.Now());
  }

  const SteadyClock& clock_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;          // guarded by mu_
  StandstillTracker tracker_;  // guarded by mu_
  std::thread thread_;         // last: started once the rest is constructed
};

}  // namespace touchstream
