// Prometheus metrics of the processor (prefix touchstream_, base units, counters end in
// _total, bounded labels only: never a customer id). Series are created at start-up so they
// exist at zero. Exposed on /metrics by the prometheus-cpp pull exposer.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "processor/core/event_validator.h"
#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream {

// Safe for concurrent use (prometheus-cpp metrics are atomic).
class Metrics {
 public:
  // `rule_ids` pre-create the per-rule trigger series.
  Metrics(const std::string& consume_topic, const std::vector<std::string>& rule_ids);

  // Starts serving /metrics on host:port. Throws std::exception if the port cannot be bound.
  void Serve(const std::string& listen);

  prometheus::Counter& records_consumed() { return *records_consumed_; }
  prometheus::Counter& events_processed(v1::EventType type, v1::Channel channel);
  prometheus::Counter& events_invalid(RejectReason reason);
  prometheus::Counter& triggers_emitted(const std::string& rule_id, v1::TriggerType type);
  prometheus::Counter& delivery_errors(const std::string& topic);
  prometheus::Histogram& commit_duration() { return *commit_duration_; }
  prometheus::Histogram& commit_batch_events() { return *commit_batch_events_; }
  prometheus::Gauge& outbox_pending() { return *outbox_pending_; }
  prometheus::Gauge& assigned_partitions() { return *assigned_partitions_; }
  prometheus::Counter& rebalances() { return *rebalances_; }
  prometheus::Gauge& watermark_seconds(int32_t partition);

  std::shared_ptr<prometheus::Registry> registry() { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;

  prometheus::Counter* records_consumed_;
  prometheus::Family<prometheus::Counter>* events_processed_family_;
  std::map<std::pair<int, int>, prometheus::Counter*> events_processed_;
  std::map<RejectReason, prometheus::Counter*> events_invalid_;
  prometheus::Family<prometheus::Counter>* triggers_family_;
  prometheus::Family<prometheus::Counter>* delivery_errors_family_;
  prometheus::Histogram* commit_duration_;
  prometheus::Histogram* commit_batch_events_;
  prometheus::Gauge* outbox_pending_;
  prometheus::Gauge* assigned_partitions_;
  prometheus::Counter* rebalances_;
  prometheus::Family<prometheus::Gauge>* watermark_family_;
};

}  // namespace touchstream
