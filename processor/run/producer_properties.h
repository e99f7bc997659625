// The relay's producer properties: the `kafka` section, `kafka_producer` on top, and librdkafka's
// own queue bounds raised to hold what touchstream lets the relay hold. The relay keeps up to
// processing.max_outbox_records / max_outbox_bytes unacknowledged (more by one commit's records:
// backpressure pauses input only past them, processor/run/outbox_backpressure.h); librdkafka's
// defaults (queue.buffering.max.messages 100,000; queue.buffering.max.kbytes 1 GiB) are below
// the default 200,000, and a produce into a full queue waits there (ProduceRecord), holding the
// consume loop away from its poll while a broker is down: /healthz failed and the group moved on
// long before backpressure could pause anything. Unset, each bound is twice touchstream's (at
// least librdkafka's default); set in the config, it is left as given.
#pragma once

#include "processor/config/config.h"
#include "processor/kafka/kafka_conf.h"

namespace touchstream {

KafkaProperties RelayProducerProperties(const Config& config);

}  // namespace touchstream
