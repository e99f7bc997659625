// The repartition stage, in process through the test driver: a record read in a partition that
// does not own its customer is forwarded to the owner and applied there once, whatever
// partition each of a customer's events arrived in; an idle partition follows the wall clock
// only once its repartition source is caught up; the checkpoint remembers the input's partition
// count.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "processor/core/forwarded_record.h"
#include "processor/core/memory_store.h"
#include "processor/core/partition_task.h"
#include "processor/kafka/murmur2_ownership.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/driver_test.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

RuleSet CartRules() {
  RuleSet rules;
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_30m", CartAbandonmentParams{30 * kMinuteMs, 0}));
  return rules;
}

v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
}

v1::TouchpointEvent Buy(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_PURCHASE), "sku", 1, 1000);
}

std::string Header(const v1::state::OutboxRecord& r, const std::string& key) {
  for (const auto& h : r.headers()) {
    if (h.key() == key) return h.value();
  }
  return "";
}

// A customer id that partition `owner` of `n` owns.
std::string CustomerOwnedBy(int32_t owner, int32_t n, const std::string& prefix) {
  const Murmur2Ownership ownership(n);
  for (int i = 0;; ++i) {
    std::string id = prefix + std::to_string(i);
    if (ownership.OwnerOf(id) == owner) return id;
  }
}

TEST(Murmur2OwnershipTest, MatchesTheJavaClientsDefaultPartitioner) {
  // Kafka's Java client: Utils.toPositive(Utils.murmur2(key)) % n. Values from its test suite
  // (murmur2 of "21" is -973932308, of "foobar" -790332482).
  const Murmur2Ownership ownership(100);
  EXPECT_EQ(ownership.OwnerOf("21"), (-973932308 & 0x7fffffff) % 100);
  EXPECT_EQ(ownership.OwnerOf("foobar"), (-790332482 & 0x7fffffff) % 100);
}

class RepartitionTest : public testing::DriverTest {
 protected:
  void Start(int partitions, bool hold = false, bool keep_delivered = true) {
    testing::DriverOptions options;
    options.partitions = partitions;
    options.hold_repartition = hold;
    options.keep_delivered = keep_delivered;
    DriverTest::Start(CartRules(), options);
  }
};

TEST_F(RepartitionTest, ARecordInTheWrongPartitionIsForwardedToItsOwnerAndAppliedThere) {
  Start(4);
  const std::string amy = CustomerOwnedBy(2, 4, "amy");
  const v1::TouchpointEvent add = Add("e1", amy, kT0);
  driver_->Pipe(add, 0);
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();

  const auto forwarded = driver_->Delivered(driver_->config().repartition.name);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].partition(), 2);
  EXPECT_EQ(forwarded[0].key(), amy);
  EXPECT_EQ(forwarded[0].value(), add.SerializeAsString());  // unchanged
  EXPECT_EQ(Header(forwarded[0], "touchstream.source.topic"), "touchpoints");
  EXPECT_EQ(Header(forwarded[0], "touchstream.source.partition"), "0");
  EXPECT_EQ(Header(forwarded[0], "touchstream.source.offset"), "0");

  EXPECT_FALSE(driver_->ReadState(amy, 0).has_value());
  ASSERT_TRUE(driver_->ReadState(amy, 2).has_value());
  // Both hops are in the checkpoints: partition 0 read its input offset, partition 2 the
  // forwarded record (repartition offset and origin offset).
  EXPECT_EQ(driver_->ReadCheckpoint(0)->next_offset(), 1);
  const auto owner = driver_->ReadCheckpoint(2);
  EXPECT_EQ(owner->source_next_offsets().at(driver_->config().repartition.name), 1);
  EXPECT_EQ(owner->forwarded_next_offsets().at("touchpoints/0"), 1);
  EXPECT_EQ(owner->input_partitions(), 4);
  // A record already in its owner is applied where it is, not forwarded.
  driver_->Pipe(Add("e2", amy, kT0 + 1), 2);
  EXPECT_EQ(driver_->Delivered(driver_->config().repartition.name).size(), 1u);
}

