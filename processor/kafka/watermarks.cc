#include "processor/kafka/watermarks.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "processor/core/partition_name.h"

namespace touchstream {

namespace {

// The offset ListOffsets gives for `which` (RdKafka::Topic::OFFSET_BEGINNING: the earliest,
// OFFSET_END: the next to be written), waiting at most `timeout_ms`. A partition missing from
// the answer keeps the negative `which`: an error (ERR__BAD_MSG, as query_watermark_offsets).
RdKafka::ErrorCode ListOffset(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                              int32_t partition, int64_t which, int timeout_ms, int64_t* offset) {
  const std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(topic, partition, which));
  std::vector<RdKafka::TopicPartition*> list{tp.get()};
  RdKafka::ErrorCode err = consumer.offsetsForTimes(list, timeout_ms);
  if (err == RdKafka::ERR_NO_ERROR) err = tp->err();
  if (err == RdKafka::ERR_NO_ERROR && tp->offset() < 0) err = RdKafka::ERR__BAD_MSG;
  if (err == RdKafka::ERR_NO_ERROR) *offset = tp->offset();
  return err;
}

}  // namespace

StatusOr<Watermarks> QueryWatermarks(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                                     int32_t partition, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining_ms = [&] {
    return static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };
  RdKafka::ErrorCode err = RdKafka::ERR_NO_ERROR;
  for (int attempt = 0;; ++attempt) {
    Watermarks w;
    // Half the time left for the first of the two requests, the rest for the second.
    err = ListOffset(consumer, topic, partition, RdKafka::Topic::OFFSET_BEGINNING,
                     std::min(std::max(1, remaining_ms() / 2), 5'000), &w.low);
    if (err == RdKafka::ERR_NO_ERROR) {
      err = ListOffset(consumer, topic, partition, RdKafka::Topic::OFFSET_END,
                       std::min(remaining_ms(), 5'000), &w.high);
    }
    if (err == RdKafka::ERR_NO_ERROR) return w;
    if (Clock::now() >= deadline) break;
    // A moved leader, a broker that is down or restarting: learn the leaders anew, back off.
    RdKafka::Metadata* raw = nullptr;
    consumer.metadata(true, nullptr, &raw, std::min(remaining_ms(), 2'000));
    delete raw;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(remaining_ms(), 50 << std::min(attempt, 4))));
    if (Clock::now() >= deadline) break;
  }
  return Status::KafkaError("cannot read the offsets of " + PartitionName(topic, partition) +
                            " within " + std::to_string(timeout_ms) +
                            " ms: " + RdKafka::err2str(err));
}

}  // namespace touchstream
