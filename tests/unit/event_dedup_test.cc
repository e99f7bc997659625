#include "processor/core/event_dedup.h"

#include <google/protobuf/io/coded_stream.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/core/sha256.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;

// The 64-bit hash a state written before recent_ids holds (recent_id_hashes, recent_events).
uint64_t LegacyHash(const char* id) { return Sha256Prefix64(id); }

TEST(EventDedupTest, RemembersWithinTheHorizonOnly) {
  CustomerState c;
  const DedupPolicy policy{kHourMs, 3};
  RememberEvent(c, EventIdHash("e1"), kT0, kT0, policy);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("e1")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("e2")));
  // The watermark moves past e1 + horizon: e1 is forgotten.
  RememberEvent(c, EventIdHash("e2"), kT0 + 2 * kHourMs, kT0 + 2 * kHourMs, policy);
  EXPECT_FALSE(SeenRecently(c, EventIdHash("e1")));
  EXPECT_TRUE(SeenRecently(c, EventIdHash("e2")));
}

// A late event (an upload from a store's till, older than the horizon) is remembered from when
// it was applied: its retry, moments later, is skipped.
TEST(EventDedupTest, ALateEventIsRememberedForAHorizonFromWhenItWasApplied) {
  CustomerState c;
  const DedupPolicy policy{kDayMs, 512};
  RememberEvent(c, EventIdHash("till-1"), kT0 - 2 * kDayMs, kT0, policy);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("till-1")));
  RememberEvent(c, EventIdHash("e2"), kT0 + kDayMs, kT0 + kDayMs, policy);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("till-1"))) << "forgotten before a horizon passed";
  RememberEvent(c, EventIdHash("e3"), kT0 + kDayMs + 1, kT0 + kDayMs + 1, policy);
  EXPECT_FALSE(SeenRecently(c, EventIdHash("till-1")));
}

TEST(EventDedupTest, KeepsAtMostMaxIds) {
  CustomerState c;
  const DedupPolicy policy{kDayMs, 2};
  for (const char* id : {"a", "b", "c"}) RememberEvent(c, EventIdHash(id), kT0, kT0, policy);
  EXPECT_EQ(RecentIdCount(c), 2);
  EXPECT_EQ(c.recent_times_ms_size(), 2);
  EXPECT_FALSE(SeenRecently(c, EventIdHash("a")));
  EXPECT_TRUE(SeenRecently(c, EventIdHash("c")));
}

// What dedup costs a state: an id is 6 bytes of hash (which no compression shrinks) and its
// time's varint, with one length-delimited field per list.
TEST(EventDedupTest, ARememberedIdTakesSixBytesAndItsTime) {
  CustomerState c;
  for (int i = 0; i < 10; ++i) {
    RememberEvent(c, EventIdHash("e" + std::to_string(i)), kT0 + i, kT0, DedupPolicy{kDayMs, 512});
  }
  const size_t time_bytes = 10 * google::protobuf::io::CodedOutputStream::VarintSize64(kT0);
  // Each list: its tag (recent_ids' field number takes two bytes), a length byte, its entries.
  EXPECT_EQ(c.ByteSizeLong(), (2 + 1 + 10 * 6) + (1 + 1 + time_bytes));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(SeenRecently(c, EventIdHash("e" + std::to_string(i))));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("e10")));
}

// The stored id is the digest's first six bytes, as the state's contract says.
TEST(EventDedupTest, TheStoredIdIsTheDigestsFirstSixBytes) {
  CustomerState c;
  RememberEvent(c, EventIdHash("a2"), kT0, kT0, DedupPolicy{kDayMs, 8});
  const Sha256Digest digest = Sha256("a2");
  EXPECT_EQ(c.recent_ids(), std::string(digest.begin(), digest.begin() + 6));
}

// A state written before recent_ids holds 64-bit hashes beside the times: they are seen, and the
// next event applied moves them over.
TEST(EventDedupTest, SixtyFourBitHashesOfAStateWrittenBeforeAreSeenAndMovedOver) {
  CustomerState c;
  for (const auto& [id, time_ms] : {std::pair{"a", kT0}, {"b", kT0 + 1}}) {
    c.add_recent_id_hashes(LegacyHash(id));
    c.add_recent_times_ms(time_ms);
  }
  EXPECT_TRUE(SeenRecently(c, EventIdHash("a")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("c")));
  RememberEvent(c, EventIdHash("c"), kT0 + 2, kT0 + 2, DedupPolicy{kDayMs, 8});
  EXPECT_EQ(c.recent_id_hashes_size(), 0);
  EXPECT_EQ(RecentIdCount(c), 3);
  for (const char* id : {"a", "b", "c"}) EXPECT_TRUE(SeenRecently(c, EventIdHash(id))) << id;
  EXPECT_EQ(std::vector<int64_t>(c.recent_times_ms().begin(), c.recent_times_ms().end()),
            (std::vector<int64_t>{kT0, kT0 + 1, kT0 + 2}));
}

