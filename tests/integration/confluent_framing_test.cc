// Confluent-framed TouchpointEvents (Java's KafkaProtobufSerializer) mixed with plain ones on the
// embedded Kafka: each valid one is applied whatever its framing; a framed record of another
// message, of a schema id outside topics.touchpoints.schema_ids or with a broken framing is
// dead-lettered with its reason and its bytes untouched. `produce --framing confluent` writes
// the same bytes the serializer does.
#include <gtest/gtest.h>

#include "processor/core/clock.h"
#include "processor/core/event_validator.h"
#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {
namespace {

constexpr const char* kRules = kCart1hRules;

ClusterConfig FramingConfig() {
  ClusterConfig config;
  config.group_id = "framing";
  config.touchpoints = "schema_ids: [12, 13]";
  config.processing = "commit_interval: 50ms";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.rules = kRules;
  return config;
}

// What KafkaProtobufSerializer writes, byte by byte (Confluent's MessageIndexes.toByteArray and
// Kafka's ByteUtils.writeVarint), written here apart from the code under test: magic byte 0,
// the schema id as a big-endian int32, the message-index path (the path [0] as the single byte
// 0, else a zigzag varint count and zigzag varint indexes), then the protobuf bytes.
std::string SerializerFraming(int32_t schema_id, const std::vector<int32_t>& path) {
  std::string out(1, '\0');
  const auto id = static_cast<uint32_t>(schema_id);
  for (uint32_t b : {id >> 24, id >> 16, id >> 8, id}) out.push_back(static_cast<char>(b & 0xff));
  auto varint = [&out](int32_t v) {
    uint32_t zigzag = (static_cast<uint32_t>(v) << 1) ^ (v < 0 ? 0xffffffffu : 0u);
    for (; zigzag >= 0x80; zigzag >>= 7) out.push_back(static_cast<char>(0x80 | (zigzag & 0x7f)));
    out.push_back(static_cast<char>(zigzag));
  };
  if (path == std::vector<int32_t>{0}) {
    out.push_back('\0');
    return out;
  }
  varint(static_cast<int32_t>(path.size()));
  for (int32_t index : path) varint(index);
  return out;
}

// TouchpointEvent is the third message of proto/touchpoint.proto.
const std::vector<int32_t> kTouchpointEventPath = {2};

class ConfluentFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
    cluster_ = std::make_unique<Cluster>(dir_, FramingConfig());
    ASSERT_TRUE(cluster_->started()) << "embedded Kafka did not start";
  }

  TempDir dir_;
  std::unique_ptr<Cluster> cluster_;  // after dir_: its processes end before dir_ is removed
};

v1::TouchpointEvent AddToCart(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
}

TEST_F(ConfluentFramingTest, FramedAndPlainEventsAreAppliedAndBadFramesDeadLettered) {
  ChildProcess& processor = cluster_->Start("run");
  std::vector<std::pair<std::string, std::string>> records;
  auto plain = [&](const v1::TouchpointEvent& e) {
    records.emplace_back(e.customer_id(), e.SerializeAsString());
  };
  auto framed = [&](int32_t schema_id, const std::vector<int32_t>& path,
                    const v1::TouchpointEvent& e) {
    records.emplace_back(e.customer_id(),
                         SerializerFraming(schema_id, path) + e.SerializeAsString());
  };
  framed(12, kTouchpointEventPath, AddToCart("e1", "c1", kT0));  // offset 0
  plain(AddToCart("e2", "c2", kT0 + 10 * kMinuteMs));            // 1
  // A framed in-store purchase settles c2's plain online cart: no trigger for c2.
  framed(13, kTouchpointEventPath,
         Event("e3", "c2", kT0 + 20 * kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE));
  // Applied, either would fire a cart trigger: the path [0] (LineItem), an unpinned schema id.
  framed(12, {0}, AddToCart("e4", "c3", kT0));                   // 3
  framed(99, kTouchpointEventPath, AddToCart("e5", "c4", kT0));  // 4
  records.emplace_back("c5", std::string("\0\0\0", 3));          // 5: schema id cut short
  plain(AddToCart("e6", "c5", kT0 + 30 * kMinuteMs));            // 6
  // Moves the watermark past both open carts' deadlines.
  framed(13, kTouchpointEventPath, Event("e7", "c6", kT0 + 3 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW));
  cluster_->Produce(records);

  std::vector<std::string> triggers;
  for (const Record& r : cluster_->Consume("triggers", 2, std::chrono::seconds(30))) {
    v1::Trigger t;
    EXPECT_TRUE(t.ParseFromString(r.value));
    triggers.push_back(Describe(t) + " cause " + t.cause_event_id());
  }
  EXPECT_EQ(triggers, (std::vector<std::string>{"CART_ABANDONED cart_1h c1 @+3600s cause e1",
                                                "CART_ABANDONED cart_1h c5 @+5400s cause e6"}))
      << processor.Stderr();

  std::vector<Record> dead = cluster_->Consume("touchpoints-dlq", 3, std::chrono::seconds(30));
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {3, "unexpected_message_index"}, {4, "unknown_schema_id"}, {5, "bad_framing"}};
  ASSERT_EQ(dead.size(), expected.size()) << processor.Stderr();
  for (size_t i = 0; i < dead.size(); ++i) {
    const auto& [offset, reason] = expected[i];
    EXPECT_EQ(dead[i].headers["touchstream.reason"], reason) << "offset " << offset;
    EXPECT_EQ(dead[i].headers["touchstream.source.offset"], std::to_string(offset));
    EXPECT_EQ(dead[i].value, records[offset].second) << "original bytes must be untouched";
  }
  cluster_->Stop("run");
}

TEST_F(ConfluentFramingTest, ProduceWritesTheSerializersFraming) {
  const std::string input =
      dir_.Write("events.jsonl",
                 "{\"eventId\":\"p1\",\"customerId\":\"c1\",\"eventTime\":\"2026-01-01T00:00:00Z\","
                 "\"channel\":\"CHANNEL_WEB\",\"type\":\"EVENT_TYPE_PAGE_VIEW\"}\n");
  ChildProcess produce({TouchstreamBin(), "produce", "--brokers", cluster_->bootstrap(), "--input",
                        input, "--framing", "confluent", "--schema-id", "300"},
                       dir_.path() + "/produce");
  ASSERT_EQ(produce.Wait(std::chrono::seconds(30)), 0) << produce.Stderr();

  std::vector<Record> records =
      cluster_->Consume("touchpoints", 1, std::chrono::seconds(20), std::chrono::milliseconds(0));
  ASSERT_EQ(records.size(), 1u);
  const std::string prefix = SerializerFraming(300, kTouchpointEventPath);
  ASSERT_EQ(records[0].value.substr(0, prefix.size()), prefix);
  v1::TouchpointEvent event;
  ASSERT_TRUE(event.ParseFromString(records[0].value.substr(prefix.size())));
  EXPECT_EQ(event.event_id(), "p1");
  EXPECT_EQ(records[0].key, "c1");
}

}  // namespace
}  // namespace touchstream::testing
