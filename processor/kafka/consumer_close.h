// Closing a group consumer without hanging. KafkaConsumer::close() revokes the assignment,
// leaves the group and waits for the group coordinator's answer: forever while no broker is
// reachable (a stop during a broker outage never ended; seen with `run` on the embedded Kafka
// stopped under it). CloseConsumer closes through a queue it serves on the caller's thread (the
// rebalance callback's revocation runs there, as inside close()) and gives up after `timeout`;
// the group then reassigns the partitions once the session times out, as after a crash.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>

namespace touchstream {

// True if the consumer closed within `timeout`. Either way it must only be destroyed afterwards
// (its destructor does not close it again).
bool CloseConsumer(RdKafka::KafkaConsumer& consumer, std::chrono::milliseconds timeout);

}  // namespace touchstream
