// Erasure (core/erasure_memory.h, README "Privacy"), through the in-process test driver on
// RocksDB: an ERASURE_REQUEST erases the customer's state, timers and the triggers of the same
// commit, writes a real changelog tombstone and an ERASED audit record that names the customer
// only by their keyed hash; the erasure memory drops the customer's late events, then forgets.
#include <gtest/gtest.h>

#include "audit.pb.h"
#include "processor/core/erasure_memory.h"
#include "processor/policy/policy_stage.h"
#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;

constexpr char kHashKey[] = "0123456789abcdef-test-key";

std::string Config(bool with_key) {
  std::string yaml = R"(
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h}
  store_visit_bonus:
    kind: reward_window
    opener: {event_type: STORE_VISIT}
    duration: 48h
    points_per_unit: 10
channels:
  messageable: [CHANNEL_EMAIL]
  opt_in_required: []
  preference: [CHANNEL_EMAIL]
)";
  if (with_key) {
    yaml += "privacy: {hash_key: \"" + std::string(kHashKey) + "\", erasure_memory: 2d}\n";
  }
  return yaml;
}

v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
}
v1::TouchpointEvent Visit(const std::string& id, const std::string& customer, TimeMs t) {
  return Event(id, customer, t, v1::EVENT_TYPE_STORE_VISIT, v1::CHANNEL_IN_STORE);
}
v1::TouchpointEvent Erasure(const std::string& id, const std::string& customer, TimeMs t) {
  return Event(id, customer, t, v1::EVENT_TYPE_ERASURE_REQUEST);
}

std::vector<v1::AuditRecord> Audits(const testing::TestDriver& driver) {
  std::vector<v1::AuditRecord> out;
  for (const auto& record : driver.Delivered(driver.config().audit.name)) {
    v1::AuditRecord audit;
    EXPECT_TRUE(audit.ParseFromString(record.value()));
    out.push_back(audit);
  }
  return out;
}

bool Mentions(const v1::state::OutboxRecord& record, const std::string& id) {
  return record.key().find(id) != std::string::npos || record.value().find(id) != std::string::npos;
}

