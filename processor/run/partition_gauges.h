// The per-partition gauges the consume loop samples about once a second: each assigned
// partition's watermark and max event time (an idle partition's clock moves without commits)
// and its consumer lag (from the consumer's cached watermark offsets: no broker round trip).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <string>

#include "processor/metrics/metrics.h"
#include "processor/run/task_manager.h"

namespace touchstream {

void SamplePartitionGauges(const TaskManager& tasks, RdKafka::KafkaConsumer& consumer,
                           const std::string& input_topic, Metrics& metrics);

}  // namespace touchstream
