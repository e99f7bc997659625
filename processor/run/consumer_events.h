// The group consumer's librdkafka events (its EventCb): statistics reports become metrics
// (touchstream_records_fetched_total, touchstream_consumer_queued_bytes: processor/kafka/
// consumer_statistics.h), and logs and errors are printed as librdkafka prints them without a
// callback (one line each on stderr), through touchstream's log.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>

#include "processor/kafka/consumer_statistics.h"
#include "processor/metrics/metrics.h"

namespace touchstream {

// librdkafka calls it from its own threads (logs) and from the consume thread's polls
// (statistics, errors); statistics only ever from one thread at a time.
class ConsumerEvents : public RdKafka::EventCb {
 public:
  // `metrics` must outlive this object.
  explicit ConsumerEvents(Metrics& metrics) : metrics_(metrics) {}

  void event_cb(RdKafka::Event& event) override;

  // Reports read into the metrics, and reports refused as not librdkafka's JSON (the first
  // refusal is logged).
  uint64_t reports_read() const { return reports_read_.load(); }
  uint64_t reports_refused() const { return reports_refused_.load(); }

 private:
  void OnStatistics(const std::string& json);

  Metrics& metrics_;
  ConsumerStatistics statistics_;
  std::atomic<uint64_t> reports_read_{0};
  std::atomic<uint64_t> reports_refused_{0};
};

}  // namespace touchstream
