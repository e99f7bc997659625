// The relay's producer properties (processor/run/producer_properties.h).
#include "processor/run/producer_properties.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

TEST(RelayProducerPropertiesTest, LibrdkafkasQueueHoldsWhatTheOutboxMayHold) {
  Config config;  // max_outbox_records 200,000, max_outbox_bytes 256 MiB
  config.kafka["bootstrap.servers"] = "k:9092";
  config.kafka_producer["linger.ms"] = "5";
  const KafkaProperties props = RelayProducerProperties(config);
  EXPECT_EQ(props.at("bootstrap.servers"), "k:9092");
  EXPECT_EQ(props.at("linger.ms"), "5");
  // librdkafka's default of 100,000 would make a produce wait inside the loop before
  // backpressure pauses the input at 200,000.
  EXPECT_EQ(props.at("queue.buffering.max.messages"), "400000");
  // 2 x 256 MiB is below librdkafka's 1 GiB, which stays.
  EXPECT_EQ(props.at("queue.buffering.max.kbytes"), "1048576");
  config.max_outbox_bytes = 4ll << 30;
  config.max_outbox_records = 5'000'000'000;
  const KafkaProperties large = RelayProducerProperties(config);
  EXPECT_EQ(large.at("queue.buffering.max.kbytes"), std::to_string(8ll << 20));
  EXPECT_EQ(large.at("queue.buffering.max.messages"), "2147483647") << "librdkafka's maximum";
}

TEST(RelayProducerPropertiesTest, BoundsSetInTheConfigAreLeftAsGiven) {
  Config config;
  config.kafka["queue.buffering.max.messages"] = "50000";
  config.kafka_producer["queue.buffering.max.kbytes"] = "65536";
  const KafkaProperties props = RelayProducerProperties(config);
  EXPECT_EQ(props.at("queue.buffering.max.messages"), "50000");
  EXPECT_EQ(props.at("queue.buffering.max.kbytes"), "65536");
}

}  // namespace
}  // namespace touchstream
