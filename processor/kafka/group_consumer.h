// The consumer `touchstream run` reads its input with: a member of the consumer group that
// commits nothing by itself (recovery uses the offsets stored with the state), reports the end
// of each partition (a caught-up partition may follow the wall clock) and turns an offset
// deleted by retention into an error (a retention gap, never a silent jump).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>

#include "processor/core/status.h"
#include "processor/kafka/kafka_conf.h"

namespace touchstream {

// The group consumer's properties: `common` then `consumer` (the config's kafka and
// kafka_consumer sections), and partition.assignment.strategy unless set: cooperative-sticky
// with librdkafka >= 2.3.0, else the eager range,roundrobin (librdkafka issue #4312: older
// cooperative-sticky consumers can abort when destroyed before their first assignment, and the
// mock cluster does not complete cooperative rebalances).
KafkaProperties GroupConsumerProperties(const KafkaProperties& common,
                                        const KafkaProperties& consumer);

// librdkafka's statistics interval for the group consumer unless `props` set one
// (statistics.interval.ms; 0 turns the reports off).
inline constexpr const char* kDefaultStatisticsIntervalMs = "5000";

// Creates the consumer of group `group_id` with `props` and the fixed settings above, calling
// `rebalance` on assignment changes and `events` with librdkafka's logs, errors and statistics
// reports (librdkafka prints its logs itself when `events` is null; with `events`, they are
// `events`' to print). Both must outlive the consumer. Errors name the bad property.
StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> CreateGroupConsumer(
    const KafkaProperties& props, const std::string& group_id, RdKafka::RebalanceCb* rebalance,
    RdKafka::EventCb* events = nullptr);

}  // namespace touchstream
