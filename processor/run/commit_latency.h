// The latencies one commit made durable, for the histograms: each record from its poll to the
// commit, and each trigger from its fire time (event-caused: the event's time; timer-fired:
// the due time) to the commit, on the wall clock.
#pragma once

#include <chrono>
#include <vector>

#include "processor/core/time.h"
#include "processor/metrics/metrics.h"

namespace touchstream {

// Owned by the consume thread.
class CommitLatency {
 public:
  void OnRecord(std::chrono::steady_clock::time_point polled) { polled_.push_back(polled); }
  void OnTrigger(bool event_caused, TimeMs fire_time_ms) {
    triggers_.push_back({event_caused, fire_time_ms});
  }
  // The batch committed now (`wall_ms`): observes and forgets it.
  void Observe(Metrics& metrics, TimeMs wall_ms) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& polled : polled_) {
      metrics.processing_latency().Observe(std::chrono::duration<double>(now - polled).count());
    }
    for (const Trigger& t : triggers_) {
      const double delay = std::max<TimeMs>(0, wall_ms - t.fire_time_ms) / 1000.0;
      (t.event_caused ? metrics.event_to_trigger_latency() : metrics.timer_fire_delay())
          .Observe(delay);
    }
    Clear();
  }
  // The batch was dropped.
  void Clear() {
    polled_.clear();
    triggers_.clear();
  }

 private:
  struct Trigger {
    bool event_caused;
    TimeMs fire_time_ms;
  };
  std::vector<std::chrono::steady_clock::time_point> polled_;
  std::vector<Trigger> triggers_;
};

}  // namespace touchstream
