// The embedded Kafka: librdkafka's mock cluster (real Kafka wire protocol on loopback ports).
// See DESIGN.md, "Embedded Kafka", for what it does not implement.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>
#include <string>
#include <vector>

#include "processor/config/config.h"
#include "processor/core/status.h"
#include "processor/embedded/fault_command.h"
#include "processor/embedded/no_delay_sockets.h"

namespace touchstream {

// Owns the cluster and the client handle that hosts it. Thread-safe as librdkafka's mock API.
class EmbeddedKafka {
 public:
  // Starts `brokers` brokers on 127.0.0.1 with random free ports.
  static StatusOr<std::unique_ptr<EmbeddedKafka>> Start(int brokers);
  ~EmbeddedKafka();

  Status CreateTopic(const TopicConfig& topic);
  // Creates the touchpoints, triggers and dead-letter topics of `config`.
  Status CreateTopics(const Config& config);

  // Comma-separated host:port list for bootstrap.servers.
  std::string bootstrap_servers() const;

  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  // Brokers are numbered 1..broker_count().
  int broker_count() const;

  // Applies a control-channel command (see fault_command.h) to the cluster; callable from any
  // thread, as the mock API is. Returns the reply's text (what follows "ok "), or InvalidArgument
  // naming what does not exist: a broker id outside 1..broker_count() or a partition of the
  // topic. `leader` on a topic that does not exist creates it (the mock's behaviour): callers
  // that take topic names from users check them first.
  StatusOr<std::string> ApplyFault(const FaultCommand& command);

 private:
  EmbeddedKafka() = default;
  // Ok if `broker_id` is a broker of the cluster, or kAllBrokers when `all_allowed`.
  Status CheckBroker(int32_t broker_id, bool all_allowed) const;

  // Destruction order: the socket thread, then the cluster, then the handle that hosts it.
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::unique_ptr<NoDelaySockets> no_delay_;  // as a real broker's connections
};

}  // namespace touchstream
