// The processor with everything it owns, wired in one place: state store, outbox relay and
// consume loop. Used by `run` and `demo`.
#pragma once

#include <atomic>
#include <memory>

#include "processor/run/consume_loop.h"

namespace touchstream {

// Owned by the thread that calls Run.
class Service {
 public:
  // Opens the state store (moving a corrupt one aside: state/corrupt_store.h), creates the relay
  // (processing.guarantee decides which) and the consumer, and recovers the outbox
  // (Relay::Recover).
  // `config`, `rules` (BuildRuleSet(config.rules)) and `metrics` must outlive the service; so
  // must `health` if given (it learns whether the store is open and is fed by the processor).
  // `stop`, if given, is watched while Kafka is waited for (Relay::WatchStop): a stop requested
  // during start-up ends it with kDeadlineExceeded within processing.stop_timeout.
  static StatusOr<std::unique_ptr<Service>> Create(const Config& config, const RuleSet& rules,
                                                   Metrics& metrics, HealthState* health = nullptr,
                                                   const std::atomic<bool>* stop = nullptr);
  ~Service();

  // Runs until `stop` is set (clean shutdown) or a fatal error.
  Status Run(const std::atomic<bool>& stop) { return loop_->Run(stop); }

  ConsumeLoop& loop() { return *loop_; }
  Relay& relay() { return *relay_; }
  StateDb& db() { return *db_; }

 private:
  Service() = default;

  SystemClock clock_;
  SystemSteadyClock steady_clock_;
  HealthState* health_ = nullptr;
  // Destruction order matters: the loop (uses relay and db), then relay (uses db), then db.
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<ConsumeLoop> loop_;
};

}  // namespace touchstream
