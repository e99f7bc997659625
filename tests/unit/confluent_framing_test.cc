#include "processor/core/confluent_framing.h"

#include <gtest/gtest.h>

#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using namespace std::string_literals;

// Frames are written byte by byte here (the bytes KafkaProtobufSerializer writes), not with
// ConfluentFramingPrefix, so a mistake in it cannot hide one in the parser.
const std::string kPayload =
    "\x0a\x02"
    "e1"s;  // TouchpointEvent{event_id: "e1"}

// "schema 12, path [..]" or the error message.
std::string Parse(const std::string& record) {
  StatusOr<ConfluentFrame> frame = ParseConfluentFrame(record);
  if (!frame.ok()) return "error: " + frame.status().message();
  return "schema " + std::to_string(frame->schema_id) + ", path " +
         frame->message_indexes.ToString() + ", payload " + std::string(frame->payload);
}

TEST(ConfluentFramingTest, TheSingleZeroByteIsThePathZero) {
  EXPECT_EQ(Parse("\x00\x00\x00\x00\x0c\x00"s + kPayload),
            "schema 12, path [0], payload " + kPayload);
}

TEST(ConfluentFramingTest, ReadsAnExplicitListOfZigzagVarints) {
  // count 1 (zigzag 2), index 2 (zigzag 4): TouchpointEvent's path.
  EXPECT_EQ(Parse("\x00\x00\x00\x00\x0c\x02\x04"s + kPayload),
            "schema 12, path [2], payload " + kPayload);
  // The path [0] written in full is the same path.
  EXPECT_EQ(Parse("\x00\x00\x00\x00\x0c\x02\x00"s + kPayload),
            "schema 12, path [0], payload " + kPayload);
  // Index 100 = zigzag 200 = varint c8 01.
  EXPECT_EQ(Parse("\x00\x00\x00\x00\x01\x02\xc8\x01"s), "schema 1, path [100], payload ");
  // The largest index, 2^31 - 1 = zigzag 0xfffffffe, in 5 bytes.
  EXPECT_EQ(Parse("\x00\x00\x00\x00\x01\x02\xfe\xff\xff\xff\x0f"s),
            "schema 1, path [2147483647], payload ");
}

TEST(ConfluentFramingTest, ReadsANestedPath) {
  // count 2, indexes 1 then 0: the first message nested in the file's second message.
  StatusOr<ConfluentFrame> frame = ParseConfluentFrame("\x00\x00\x00\x00\x07\x04\x02\x00"s);
  ASSERT_TRUE(frame.ok()) << frame.status().message();
  EXPECT_EQ(frame->message_indexes.size(), 2);
  EXPECT_EQ(frame->message_indexes.ToString(), "[1, 0]");
  EXPECT_FALSE(frame->message_indexes.IsTopLevel(1));
  EXPECT_TRUE(frame->payload.empty());
}

TEST(ConfluentFramingTest, SchemaIdIsBigEndian) {
  EXPECT_EQ(Parse("\x00\x01\x02\x03\x04\x00"s), "schema 16909060, path [0], payload ");
  EXPECT_EQ(Parse("\x00\x80\x00\x00\x00\x00"s), "error: schema id -2147483648 is negative");
}

TEST(ConfluentFramingTest, EveryTruncationIsAnError) {
  const std::string head = "\x00\x00\x00\x00\x01"s;  // magic byte, schema id 1
  EXPECT_EQ(Parse("\x00"s), "error: schema id is truncated");
  EXPECT_EQ(Parse(head.substr(0, 4)), "error: schema id is truncated");
  EXPECT_EQ(Parse(head), "error: message-index count is truncated");
  // A varint whose continuation bit promises a byte that is not there.
  EXPECT_EQ(Parse(head + "\x80"s), "error: message-index count is truncated");
  EXPECT_EQ(Parse(head + "\x02\x80"s), "error: message index is truncated");
  // count 3, then indexes 1 and 64 (80 01): the third is missing.
  EXPECT_EQ(Parse(head + "\x06\x02\x80\x01"s), "error: message index is truncated");
}

TEST(ConfluentFramingTest, VarintsBeyond32BitsAreErrors) {
  const std::string head = "\x00\x00\x00\x00\x01"s;
  EXPECT_EQ(Parse(head + "\x02\xff\xff\xff\xff\x10"s), "error: message index overflows 32 bits");
  EXPECT_EQ(Parse(head + "\x02\xff\xff\xff\xff\xff\x01"s),
            "error: message index overflows 32 bits");
  EXPECT_EQ(Parse(head + "\x80\x80\x80\x80\x80\x00"s),
            "error: message-index count overflows 32 bits");
}

TEST(ConfluentFramingTest, NegativeCountsAndIndexesAreErrors) {
  const std::string head = "\x00\x00\x00\x00\x01"s;
  EXPECT_EQ(Parse(head + "\x01"s), "error: message-index count -1 is negative");
  EXPECT_EQ(Parse(head + "\x02\x03"s), "error: message index -2 is negative");
}

TEST(ConfluentFramingTest, LongPathsKeepTheirSize) {
  std::string record = "\x00\x00\x00\x00\x01\x14"s;       // count 10
  for (int i = 0; i < 10; ++i) record.push_back('\x02');  // index 1
  record += kPayload;
  StatusOr<ConfluentFrame> frame = ParseConfluentFrame(record);  // payload points into record
  ASSERT_TRUE(frame.ok()) << frame.status().message();
  EXPECT_EQ(frame->message_indexes.size(), 10);
  EXPECT_EQ(frame->message_indexes.ToString(), "[1, 1, 1, 1, 1, 1, 1, 1, ...]");
  EXPECT_EQ(frame->payload, kPayload);
}

TEST(ConfluentFramingTest, PlainProtobufIsNotFramed) {
  const std::string plain =
      testing::Event("e1", "c1", testing::kT0, v1::EVENT_TYPE_PAGE_VIEW).SerializeAsString();
  EXPECT_FALSE(IsConfluentFramed(plain));
  EXPECT_FALSE(IsConfluentFramed(""));
  EXPECT_EQ(Parse(plain), "error: does not start with the magic byte 0x00");
  // Whatever field comes first, its tag is at least 8: never a 0x00 first byte.
  v1::TouchpointEvent only_attributes;
  (*only_attributes.mutable_attributes())["k"] = "v";
  EXPECT_FALSE(IsConfluentFramed(only_attributes.SerializeAsString()));
}

TEST(ConfluentFramingTest, PrefixIsWhatTheSerializerWrites) {
  const int32_t zero[] = {0};
  const int32_t two[] = {2};
  const int32_t nested[] = {1, 0};
  const int32_t large[] = {100};
  EXPECT_EQ(ConfluentFramingPrefix(12, zero), "\x00\x00\x00\x00\x0c\x00"s);
  EXPECT_EQ(ConfluentFramingPrefix(12, two), "\x00\x00\x00\x00\x0c\x02\x04"s);
  EXPECT_EQ(ConfluentFramingPrefix(16909060, nested), "\x00\x01\x02\x03\x04\x04\x02\x00"s);
  EXPECT_EQ(ConfluentFramingPrefix(1, large), "\x00\x00\x00\x00\x01\x02\xc8\x01"s);
}

}  // namespace
}  // namespace touchstream
