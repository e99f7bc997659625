#include "processor/run/held_records.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace touchstream {
namespace {

// A record as a source lends it: views into the caller's buffers.
struct Lent {
  std::string topic;
  std::string key = "customer";  // 8 bytes
  std::string value;
  std::string header_value = "origin";
  InputHeader header{"h", header_value};
  InputRecord record;

  Lent(std::string topic_name, int32_t partition, int64_t offset, size_t value_bytes = 92)
      : topic(std::move(topic_name)), value(value_bytes, 'v') {
    record.topic = topic;
    record.partition = partition;
    record.offset = offset;
    record.key = key;
    record.value = value;
    record.create_time_ms = 1000 + offset;
  }
};

// "touchpoints" (11) + key (8) + value (92): the bound's count of one record.
constexpr size_t kRecordBytes = 11 + 8 + 92 + HeldRecords::kRecordOverheadBytes;

TEST(HeldRecordsTest, KeepsCopiesOfEachSourcesRecordsInOrderUntilTaken) {
  HeldRecords held(1 << 20);
  const HeldRecords::Source input{"touchpoints", 3}, other{"touchpoints", 4},
      forwarded{"repartition", 3};
  EXPECT_FALSE(held.Keeping(input));
  for (int64_t offset : {10, 11, 12}) {
    Lent lent("touchpoints", 3, offset);
    ASSERT_TRUE(held.Keep(input, lent.record));
    lent.value.assign(lent.value.size(), 'x');  // the source reuses its buffer: the copy stays
  }
  {
    Lent lent("repartition", 3, 7);
    lent.record.headers = std::span<const InputHeader>(&lent.header, 1);
    ASSERT_TRUE(held.Keep(forwarded, lent.record));
  }
  EXPECT_TRUE(held.Keeping(input));
  EXPECT_TRUE(held.Keeping(forwarded));
  EXPECT_FALSE(held.Keeping(other));
  EXPECT_EQ(held.size(), 4u);
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes + (11 + 8 + 92 + 1 + 6 + 256));

  std::deque<HeldRecords::Record> taken = held.Take(input);
  ASSERT_EQ(taken.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const InputRecord& r = taken[i]->record();
    EXPECT_EQ(r.topic, "touchpoints");
    EXPECT_EQ(r.partition, 3);
    EXPECT_EQ(r.offset, 10 + i);
    EXPECT_EQ(r.key, "customer");
    EXPECT_EQ(r.value, std::string(92, 'v'));
    EXPECT_EQ(r.create_time_ms, 1010 + i);
    EXPECT_TRUE(r.headers.empty());
  }
  EXPECT_FALSE(held.Keeping(input));
  EXPECT_TRUE(held.Take(input).empty());
  EXPECT_EQ(held.size(), 1u);

  std::deque<HeldRecords::Record> forwarded_taken = held.Take(forwarded);
  ASSERT_EQ(forwarded_taken.size(), 1u);
  ASSERT_EQ(forwarded_taken[0]->record().headers.size(), 1u);
  EXPECT_EQ(forwarded_taken[0]->record().headers[0].key, "h");
  EXPECT_EQ(forwarded_taken[0]->record().headers[0].value, "origin");
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.bytes(), 0u);
}

TEST(HeldRecordsTest, ARecordWithoutAKeyStaysWithoutOne) {
  HeldRecords held(1 << 20);
  Lent lent("touchpoints", 0, 5);
  lent.record.key.reset();
  ASSERT_TRUE(held.Keep({"touchpoints", 0}, lent.record));
  EXPECT_FALSE(held.Take({"touchpoints", 0})[0]->record().key.has_value());
}

// A null value (a tombstone) stays null, not empty: its dead letter's value is null.
TEST(HeldRecordsTest, ARecordWithANullValueStaysNull) {
  HeldRecords held(1 << 20);
  Lent lent("touchpoints", 0, 5);
  lent.record.value = std::string_view();
  ASSERT_TRUE(held.Keep({"touchpoints", 0}, lent.record));
  Lent empty("touchpoints", 0, 6);
  empty.record.value = std::string_view("", 0);
  ASSERT_TRUE(held.Keep({"touchpoints", 0}, empty.record));
  const auto taken = held.Take({"touchpoints", 0});
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0]->record().value.data(), nullptr);
  EXPECT_NE(taken[1]->record().value.data(), nullptr);
}

