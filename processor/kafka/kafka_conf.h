// librdkafka configuration from a property map. Every Conf::set result is checked; an error
// names the property and carries librdkafka's errstr.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "processor/core/status.h"

namespace touchstream {

using KafkaProperties = std::map<std::string, std::string>;

// `props` first, then `overrides` on top (the component's own required settings).
StatusOr<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const KafkaProperties& props,
                                                       const KafkaProperties& overrides = {});

// Each property of the config's `kafka`, `kafka_consumer` and `kafka_producer` sections as
// librdkafka takes it, at start-up: InvalidArgument naming the section and the key (the
// clients' own MakeKafkaConf, later, knows no section). TOUCHSTREAM_KAFKA_* and -X items are
// the kafka section's by then (ApplyKafkaOverrides), and named so.
Status CheckKafkaSections(const std::map<std::string, KafkaProperties>& sections);

}  // namespace touchstream
