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

}  // namespace touchstream
