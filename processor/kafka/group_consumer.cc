#include "processor/kafka/group_consumer.h"

namespace touchstream {

KafkaProperties GroupConsumerProperties(const KafkaProperties& common,
                                        const KafkaProperties& consumer) {
  KafkaProperties props = common;
  for (const auto& [key, value] : consumer) props[key] = value;
  props.emplace("partition.assignment.strategy",
                RdKafka::version() >= 0x020300ff ? "cooperative-sticky" : "range,roundrobin");
  return props;
}

StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> CreateGroupConsumer(
    const KafkaProperties& props, const std::string& group_id, RdKafka::RebalanceCb* rebalance,
    RdKafka::EventCb* events) {
  KafkaProperties with_statistics = props;
  if (events != nullptr) {
    with_statistics.emplace("statistics.interval.ms", kDefaultStatisticsIntervalMs);
  }
  auto conf = MakeKafkaConf(with_statistics, {{"group.id", group_id},
                                              {"enable.auto.commit", "false"},
                                              {"enable.auto.offset.store", "false"},
                                              {"enable.partition.eof", "true"},
                                              {"auto.offset.reset", "error"}});
  if (!conf.ok()) return conf.status();
  std::string errstr;
  if ((*conf)->set("rebalance_cb", rebalance, errstr) != RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("rebalance_cb: " + errstr);
  }
  if (events != nullptr && (*conf)->set("event_cb", events, errstr) != RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("event_cb: " + errstr);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), errstr));
  if (!consumer) return Status::KafkaError("cannot create consumer: " + errstr);
  return consumer;
}

}  // namespace touchstream