// A rollback to a build that knows recent_id_hashes but not recent_ids: it cut the times it found
// without hashes and wrote its own ids beside new times, carrying recent_ids unread. Those are
// the ids whose times the state has; recent_ids' stale entries are dropped.
TEST(EventDedupTest, IdsWhoseTimesARollbackCutAreDropped) {
  CustomerState c;
  RememberEvent(c, EventIdHash("stale"), kT0, kT0, DedupPolicy{kDayMs, 8});
  c.clear_recent_times_ms();  // what the older build did, then it remembered "x"
  c.add_recent_id_hashes(LegacyHash("x"));
  c.add_recent_times_ms(kT0 + 1);
  // Not seen before the state is normalized either: a retry of it is applied again.
  EXPECT_TRUE(SeenRecently(c, EventIdHash("x")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("stale")));
  ASSERT_TRUE(NormalizeEventIds(c));
  EXPECT_EQ(RecentIdCount(c), 1);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("x")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("stale")));
  EXPECT_FALSE(NormalizeEventIds(c)) << "normalized already";

  // An older build that forgot every id it had (cut the times, remembered none): the same.
  c.Clear();
  RememberEvent(c, EventIdHash("stale"), kT0, kT0, DedupPolicy{kDayMs, 8});
  c.clear_recent_times_ms();
  EXPECT_FALSE(SeenRecently(c, EventIdHash("stale")));
}

// A state written before the packed lists holds its ids one message each: they are still seen,
// and the next event applied moves them over, oldest first, as the horizon and max_ids allow.
TEST(EventDedupTest, IdsOfAStateWrittenBeforeAreSeenAndMovedOver) {
  CustomerState c;
  for (const auto& [id, time_ms] : {std::pair{"a", kT0}, {"b", kT0 + 1}, {"c", kT0 + 2}}) {
    auto* recent = c.add_recent_events();
    recent->set_id_hash(LegacyHash(id));
    recent->set_time_ms(time_ms);
  }
  EXPECT_TRUE(SeenRecently(c, EventIdHash("b")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("d")));
  RememberEvent(c, EventIdHash("d"), kT0 + 3, kT0 + 3, DedupPolicy{kDayMs, 3});
  EXPECT_EQ(c.recent_events_size(), 0);
  EXPECT_FALSE(SeenRecently(c, EventIdHash("a"))) << "the oldest, past max_ids";
  for (const char* id : {"b", "c", "d"}) EXPECT_TRUE(SeenRecently(c, EventIdHash(id))) << id;
  EXPECT_EQ(std::vector<int64_t>(c.recent_times_ms().begin(), c.recent_times_ms().end()),
            (std::vector<int64_t>{kT0 + 1, kT0 + 2, kT0 + 3}));

  // A state both ways (an older build wrote ids after a newer one, which it carried unread):
  // moved over in time order.
  c.add_recent_events()->set_time_ms(kT0 + 4);
  c.mutable_recent_events(0)->set_id_hash(LegacyHash("e"));
  RememberEvent(c, EventIdHash("f"), kT0 + 5, kT0 + 5, DedupPolicy{kDayMs, 3});
  EXPECT_EQ(std::vector<int64_t>(c.recent_times_ms().begin(), c.recent_times_ms().end()),
            (std::vector<int64_t>{kT0 + 3, kT0 + 4, kT0 + 5}));
  EXPECT_TRUE(SeenRecently(c, EventIdHash("e")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("c")));
}

