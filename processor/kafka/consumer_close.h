// Closing a group consumer without hanging. KafkaConsumer::close() revokes the assignment,
// leaves the group and waits for the group coordinator's answer: for minutes, or forever, while
// no broker answers (a `run` stopped as its brokers went away was seen waiting in it). Its
// destructor waits for the same answer when the close did not finish. CloseConsumer closes
// through a queue it serves on the caller's thread (the rebalance callback's revocation runs
// there, as inside close(); its own flush adds to the wait) and, if the consumer has not closed
// within `timeout`, abandons it: released, never destroyed (its threads and memory stay until
// the process exits, which is what the callers are about to do). The group then reassigns the
// partitions once the session times out, as after a crash.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>

namespace touchstream {

// Closes and destroys `consumer` (null afterwards). False if it was abandoned instead.
bool CloseConsumer(std::unique_ptr<RdKafka::KafkaConsumer>& consumer,
                   std::chrono::milliseconds timeout);

// Abandons `consumer` (null afterwards) without closing it: it neither revokes its assignment nor
// leaves the group, so the group reassigns the partitions once the session times out, as after a
// crash. For a process about to exit.
void AbandonConsumer(std::unique_ptr<RdKafka::KafkaConsumer>& consumer);

}  // namespace touchstream