TEST(ErasureTest, CustomerHashIsHmacSha256InHex) {
  // RFC 4231, test case 2.
  EXPECT_EQ(CustomerHash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(IsErasureMemoryKey(ErasureMemoryKey(CustomerHash(kHashKey, "amy"))));
  EXPECT_FALSE(IsErasureMemoryKey("amy"));
}

TEST(ErasureTest, ARequestErasesStateTimersAndTheTriggersOfTheSameCommit) {
  auto driver = testing::TestDriver::FromYaml(Config(true));
  // One batch: a cart (its timer pending), a store visit (an event-caused trigger, in the
  // commit being built, not yet in the outbox), then the erasure. Bob is not erased.
  const auto delivered =
      driver->PipeBatch({Add("a1", "amy", kT0), Visit("a2", "amy", kT0 + 1),
                         Visit("b1", "bob", kT0 + 2), Erasure("a3", "amy", kT0 + 3)});
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  EXPECT_EQ(Describe(delivered),
            std::vector<std::string>{"REWARD_WINDOW_OPENED store_visit_bonus bob @+0s"});
  EXPECT_FALSE(driver->ReadState("amy").has_value());
  // The cart's timer was cancelled: nothing fires for amy, ever.
  driver->AdvanceEventTime(kT0 + 3 * kDayMs);
  for (const auto& t : driver->Delivered(driver->config().triggers.name)) {
    EXPECT_FALSE(Mentions(t, "amy")) << "delivered a trigger of the erased customer";
  }

  // The changelog's last record of amy is a real tombstone (a null value).
  const v1::state::OutboxRecord* last = nullptr;
  for (const auto& r : driver->ChangelogRecords()) {
    if (r.key() == "amy") last = &r;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_TRUE(last->null_value());
  EXPECT_TRUE(last->value().empty());

  // One ERASED audit: the request's id and the keyed hash, never the id, keyed by the hash.
  const auto audit_records = driver->Delivered(driver->config().audit.name);
  ASSERT_EQ(audit_records.size(), 1u);
  EXPECT_FALSE(Mentions(audit_records[0], "amy"));
  const std::vector<v1::AuditRecord> audits = Audits(*driver);
  EXPECT_EQ(audits[0].decision(), v1::AUDIT_DECISION_ERASED);
  EXPECT_EQ(audits[0].reason(), "erased");
  EXPECT_EQ(audits[0].event_id(), "a3");
  EXPECT_EQ(audits[0].customer_hash(), CustomerHash(kHashKey, "amy"));
  EXPECT_EQ(audit_records[0].key(), audits[0].customer_hash());
  EXPECT_FALSE(audits[0].has_trigger());
}

TEST(ErasureTest, TheMemoryDropsLateEventsThenAFreshCustomerThenForgets) {
  auto driver = testing::TestDriver::FromYaml(Config(true));
  driver->Pipe(Add("a1", "amy", kT0));
  driver->Pipe(Erasure("a2", "amy", kT0 + kHourMs));
  const auto& dropped = driver->metrics().events_dropped_erased();

  // A retry or a late upload dated before the erasure: dropped, not dead-lettered, no state.
  EXPECT_TRUE(driver->Pipe(Visit("a0", "amy", kT0 + 10)).empty());
  EXPECT_EQ(dropped.Value(), 1);
  EXPECT_TRUE(driver->DeadLetters().empty());
  EXPECT_FALSE(driver->ReadState("amy").has_value());

  // Dated after the erasure: a fresh customer, who keeps the memory for their own late events.
  EXPECT_EQ(Describe(driver->Pipe(Visit("a3", "amy", kT0 + 2 * kHourMs))),
            std::vector<std::string>{"REWARD_WINDOW_OPENED store_visit_bonus amy @+7200s"});
  ASSERT_TRUE(driver->ReadState("amy").has_value());
  EXPECT_EQ(driver->ReadState("amy")->first_seen_ms(), kT0 + 2 * kHourMs);
  driver->Pipe(Add("a4", "amy", kT0 + 20));
  EXPECT_EQ(dropped.Value(), 2);
  EXPECT_EQ(driver->ReadState("amy")->cart().lines_size(), 0);

  // Past erasure_memory (2d) the partition forgets: the memory's changelog entry is tombstoned.
  const std::string memory_key = ErasureMemoryKey(CustomerHash(kHashKey, "amy"));
  driver->Pipe(Visit("b1", "bob", kT0 + kHourMs + 2 * kDayMs + 1));
  const v1::state::OutboxRecord* last = nullptr;
  for (const auto& r : driver->ChangelogRecords()) {
    if (r.key() == memory_key) last = &r;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_TRUE(last->null_value());
  // No changelog record holds the id after its tombstone, but for the fresh customer's own.
  EXPECT_EQ(dropped.Value(), 2);
}

// An upstream retry of an erasure request after the customer came back: what they did since
// (an opt-out among it) stays; the repeat is audited.
TEST(ErasureTest, ARepeatedRequestDoesNotEraseWhatTheCustomerDidAfterTheErasure) {
  auto driver = testing::TestDriver::FromYaml(Config(true));
  driver->Pipe(Add("a1", "amy", kT0));
  driver->Pipe(Erasure("a2", "amy", kT0 + kHourMs));
  v1::TouchpointEvent opt_out =
      Event("a3", "amy", kT0 + 2 * kHourMs, v1::EVENT_TYPE_CONSENT_CHANGE, v1::CHANNEL_EMAIL);
  opt_out.mutable_consent()->set_channel(v1::CHANNEL_EMAIL);
  opt_out.mutable_consent()->set_opted_in(false);
  driver->Pipe(opt_out);
  driver->Pipe(Add("a4", "amy", kT0 + 3 * kHourMs));
  const std::optional<v1::state::CustomerState> before = driver->ReadState("amy");
  ASSERT_TRUE(before.has_value());

  const auto delivered = driver->Pipe(Erasure("a2", "amy", kT0 + kHourMs));  // the retry
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  const std::optional<v1::state::CustomerState> after = driver->ReadState("amy");
  ASSERT_TRUE(after.has_value()) << "the retry erased the customer's state since their return";
  EXPECT_EQ(after->policy().SerializeAsString(), before->policy().SerializeAsString());
  EXPECT_EQ(after->cart().lines_size(), 1);
  const std::vector<v1::AuditRecord> audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 2u);
  EXPECT_EQ(audits[1].reason(), "repeated");
  EXPECT_EQ(audits[1].event_id(), "a2");
  // The opt-out holds: the cart reminder has no messageable channel left.
  driver->AdvanceEventTime(kT0 + 5 * kHourMs);
  for (const auto& t : driver->Delivered(driver->config().triggers.name)) {
    EXPECT_FALSE(Mentions(t, "amy")) << "a message to a customer who opted out";
  }
  // A new request, dated after the return, erases it all.
  driver->Pipe(Erasure("a5", "amy", kT0 + 6 * kHourMs));
  EXPECT_FALSE(driver->ReadState("amy").has_value());
}

TEST(ErasureTest, WithoutAHashKeyAnErasureErasesAndRemembersNothing) {
  auto driver = testing::TestDriver::FromYaml(Config(false));
  driver->Pipe(Add("a1", "amy", kT0));
  driver->Pipe(Erasure("a2", "amy", kT0 + kHourMs));
  EXPECT_FALSE(driver->ReadState("amy").has_value());
  const std::vector<v1::AuditRecord> audits = Audits(*driver);
  ASSERT_EQ(audits.size(), 1u);
  EXPECT_EQ(audits[0].event_id(), "a2");
  EXPECT_TRUE(audits[0].customer_hash().empty());
  // Nothing remembered: a late event starts a customer again.
  driver->Pipe(Visit("a0", "amy", kT0 + 10));
  EXPECT_TRUE(driver->ReadState("amy").has_value());
  EXPECT_EQ(driver->metrics().events_dropped_erased().Value(), 0);
}

TEST(ErasureTest, TriggersFiredWithTheRequestAreCountedAfterAWithdrawal) {
  auto driver = testing::TestDriver::FromYaml(Config(true));
  // One batch: amy's trigger, then her erasure, whose time fires bob's cart timer (a trigger
  // appended in the same call that withdraws amy's, counted already).
  const auto delivered = driver->PipeBatch({Add("b1", "bob", kT0), Visit("a1", "amy", kT0 + 1),
                                            Erasure("a2", "amy", kT0 + 2 * kHourMs)});
  EXPECT_EQ(Describe(delivered), std::vector<std::string>{"CART_ABANDONED cart_1h bob @+3600s"});
  EXPECT_EQ(
      driver->metrics().triggers_emitted("cart_1h", v1::TRIGGER_TYPE_CART_ABANDONED).Value(), 1);
}

}  // namespace
}  // namespace touchstream
