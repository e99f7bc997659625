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

}  // namespace touchstream
