#include "processor/run/held_records.h"

#include <gtest/gtest.h>

#include <string>

namespace touchstream {
namespace {

// A consumed record as the consume loop holds it: only what HeldRecords reads is real.
class FakeRecord : public RdKafka::Message {
 public:
  FakeRecord(std::string topic, int32_t partition, int64_t offset, size_t value_bytes)
      : topic_(std::move(topic)),
        partition_(partition),
        offset_(offset),
        value_(value_bytes, 'v') {}
  std::string errstr() const override { return ""; }
  RdKafka::ErrorCode err() const override { return RdKafka::ERR_NO_ERROR; }
  RdKafka::Topic* topic() const override { return nullptr; }
  std::string topic_name() const override { return topic_; }
  int32_t partition() const override { return partition_; }
  void* payload() const override { return const_cast<char*>(value_.data()); }
  size_t len() const override { return value_.size(); }
  const std::string* key() const override { return &key_; }
  const void* key_pointer() const override { return key_.data(); }
  size_t key_len() const override { return key_.size(); }
  int64_t offset() const override { return offset_; }
  RdKafka::MessageTimestamp timestamp() const override { return {}; }
  void* msg_opaque() const override { return nullptr; }
  int64_t latency() const override { return -1; }
  rd_kafka_message_s* c_ptr() override { return nullptr; }
  Status status() const override { return MSG_STATUS_PERSISTED; }
  RdKafka::Headers* headers() override { return nullptr; }
  RdKafka::Headers* headers(RdKafka::ErrorCode* err) override {
    *err = RdKafka::ERR_NO_ERROR;
    return nullptr;
  }
  int32_t broker_id() const override { return -1; }

 private:
  std::string topic_;
  int32_t partition_;
  int64_t offset_;
  std::string key_ = "customer";  // 8 bytes
  std::string value_;
};

HeldRecords::Message Record(const std::string& topic, int32_t partition, int64_t offset,
                            size_t value_bytes = 92) {
  return std::make_unique<FakeRecord>(topic, partition, offset, value_bytes);
}

constexpr size_t kRecordBytes = 8 + 92 + HeldRecords::kRecordOverheadBytes;

TEST(HeldRecordsTest, KeepsEachSourcesRecordsInOrderUntilTaken) {
  HeldRecords held(1 << 20);
  const HeldRecords::Source input{"touchpoints", 3}, other{"touchpoints", 4},
      forwarded{"repartition", 3};
  EXPECT_FALSE(held.Keeping(input));
  for (int64_t offset : {10, 11, 12}) {
    HeldRecords::Message m = Record("touchpoints", 3, offset);
    ASSERT_TRUE(held.Keep(input, m));
    EXPECT_EQ(m, nullptr);  // taken
  }
  HeldRecords::Message m = Record("repartition", 3, 7);
  ASSERT_TRUE(held.Keep(forwarded, m));
  EXPECT_TRUE(held.Keeping(input));
  EXPECT_TRUE(held.Keeping(forwarded));
  EXPECT_FALSE(held.Keeping(other));
  EXPECT_EQ(held.size(), 4u);
  EXPECT_EQ(held.bytes(), 4 * kRecordBytes);

  std::deque<HeldRecords::Message> taken = held.Take(input);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0]->offset(), 10);
  EXPECT_EQ(taken[1]->offset(), 11);
  EXPECT_EQ(taken[2]->offset(), 12);
  EXPECT_FALSE(held.Keeping(input));
  EXPECT_TRUE(held.Take(input).empty());
  EXPECT_EQ(held.size(), 1u);
  EXPECT_EQ(held.bytes(), kRecordBytes);
  held.Clear();
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.bytes(), 0u);
}

TEST(HeldRecordsTest, ASourceThatWouldPassTheBoundKeepsNothingMore) {
  // Room for three records over all sources.
  HeldRecords held(3 * kRecordBytes);
  const HeldRecords::Source a{"touchpoints", 0}, b{"touchpoints", 1};
  HeldRecords::Message m = Record("touchpoints", 0, 1);
  ASSERT_TRUE(held.Keep(a, m));
  m = Record("touchpoints", 1, 1);
  ASSERT_TRUE(held.Keep(b, m));
  m = Record("touchpoints", 0, 2);
  ASSERT_TRUE(held.Keep(a, m));
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes);

  m = Record("touchpoints", 0, 3);
  EXPECT_FALSE(held.Keep(a, m));
  ASSERT_NE(m, nullptr);          // left to the caller
  EXPECT_FALSE(held.Keeping(a));  // its kept records dropped: it is paused and rewound
  EXPECT_TRUE(held.Keeping(b));
  EXPECT_EQ(held.size(), 1u);
  EXPECT_EQ(held.bytes(), kRecordBytes);

  // The room it gave back is there for the others.
  m = Record("touchpoints", 1, 2, 92 + 2 * kRecordBytes - kRecordBytes);
  EXPECT_TRUE(held.Keep(b, m));
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes);
}

TEST(HeldRecordsTest, ABoundOfZeroKeepsNothing) {
  HeldRecords held(0);
  const HeldRecords::Source a{"touchpoints", 0};
  HeldRecords::Message m = Record("touchpoints", 0, 1, 0);
  EXPECT_FALSE(held.Keep(a, m));
  EXPECT_NE(m, nullptr);
  EXPECT_FALSE(held.Keeping(a));
  EXPECT_TRUE(held.empty());
}

}  // namespace
}  // namespace touchstream
