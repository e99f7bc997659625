// Test input that keeps arriving while faults come and go.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace touchstream::testing {

// Produces raw records, partitioned by key (murmur2, the Java client's partitioner) and in the
// given order (idempotent producer), on its own thread at about `per_second` records a second, so
// that input keeps arriving while faults come and go. Records for a partition whose leader is
// unreachable wait in the producer's queue (message.timeout.ms: 300 s) and go out when it is back.
// Owned by one thread.
class PacedProducer {
 public:
  PacedProducer(const std::string& bootstrap, const std::string& topic,
                std::vector<std::pair<std::string, std::string>> key_values, double per_second);
  // Stops producing (what was not handed over is dropped) and joins the thread.
  ~PacedProducer();
  PacedProducer(const PacedProducer&) = delete;
  PacedProducer& operator=(const PacedProducer&) = delete;

  // Waits up to `timeout` until every record is produced and acknowledged. Returns "" on
  // success, else what went wrong (delivery errors, records still unacknowledged).
  std::string Finish(std::chrono::milliseconds timeout);
  // Records handed to the producer so far. Safe for concurrent use.
  size_t handed_over() const { return handed_over_.load(); }

 private:
  void Produce();

  const std::string bootstrap_;
  const std::string topic_;
  const std::vector<std::pair<std::string, std::string>> key_values_;
  const double per_second_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};  // every record produced and acknowledged (or stopped)
  std::atomic<size_t> handed_over_{0};
  std::mutex mutex_;    // guards error_
  std::string error_;   // set by the producing thread
  std::thread thread_;  // last: starts once every member above is initialized
};

}  // namespace touchstream::testing
