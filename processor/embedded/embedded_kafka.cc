#include "processor/embedded/embedded_kafka.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>
#include <vector>

#include "processor/core/partition_name.h"

namespace touchstream {

StatusOr<std::unique_ptr<EmbeddedKafka>> EmbeddedKafka::Start(int brokers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::KafkaError(errstr);
  }
  std::unique_ptr<EmbeddedKafka> kafka(new EmbeddedKafka());
  kafka->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (kafka->handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::KafkaError(std::string("cannot create the embedded cluster's handle: ") +
                              errstr);
  }
  kafka->cluster_ = rd_kafka_mock_cluster_new(kafka->handle_, brokers);
  if (kafka->cluster_ == nullptr) {
    return Status::KafkaError("cannot start the embedded Kafka cluster");
  }
  // Each broker's port, from "host:port,host:port,...".
  std::set<int> ports;
  std::stringstream servers(kafka->bootstrap_servers());
  for (std::string server; std::getline(servers, server, ',');) {
    ports.insert(std::atoi(server.substr(server.rfind(':') + 1).c_str()));
  }
  kafka->no_delay_ = std::make_unique<NoDelaySockets>(std::move(ports));
  return kafka;
}

EmbeddedKafka::~EmbeddedKafka() {
  no_delay_.reset();
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

Status EmbeddedKafka::CreateTopic(const TopicConfig& topic) {
  // No topic configs: rd_kafka_mock_topic_create takes none, and the mock neither compacts nor
  // knows cleanup.policy or min.compaction.lag.ms (the changelog's, README). Tests compact a
  // copy instead (tests/integration/harness.h, CompactChangelog).
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.name.c_str(), topic.partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::KafkaError("cannot create topic " + topic.name + ": " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status EmbeddedKafka::CreateTopics(const Config& config) {
  for (const TopicConfig* t : {&config.touchpoints, &config.triggers, &config.dead_letter,
                               &config.audit, &config.changelog, &config.repartition}) {
    if (Status s = CreateTopic(*t); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string EmbeddedKafka::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

int EmbeddedKafka::broker_count() const {
  // One host:port per broker: the mock has no other public way to tell.
  const std::string servers = bootstrap_servers();
  return servers.empty() ? 0
                         : 1 + static_cast<int>(std::count(servers.begin(), servers.end(), ','));
}

Status EmbeddedKafka::CheckBroker(int32_t broker_id, bool all_allowed) const {
  if (broker_id == kAllBrokers && all_allowed) return Status::Ok();
  if (broker_id < 1 || broker_id > broker_count()) {
    return Status::InvalidArgument("no broker " + std::to_string(broker_id) + " (brokers are 1.." +
                                   std::to_string(broker_count()) + ")");
  }
  return Status::Ok();
}

namespace {

std::string BrokerName(int32_t broker_id) {
  return broker_id == kAllBrokers ? "all brokers" : "broker " + std::to_string(broker_id);
}

Status MockError(rd_kafka_resp_err_t err) {
  return Status::InvalidArgument(std::string(rd_kafka_err2name(err)) + ": " +
                                 rd_kafka_err2str(err));
}

}  // namespace

StatusOr<std::string> EmbeddedKafka::ApplyFault(const FaultCommand& c) {
  using Kind = FaultCommand::Kind;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  switch (c.kind) {
    case Kind::kHelp:
      return FaultCommandSummary();
    case Kind::kBrokerDown:
    case Kind::kBrokerUp: {
      if (Status s = CheckBroker(c.broker_id, true); !s.ok()) return s;
      const bool down = c.kind == Kind::kBrokerDown;
      err = down ? rd_kafka_mock_broker_set_down(cluster_, c.broker_id)
                 : rd_kafka_mock_broker_set_up(cluster_, c.broker_id);
      if (err) return MockError(err);
      return BrokerName(c.broker_id) + (down ? " down" : " up");
    }
    case Kind::kLeader: {
      if (c.broker_id != kNoLeader) {
        if (Status s = CheckBroker(c.broker_id, false); !s.ok()) return s;
      }
      err = rd_kafka_mock_partition_set_leader(cluster_, c.topic.c_str(), c.partition, c.broker_id);
      if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return Status::InvalidArgument("topic " + c.topic + " has no partition " +
                                       std::to_string(c.partition));
      }
      if (err) return MockError(err);
      const std::string where = PartitionName(c.topic, c.partition);
      return c.broker_id == kNoLeader
                 ? where + " has no leader"
                 : "leader of " + where + " is broker " + std::to_string(c.broker_id);
    }
    case Kind::kCoordinator: {
      // The mock asserts (aborts) on a FindCoordinator for a broker that does not exist.
      if (Status s = CheckBroker(c.broker_id, false); !s.ok()) return s;
      err = rd_kafka_mock_coordinator_set(cluster_, c.key_type.c_str(), c.key.c_str(), c.broker_id);
      if (err) return MockError(err);
      return "coordinator of " + c.key_type + " " + c.key + " is broker " +
             std::to_string(c.broker_id);
    }
    case Kind::kRtt: {
      if (Status s = CheckBroker(c.broker_id, true); !s.ok()) return s;
      err = rd_kafka_mock_broker_set_rtt(cluster_, c.broker_id, c.delay_ms);
      if (err) return MockError(err);
      return BrokerName(c.broker_id) + " rtt " + std::to_string(c.delay_ms) + " ms";
    }
    case Kind::kErrors: {
      const std::vector<rd_kafka_resp_err_t> errors(c.count, c.error);
      rd_kafka_mock_push_request_errors_array(cluster_, c.api.key, errors.size(), errors.data());
      return "next " + std::to_string(c.count) + " " + c.api.name +
             (c.count == 1 ? " request fails with " : " requests fail with ") +
             FaultErrorName(c.error);
    }
    case Kind::kErrorsRtt: {
      if (Status s = CheckBroker(c.broker_id, false); !s.ok()) return s;
      // The variadic API takes (error, rtt) pairs; one call per pair appends in order.
      for (int i = 0; i < c.count; ++i) {
        err = rd_kafka_mock_broker_push_request_error_rtts(cluster_, c.broker_id, c.api.key, 1,
                                                           c.error, c.delay_ms);
        if (err) return MockError(err);
      }
      return "broker " + std::to_string(c.broker_id) + ": next " + std::to_string(c.count) + " " +
             c.api.name + (c.count == 1 ? " response " : " responses ") + FaultErrorName(c.error) +
             " after " + std::to_string(c.delay_ms) + " ms";
    }
    case Kind::kClearErrors: {
      for (const FaultableApi& api : FaultableApis()) {
        if (c.api.key == -1 || c.api.key == api.key) {
          rd_kafka_mock_clear_request_errors(cluster_, api.key);
        }
      }
      return std::string("cleared queued errors of ") +
             (c.api.key == -1 ? "every api" : c.api.name);
    }
    case Kind::kPendingErrors: {
      if (Status s = CheckBroker(c.broker_id, false); !s.ok()) return s;
      size_t count = 0;  // left as is when the broker never had a stack for the api
      err = rd_kafka_mock_broker_error_stack_cnt(cluster_, c.broker_id, c.api.key, &count);
      if (err) return MockError(err);
      return std::to_string(count);
    }
  }
  return Status::Internal("unhandled fault command");
}

}  // namespace touchstream
