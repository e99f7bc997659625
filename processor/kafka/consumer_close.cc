#include "processor/kafka/consumer_close.h"

namespace touchstream {

namespace {

bool Close(RdKafka::KafkaConsumer& consumer, std::chrono::milliseconds timeout) {
  if (consumer.closed()) return true;
  const std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(&consumer));
  if (const std::unique_ptr<RdKafka::Error> error(consumer.close(queue.get())); error) {
    return consumer.closed();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!consumer.closed()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    const std::unique_ptr<RdKafka::Message> message(queue->consume(100));
  }
  return true;
}

}  // namespace

bool CloseConsumer(std::unique_ptr<RdKafka::KafkaConsumer>& consumer,
                   std::chrono::milliseconds timeout) {
  if (!consumer) return true;
  if (Close(*consumer, timeout)) {
    consumer.reset();
    return true;
  }
  // Deliberately not destroyed: its destructor would wait for the coordinator again.
  AbandonConsumer(consumer);
  return false;
}

void AbandonConsumer(std::unique_ptr<RdKafka::KafkaConsumer>& consumer) {
  // Destroying it would close it (revoke, LeaveGroup) and wait for the coordinator.
  [[maybe_unused]] RdKafka::KafkaConsumer* abandoned = consumer.release();
}

}  // namespace touchstream
