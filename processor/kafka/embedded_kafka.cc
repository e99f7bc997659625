#include "processor/kafka/embedded_kafka.h"

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
  return kafka;
}

EmbeddedKafka::~EmbeddedKafka() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

Status EmbeddedKafka::CreateTopic(const TopicConfig& topic) {
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.name.c_str(), topic.partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::KafkaError("cannot create topic " + topic.name + ": " + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

Status EmbeddedKafka::CreateTopics(const Config& config) {
  for (const TopicConfig* t :
       {&config.touchpoints, &config.triggers, &config.dead_letter, &config.changelog}) {
    if (Status s = CreateTopic(*t); !s.ok()) return s;
  }
  return Status::Ok();
}

std::string EmbeddedKafka::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

}  // namespace touchstream
