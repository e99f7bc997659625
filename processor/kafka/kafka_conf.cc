#include "processor/kafka/kafka_conf.h"

namespace touchstream {

StatusOr<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const KafkaProperties& props,
                                                       const KafkaProperties& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string errstr;
  for (const KafkaProperties* layer : {&props, &overrides}) {
    for (const auto& [key, value] : *layer) {
      if (conf->set(key, value, errstr) != RdKafka::Conf::CONF_OK) {
        return Status::InvalidArgument("kafka." + key + ": " + errstr);
      }
    }
  }
  return conf;
}

Status CheckKafkaSections(const std::map<std::string, KafkaProperties>& sections) {
  std::string errstr;
  for (const auto& [section, props] : sections) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    for (const auto& [key, value] : props) {
      if (conf->set(key, value, errstr) != RdKafka::Conf::CONF_OK) {
        return Status::InvalidArgument(
            section + "." + key + ": " + errstr +
            (section == "kafka" ? " (the kafka section, TOUCHSTREAM_KAFKA_* or -X)" : ""));
      }
    }
  }
  return Status::Ok();
}

}  // namespace touchstream