TEST_F(RepartitionTest, WhateverPartitionEventsArriveInTheOutcomeIsTheOwners) {
  // The same events in the same order into four partitions: once each into its customer's
  // partition (the oracle: a murmur2 producer), once each into a random one (any other
  // producer). The same triggers and the same state per customer.
  std::vector<v1::TouchpointEvent> events;
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    const std::string customer = "c" + std::to_string(rng() % 20);
    const TimeMs t = kT0 + i * kMinuteMs;
    const std::string id = "e" + std::to_string(i);
    events.push_back(rng() % 3 == 0 ? Buy(id, customer, t) : Add(id, customer, t));
  }
  auto run = [&](bool to_owner, bool keep_delivered = true) {
    Start(4, /*hold=*/false, keep_delivered);
    std::mt19937 pick(11);
    std::vector<std::string> fired;
    for (const auto& e : events) {
      const int32_t partition =
          to_owner ? driver_->OwnerOf(e.customer_id()) : static_cast<int32_t>(pick() % 4);
      for (const auto& t : driver_->Pipe(e, partition)) {
        fired.push_back(testing::Describe(t) + " cause=" + t.cause_event_id());
      }
    }
    for (const auto& t : driver_->AdvanceEventTime(kT0 + 400 * kMinuteMs)) {
      fired.push_back(testing::Describe(t) + " cause=" + t.cause_event_id());
    }
    EXPECT_TRUE(driver_->status().ok()) << driver_->status().message();
    std::sort(fired.begin(), fired.end());
    std::map<std::string, std::string> states;
    for (int i = 0; i < 20; ++i) {
      const std::string customer = "c" + std::to_string(i);
      auto state = driver_->ReadState(customer, driver_->OwnerOf(customer));
      if (state) states[customer] = state->SerializeAsString();
    }
    return std::make_pair(fired, states);
  };
  const auto oracle = run(true);
  EXPECT_TRUE(driver_->Delivered(driver_->config().repartition.name).empty());
  const auto repartitioned = run(false);
  EXPECT_GT(driver_->Delivered(driver_->config().repartition.name).size(), 100u);
  ASSERT_GT(oracle.first.size(), 20u);
  EXPECT_EQ(repartitioned.first, oracle.first);
  EXPECT_EQ(repartitioned.second, oracle.second);
  // A driver that drops delivered records once read (as benchmarks run it) still forwards them.
  const auto dropped = run(false, /*keep_delivered=*/false);
  EXPECT_TRUE(driver_->Delivered(driver_->config().repartition.name).empty());
  EXPECT_EQ(dropped.first, oracle.first);
  EXPECT_EQ(dropped.second, oracle.second);
}

TEST_F(RepartitionTest, AnIdlePartitionWaitsForItsRepartitionSourceBeforeFollowingTheWallClock) {
  // Hybrid clock: amy's cart is in partition 0, her owner; her purchase was read in partition 1
  // and forwarded, but partition 0 has not read it from the repartition topic yet. Partition 0's
  // input is caught up and the wall clock passes the cart's delay: the cart must not fire before
  // the purchase is applied.
  testing::DriverOptions options;
  options.partitions = 2;
  options.hold_repartition = true;
  options.clock = ClockMode::kHybrid;
  options.wall_ms = kT0;
  DriverTest::Start(CartRules(), options);
  const std::string amy = CustomerOwnedBy(0, 2, "amy");
  EXPECT_EQ(testing::Describe(driver_->Pipe(Add("e1", amy, kT0), 0)), V{});
  driver_->Pipe(Buy("e2", amy, kT0 + kMinuteMs), 1);
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(2 * kHourMs)), V{});
  EXPECT_LT(driver_->task(0)->watermark_ms(), kT0 + 30 * kMinuteMs);
  // The purchase arrives and the repartition topic is caught up: the cart is paid, nothing fires.
  EXPECT_EQ(testing::Describe(driver_->DeliverRepartitioned(0)), V{});
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(kHourMs)), V{});
  EXPECT_GT(driver_->task(0)->watermark_ms(), kT0 + kHourMs);
  // A cart nobody pays for still fires by the wall clock once both sources are caught up.
  const std::string bob = CustomerOwnedBy(0, 2, "bob");
  driver_->Pipe(Add("e3", bob, kT0 + 3 * kHourMs), 0);
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(kHourMs)),
            V{"CART_ABANDONED cart_30m " + bob + " @+12600s"});
}

