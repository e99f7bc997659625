#include "processor/kafka/kafka_conf.h"

namespace touchstream {

namespace {

// Sets each of `props` on `conf`; an error names `section`.key.
Status SetAll(RdKafka::Conf& conf, const KafkaProperties& props, const std::string& section) {
  std::string errstr;
  for (const auto& [key, value] : props) {
    if (conf.set(key, value, errstr) != RdKafka::Conf::CONF_OK) {
      return Status::InvalidArgument(section + "." + key + ": " + errstr);
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const KafkaProperties& props,
                                                       const KafkaProperties& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const KafkaProperties* layer : {&props, &overrides}) {
    if (Status s = SetAll(*conf, *layer, "kafka"); !s.ok()) return s;
  }
  return conf;
}

Status CheckKafkaSections(const std::map<std::string, KafkaProperties>& sections) {
  for (const auto& [section, props] : sections) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    if (Status s = SetAll(*conf, props, section); !s.ok()) {
      return section == "kafka"
                 ? Status::InvalidArgument(s.message() +
                                           " (the kafka section, TOUCHSTREAM_KAFKA_* or -X)")
                 : s;
    }
  }
  return Status::Ok();
}

}  // namespace touchstream