TEST(HeldRecordsTest, ASourceThatWouldPassTheBoundKeepsWhatItKeptAndRefusesTheRest) {
  // Room for three records over all sources.
  HeldRecords held(3 * kRecordBytes);
  const HeldRecords::Source a{"touchpoints", 0}, b{"touchpoints", 1}, c{"touchpoints", 2};
  ASSERT_TRUE(held.Keep(a, Lent("touchpoints", 0, 1).record));
  ASSERT_TRUE(held.Keep(b, Lent("touchpoints", 1, 1).record));
  ASSERT_TRUE(held.Keep(a, Lent("touchpoints", 0, 2).record));
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes);
  EXPECT_EQ(held.RefusedFrom(a), std::nullopt);

  // a's third record would pass the bound: a keeps its two and is read again from the third.
  EXPECT_FALSE(held.Keep(a, Lent("touchpoints", 0, 3).record));
  EXPECT_TRUE(held.Keeping(a));
  EXPECT_EQ(held.RefusedFrom(a), 3);
  EXPECT_EQ(held.size(), 3u);
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes);
  // A source whose first record does not fit keeps nothing: it falls back to the task's offset.
  EXPECT_FALSE(held.Keep(c, Lent("touchpoints", 2, 7).record));
  EXPECT_FALSE(held.Keeping(c));
  EXPECT_EQ(held.RefusedFrom(c), std::nullopt);

  // Taking a's records gives their room back; once a refused one, it refuses every later one,
  // even one that would fit (it is read again from the first refused).
  std::deque<HeldRecords::Record> taken_b = held.Take(b);
  ASSERT_EQ(taken_b.size(), 1u);
  EXPECT_FALSE(held.Keep(a, Lent("touchpoints", 0, 4).record));
  EXPECT_EQ(held.RefusedFrom(a), 3);
  std::deque<HeldRecords::Record> taken_a = held.Take(a);
  ASSERT_EQ(taken_a.size(), 2u);
  EXPECT_EQ(taken_a[0]->record().offset, 1);
  EXPECT_EQ(taken_a[1]->record().offset, 2);
  EXPECT_FALSE(held.Keeping(a));
  EXPECT_EQ(held.RefusedFrom(a), std::nullopt);  // taken: it keeps afresh
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.bytes(), 0u);
  EXPECT_TRUE(held.Keep(a, Lent("touchpoints", 0, 3).record));
  held.Clear();
  EXPECT_TRUE(held.empty());
  EXPECT_EQ(held.bytes(), 0u);
}

TEST(HeldRecordsTest, ARecordKeptAgainIsMovedBackInOrLeftToTheCallerIfRefused) {
  HeldRecords held(2 * kRecordBytes);
  const HeldRecords::Source a{"touchpoints", 0};
  ASSERT_TRUE(held.Keep(a, Lent("touchpoints", 0, 1).record));
  std::deque<HeldRecords::Record> taken = held.Take(a);
  const KeptRecord* object = taken[0].get();
  ASSERT_TRUE(held.Keep(a, taken[0]));  // held again: moved back, not copied
  EXPECT_EQ(taken[0], nullptr);
  ASSERT_TRUE(held.Keep(a, Lent("touchpoints", 0, 2).record));
  {
    std::deque<HeldRecords::Record> again = held.Take(a);
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].get(), object);
    ASSERT_TRUE(held.Keep(a, again[0]));
    ASSERT_TRUE(held.Keep(a, again[1]));
  }
  HeldRecords::Record extra = std::make_unique<KeptRecord>(Lent("touchpoints", 0, 3).record);
  EXPECT_FALSE(held.Keep(a, extra));  // past the bound
  ASSERT_NE(extra, nullptr);          // still the caller's, whole
  EXPECT_EQ(extra->record().offset, 3);
  EXPECT_EQ(extra->record().value, std::string(92, 'v'));
  EXPECT_EQ(held.RefusedFrom(a), 3);
  EXPECT_EQ(held.bytes(), 2 * kRecordBytes);
}

TEST(HeldRecordsTest, KeepBehindKeepsOnlyBehindRecordsKeptAlready) {
  HeldRecords held(3 * kRecordBytes);
  const HeldRecords::Source a{"touchpoints", 0}, b{"touchpoints", 1};
  // A source that keeps nothing is left so: the record is the caller's to apply.
  EXPECT_EQ(held.KeepBehind(a, Lent("touchpoints", 0, 1).record), HeldRecords::Behind::kNotKeeping);
  EXPECT_TRUE(held.empty());
  ASSERT_TRUE(held.Keep(a, Lent("touchpoints", 0, 1).record));
  EXPECT_EQ(held.KeepBehind(b, Lent("touchpoints", 1, 1).record), HeldRecords::Behind::kNotKeeping);
  EXPECT_EQ(held.KeepBehind(a, Lent("touchpoints", 0, 2).record), HeldRecords::Behind::kKept);

  // A record taken and delivered again is moved back in behind the others.
  std::deque<HeldRecords::Record> taken = held.Take(a);
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(held.KeepBehind(a, taken[0]), HeldRecords::Behind::kNotKeeping);
  ASSERT_NE(taken[0], nullptr);  // not kept: still the caller's
  ASSERT_TRUE(held.Keep(a, taken[0]));
  EXPECT_EQ(held.KeepBehind(a, taken[1]), HeldRecords::Behind::kKept);
  EXPECT_EQ(taken[1], nullptr);
  EXPECT_EQ(held.KeepBehind(a, Lent("touchpoints", 0, 3).record), HeldRecords::Behind::kKept);

  // Past the bound: refused, the records kept stay, and every later one is refused too.
  EXPECT_EQ(held.KeepBehind(a, Lent("touchpoints", 0, 4).record), HeldRecords::Behind::kRefused);
  EXPECT_TRUE(held.Keeping(a));
  EXPECT_EQ(held.RefusedFrom(a), 4);
  EXPECT_EQ(held.KeepBehind(a, Lent("touchpoints", 0, 5, 0).record), HeldRecords::Behind::kRefused);
  EXPECT_EQ(held.size(), 3u);
  EXPECT_EQ(held.bytes(), 3 * kRecordBytes);
}

TEST(HeldRecordsTest, ABoundOfZeroKeepsNothing) {
  HeldRecords held(0);
  EXPECT_FALSE(held.Keep({"touchpoints", 0}, Lent("touchpoints", 0, 1, 0).record));
  EXPECT_FALSE(held.Keeping({"touchpoints", 0}));
  EXPECT_TRUE(held.empty());
}

}  // namespace
}  // namespace touchstream