TEST_F(RepartitionTest, InputWaitsForTheRepartitionSourceSoAForwardedPurchaseStillPaysTheCart) {
  // Event-time clock: amy's cart is in partition 0, her owner; her purchase a minute later was
  // read in partition 1 and forwarded, and waits in the repartition topic. Partition 0's own input
  // goes on (bob's events, up to 80 minutes later): applied now, they would move the event time
  // past amy's cart (30 minutes) before the purchase that pays for it is applied.
  Start(2, /*hold=*/true);
  const std::string amy = CustomerOwnedBy(0, 2, "amy");
  const std::string bob = CustomerOwnedBy(0, 2, "bob");
  EXPECT_EQ(testing::Describe(driver_->Pipe(Add("e1", amy, kT0), 0)), V{});
  driver_->Pipe(Buy("e2", amy, kT0 + kMinuteMs), 1);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(testing::Describe(
                  driver_->Pipe(Add("b" + std::to_string(i), bob, kT0 + i * 20 * kMinuteMs), 0)),
              V{})
        << "event " << i;
  }
  EXPECT_EQ(driver_->task(0)->watermark_ms(), kT0);
  EXPECT_FALSE(driver_->ReadState(bob, 0).has_value()) << "bob's events wait";
  // The purchase arrives, the repartition topic is caught up: the cart is paid, and bob's events
  // are applied, in order (his cart fires 30 minutes after his last add, at +110 minutes).
  EXPECT_EQ(testing::Describe(driver_->DeliverRepartitioned(0)), V{});
  EXPECT_EQ(driver_->task(0)->watermark_ms(), kT0 + 80 * kMinuteMs);
  EXPECT_EQ(testing::Describe(driver_->AdvanceEventTime(kT0 + 3 * kHourMs)),
            V{"CART_ABANDONED cart_30m " + bob + " @+6600s"});
  EXPECT_EQ(driver_->task(0)->repartition_wait_timeouts(), 0u);
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
}