// A damaged state's lists of unequal length are cut to the shorter, not read past its end.
TEST(EventDedupTest, UnevenIdListsAreCutToTheShorter) {
  CustomerState c;
  for (const char* id : {"a", "b", "c"}) c.add_recent_id_hashes(LegacyHash(id));
  c.add_recent_times_ms(kT0);
  c.add_recent_times_ms(kT0 + 1);
  RememberEvent(c, EventIdHash("d"), kT0 + 2, kT0 + 2, DedupPolicy{kDayMs, 8});
  EXPECT_EQ(RecentIdCount(c), 3);
  EXPECT_EQ(c.recent_times_ms_size(), 3);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("b")));
  EXPECT_FALSE(SeenRecently(c, EventIdHash("c"))) << "its time was lost: dropped";
  EXPECT_TRUE(SeenRecently(c, EventIdHash("d")));

  // recent_ids with more ids than times: the ids past the times are not seen, then dropped.
  AppendRecentId(c, EventIdHash("e"), kT0 + 3);
  c.mutable_recent_times_ms()->RemoveLast();
  EXPECT_FALSE(SeenRecently(c, EventIdHash("e")));
  ASSERT_TRUE(NormalizeEventIds(c));
  EXPECT_EQ(RecentIdCount(c), 3);

  // recent_ids with a partial entry, and more times than ids.
  c.mutable_recent_ids()->append("xyz");
  c.add_recent_times_ms(kT0 + 3);
  c.add_recent_times_ms(kT0 + 4);
  ASSERT_TRUE(NormalizeEventIds(c));
  EXPECT_EQ(c.recent_ids().size(), 3u * 6);
  EXPECT_EQ(c.recent_times_ms_size(), 3);
  EXPECT_TRUE(SeenRecently(c, EventIdHash("d")));
}

TEST(EventDedupTest, PipelineSkipsARetriedEvent) {
  RuleSet rules;
  rules.push_back(std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{}));
  MemoryStore store;
  PartitionPipeline pipeline(rules, store, 0, DedupPolicy{kDayMs, 512});
  std::vector<v1::Trigger> out;
  auto add = WithItem(Event("e1", "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 100);
  ASSERT_TRUE(pipeline.Process(add, out).ok());
  // The retry at a new offset, with a later event time even, must not count twice.
  auto retry = add;
  *retry.mutable_event_time() = ToTimestamp(kT0 + 10 * kMinuteMs);
  ASSERT_TRUE(pipeline.Process(retry, out).ok());
  EXPECT_EQ(pipeline.duplicates(), 1u);
  EXPECT_EQ(store.customers().at("c1").cart().lines(0).quantity(), 1);
  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 2 * kHourMs, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Describe(out[0]), "CART_ABANDONED cart_1h c1 @+3600s") << "the retry did not re-arm";
}

// A purchase uploaded a day late, then retried: counted once.
TEST(EventDedupTest, PipelineSkipsTheRetryOfAnEventOlderThanTheHorizon) {
  RuleSet rules;
  MemoryStore store;
  PartitionPipeline pipeline(rules, store, 0, DedupPolicy{kDayMs, 512});
  std::vector<v1::Trigger> out;
  ASSERT_TRUE(
      pipeline.Process(Event("other", "c2", kT0 + 26 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW), out)
          .ok());
  auto purchase =
      Event("pos-77", "c1", kT0 + kHourMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE);
  purchase.set_amount_minor(5000);
  ASSERT_TRUE(pipeline.Process(purchase, out).ok());
  ASSERT_TRUE(pipeline.Process(purchase, out).ok());
  EXPECT_EQ(pipeline.duplicates(), 1u);
  EXPECT_EQ(store.customers().at("c1").lifetime_value_minor(), 5000);
}

// A state written before recent_ids (64-bit hashes, as a restore from an older changelog gives):
// a retry of an event it remembers is skipped, and the next new event moves its ids over.
TEST(EventDedupTest, PipelineReadsAStateWrittenBeforeAndMovesItsIdsOver) {
  RuleSet rules;
  rules.push_back(std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{}));
  MemoryStore store;
  CustomerState* written_before = store.Mutable("c1").value();
  written_before->set_customer_id("c1");
  written_before->set_first_seen_ms(kT0);
  written_before->add_recent_id_hashes(LegacyHash("e1"));
  written_before->add_recent_times_ms(kT0);
  PartitionPipeline pipeline(rules, store, 0, DedupPolicy{kDayMs, 512});
  std::vector<v1::Trigger> out;
  const auto retry =
      WithItem(Event("e1", "c1", kT0 + kMinuteMs, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 100);
  ASSERT_TRUE(pipeline.Process(retry, out).ok());
  EXPECT_EQ(pipeline.duplicates(), 1u);
  ASSERT_TRUE(
      pipeline
          .Process(WithItem(Event("e2", "c1", kT0 + 2 * kMinuteMs, v1::EVENT_TYPE_ADD_TO_CART),
                            "sku", 1, 100),
                   out)
          .ok());
  EXPECT_EQ(pipeline.duplicates(), 1u);
  const CustomerState& moved = store.customers().at("c1");
  EXPECT_EQ(moved.recent_id_hashes_size(), 0);
  EXPECT_EQ(RecentIdCount(moved), 2);
  ASSERT_TRUE(pipeline.Process(retry, out).ok());
  EXPECT_EQ(pipeline.duplicates(), 2u) << "still remembered after the move";
}

}  // namespace
}  // namespace touchstream