TEST_F(RepartitionTest, TheWaitEndsWhenAForwardedEventReachesTheWaitingEventsTime) {
  // The repartition source stays behind (more is on its way), but a forwarded event as late as
  // the waiting one has been applied: what could come before it has come.
  Start(2, /*hold=*/true);
  const std::string amy = CustomerOwnedBy(0, 2, "amy");
  const std::string bob = CustomerOwnedBy(0, 2, "bob");
  driver_->Pipe(Add("e1", amy, kT0), 0);
  driver_->Pipe(Buy("e2", amy, kT0 + kMinuteMs), 1);
  driver_->Pipe(Add("b1", bob, kT0 + 30'000), 0);
  EXPECT_FALSE(driver_->ReadState(bob, 0).has_value()) << "bob's add waits";
  EXPECT_EQ(testing::Describe(driver_->DeliverRepartitioned(0, /*caught_up=*/false)), V{});
  EXPECT_TRUE(driver_->ReadState(bob, 0).has_value());
  EXPECT_EQ(driver_->task(0)->repartition_wait_timeouts(), 0u);
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
}

TEST_F(RepartitionTest, TheWaitForTheRepartitionSourceEndsAfterMaxRepartitionWait) {
  // As above, but the purchase never arrives within processing.max_repartition_wait (10 s of
  // the steady clock): bob's event is applied then, and amy's cart fires unpaid.
  testing::DriverOptions options;
  options.partitions = 2;
  options.hold_repartition = true;
  options.max_repartition_wait_ms = 10'000;
  DriverTest::Start(CartRules(), options);
  const std::string amy = CustomerOwnedBy(0, 2, "amy");
  const std::string bob = CustomerOwnedBy(0, 2, "bob");
  driver_->Pipe(Add("e1", amy, kT0), 0);
  driver_->Pipe(Buy("e2", amy, kT0 + kMinuteMs), 1);
  EXPECT_EQ(testing::Describe(driver_->Pipe(Add("b1", bob, kT0 + 40 * kMinuteMs), 0)), V{});
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(9'000)), V{}) << "still waiting";
  EXPECT_EQ(driver_->task(0)->watermark_ms(), kT0);
  EXPECT_EQ(testing::Describe(driver_->AdvanceWallClock(1'000)),
            V{"CART_ABANDONED cart_30m " + amy + " @+1800s"});
  EXPECT_EQ(driver_->task(0)->repartition_wait_timeouts(), 1u);
  // Caught up again, the next wait starts afresh.
  EXPECT_EQ(testing::Describe(driver_->DeliverRepartitioned(0)), V{});
  ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
}

// A fixed owner, for the task-level tests below.
class FixedOwnership final : public PartitionOwnership {
 public:
  int32_t partitions() const override { return 2; }
  int32_t OwnerOf(std::string_view) const override { return 0; }
};

// One partition task with the repartition stage on, in memory: forwarded records go straight
// to it.
struct OwnerTask {
  RuleSet rules = CartRules();
  MemoryStore store;
  FixedOwnership ownership;
  TaskSettings settings = [this] {
    TaskSettings s;
    s.ownership = &ownership;
    return s;
  }();
  PartitionTask task{settings, rules, store};
};

TEST(PartitionTaskRepartitionTest, AForwardedRecordSentAgainIsAppliedOnce) {
  OwnerTask owner;
  const TaskSettings& settings = owner.settings;
  PartitionTask& task = owner.task;
  MemoryStore& store = owner.store;
  const std::string value = Add("e1", "amy", kT0).SerializeAsString();
  const InputHeader origin[] = {{"touchstream.source.topic", "touchpoints"},
                                {"touchstream.source.partition", "1"},
                                {"touchstream.source.offset", "41"}};
  InputRecord record;
  record.topic = settings.repartition_topic;
  record.key = "amy";
  record.value = value;
  record.headers = origin;
  record.create_time_ms = kT0;
  TaskOutput out;
  record.offset = 0;
  auto first = task.Process(record, TaskTime{}, out);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->kind, RecordOutcome::Kind::kApplied);
  // The outbox sent it again after a crash: a later repartition offset, the same origin.
  record.offset = 1;
  auto again = task.Process(record, TaskTime{}, out);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, RecordOutcome::Kind::kAlreadyApplied);
  EXPECT_EQ(task.checkpoint().source_next_offsets().at(settings.repartition_topic), 2);
  EXPECT_EQ(task.checkpoint().forwarded_next_offsets().at("touchpoints/1"), 42);
  const CustomerState& amy = store.customers().at("amy");
  ASSERT_EQ(amy.cart().lines_size(), 1);
  EXPECT_EQ(amy.cart().lines(0).quantity(), 1);  // added once
}

// The owner judges "in the future" by the input record's CreateTime, which the forwarded record
// names in a header, not by the forwarded record's own (its forwarder's produce time).
TEST(PartitionTaskRepartitionTest, AForwardedEventIsValidatedAgainstItsInputRecordsCreateTime) {
  OwnerTask owner;
  const std::string value = Add("e1", "amy", kT0).SerializeAsString();
  const std::string an_hour_before = std::to_string(kT0 - kHourMs);
  const InputHeader origin[] = {{"touchstream.source.topic", "touchpoints"},
                                {"touchstream.source.partition", "1"},
                                {"touchstream.source.offset", "41"},
                                {"touchstream.source.create_time", an_hour_before}};
  InputRecord record;
  record.topic = owner.settings.repartition_topic;
  record.key = "amy";
  record.value = value;
  record.headers = origin;
  record.create_time_ms = kT0 + kDayMs;  // forwarded a day later
  TaskOutput out;
  auto outcome = owner.task.Process(record, TaskTime{}, out);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->kind, RecordOutcome::Kind::kDeadLettered)
      << "an event an hour ahead of its input record's CreateTime";
  ASSERT_EQ(out.dead_letters.size(), 1u);
}

// Which CreateTime a forwarded record is judged by, whichever version wrote it; and what an
// earlier version left in the outbox is resent as this one writes it.
TEST(PartitionTaskRepartitionTest, ForwardedRecordsOfEitherFormatNameTheirInputsCreateTime) {
  InputRecord input;
  input.topic = "touchpoints";
  input.value = "v";
  input.create_time_ms = 99;
  v1::state::OutboxRecord now = MakeForwarded("r", 5, "amy", input);
  input.create_time_ms.reset();
  const v1::state::OutboxRecord without = MakeForwarded("r", 5, "amy", input);
  // An earlier version's: the input's CreateTime as the record's timestamp, no header.
  v1::state::OutboxRecord earlier = now;
  earlier.mutable_headers()->RemoveLast();
  earlier.set_timestamp_ms(99);

  const auto judged = [](const v1::state::OutboxRecord& f, std::optional<TimeMs> own) {
    std::vector<InputHeader> headers;
    for (const auto& h : f.headers()) headers.push_back({h.key(), h.value()});
    InputRecord record;
    record.create_time_ms = own;  // the forwarded record's own: its producer's clock
    return InputCreateTime(record, ParseOrigin(headers));
  };
  const TimeMs forwarder_clock = 5'000'000;
  EXPECT_EQ(judged(now, forwarder_clock), 99);
  EXPECT_EQ(judged(without, forwarder_clock), std::nullopt) << "the input had none";
  EXPECT_EQ(judged(earlier, earlier.timestamp_ms()), 99);

  v1::state::OutboxRecord resent = earlier;
  MoveCreateTimeToHeader(resent);
  EXPECT_FALSE(resent.has_timestamp_ms());
  EXPECT_EQ(resent.SerializeAsString(), now.SerializeAsString());
  MoveCreateTimeToHeader(now);
  EXPECT_EQ(now.SerializeAsString(), resent.SerializeAsString()) << "already as written now";
  v1::state::OutboxRecord trigger;
  trigger.set_topic("triggers");
  trigger.set_timestamp_ms(7);
  MoveCreateTimeToHeader(trigger);
  EXPECT_EQ(trigger.timestamp_ms(), 7) << "not a forwarded record";
}

TEST(PartitionTaskRepartitionTest, ForwardedHeadersRoundTrip) {
  InputRecord record;
  record.topic = "touchpoints";
  record.partition = 3;
  record.offset = 1234567890123;
  record.value = "v";
  record.create_time_ms = 99;
  const v1::state::OutboxRecord f = MakeForwarded("r", 5, "amy", record);
  // The CreateTime travels in a header: an old one as the record's timestamp would be refused
  // for good by a broker that bounds timestamps.
  EXPECT_FALSE(f.has_timestamp_ms());
  std::vector<InputHeader> headers;
  for (const auto& h : f.headers()) headers.push_back({h.key(), h.value()});
  auto origin = ParseOrigin(headers);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(origin->topic, "touchpoints");
  EXPECT_EQ(origin->partition, 3);
  EXPECT_EQ(origin->offset, 1234567890123);
  EXPECT_EQ(origin->create_time_ms, 99);
  headers.pop_back();  // the CreateTime: absent in what earlier versions wrote
  origin = ParseOrigin(headers);
  ASSERT_TRUE(origin.has_value());
  EXPECT_FALSE(origin->create_time_header);
  headers.pop_back();
  EXPECT_FALSE(ParseOrigin(headers).has_value());
  headers.push_back({"touchstream.source.offset", "-1"});
  EXPECT_FALSE(ParseOrigin(headers).has_value());
}

}  // namespace
}  // namespace touchstream
