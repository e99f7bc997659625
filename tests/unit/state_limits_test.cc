// Per-customer state limits: the trim itself (which entries go, in which order) and the same
// trim through the test driver (committed state, changelog records, the metric) and `backtest`.
#include "processor/core/state_limits.h"

#include <gtest/gtest.h>

#include <sstream>

#include "processor/backtest/backtest.h"
#include "processor/core/event_dedup.h"
#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/json/json_lines.h"
#include "processor/policy/policy_stage.h"
#include "processor/policy/time_zone_catalog.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/driver_test.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;

// An entry's name: its sku up to the padding ("a1" of "a1....").
std::string Name(const std::string& sku) { return sku.substr(0, sku.find('.')); }

std::string Skus(const CustomerState& s) {
  std::string out;
  for (const auto& line : s.cart().lines()) out += Name(line.sku()) + " ";
  return out;
}

// The state's lists on one line: "cart=a1 a2  browse=v3 v2  events=1 2 ".
std::string Lists(const CustomerState& s) {
  std::string out = "cart=" + Skus(s) + " browse=";
  for (const auto& slot : s.rules()) {
    for (const auto& sku : slot.state().browse().skus()) out += Name(sku.sku()) + " ";
  }
  out += " events=";
  for (const auto& e : s.recent_events()) out += std::to_string(e.time_ms()) + " ";
  for (const int64_t time_ms : s.recent_times_ms()) out += std::to_string(time_ms) + " ";
  return out;
}

CustomerState WithCart(const std::vector<std::string>& skus, size_t sku_bytes = 0) {
  CustomerState s;
  s.set_customer_id("c1");
  s.set_first_seen_ms(kT0);
  for (const std::string& sku : skus) {
    auto* line = s.mutable_cart()->add_lines();
    line->set_sku(sku + std::string(sku_bytes, '.'));
    line->set_quantity(1);
  }
  return s;
}

TEST(StateLimitsTest, ACartAtTheLimitIsKept) {
  CustomerState s = WithCart({"a", "b", "c"});
  const std::string before = s.SerializeAsString();
  TrimCounts counts;
  TrimToLimits(s, StateLimits{3, 1 << 20}, counts);
  EXPECT_EQ(s.SerializeAsString(), before);
  EXPECT_EQ(counts.total(), 0u);
}

TEST(StateLimitsTest, ALineOverTheLimitDropsTheLineAddedFirst) {
  CustomerState s = WithCart({"a", "b", "c", "d"});
  TrimCounts counts;
  TrimToLimits(s, StateLimits{3, 1 << 20}, counts);
  EXPECT_EQ(Skus(s), "b c d ");
  EXPECT_EQ(counts.max_cart_lines, 1u);
  EXPECT_EQ(counts.max_state_bytes, 0u);
}

TEST(StateLimitsTest, ACustomerWithoutACartGetsNoEmptyCart) {
  CustomerState s;
  s.set_customer_id("c1");
  TrimCounts counts;
  TrimToLimits(s, StateLimits{1, 1}, counts);  // over max_state_bytes with nothing to trim
  EXPECT_FALSE(s.has_cart()) << "an empty cart would change the stored bytes";
  EXPECT_EQ(counts.total(), 0u);
}

// Bytes over the limit: cart lines (oldest first), then browsed skus (oldest view, the last),
// then remembered event ids (oldest first), each only as far as needed.
TEST(StateLimitsTest, StateBytesOverTrimCartThenBrowsedSkusThenEventIdsOldestFirst) {
  CustomerState full = WithCart({"a1", "a2", "a3"}, 100);
  auto* browse = full.add_rules();
  browse->set_rule_id("browse");
  for (const char* sku : {"v3", "v2", "v1"}) {  // newest view first
    auto* b = browse->mutable_state()->mutable_browse()->add_skus();
    b->set_sku(std::string(sku) + std::string(100, '.'));
    b->set_last_view_ms(kT0);
  }
  for (int i = 1; i <= 3; ++i) AppendRecentId(full, i, i);
  ASSERT_EQ(Lists(full), "cart=a1 a2 a3  browse=v3 v2 v1  events=1 2 3 ");
  const size_t size = full.ByteSizeLong();

  // One byte over: only the oldest cart line goes.
  CustomerState s = full;
  TrimCounts counts;
  TrimToLimits(s, StateLimits{200, size - 1}, counts);
  EXPECT_EQ(Skus(s), "a2 a3 ");
  EXPECT_EQ(counts.max_state_bytes, 1u);
  EXPECT_LE(s.ByteSizeLong(), size - 1);

  // Room for a little more than the browsed skus and ids: the cart goes, then the oldest view.
  s = full;
  counts = {};
  CustomerState no_cart = full;
  no_cart.mutable_cart()->clear_lines();
  TrimToLimits(s, StateLimits{200, no_cart.ByteSizeLong() - 1}, counts);
  EXPECT_EQ(Lists(s), "cart= browse=v3 v2  events=1 2 3 ");
  EXPECT_EQ(counts.max_state_bytes, 4u);  // 3 lines, 1 view

  // Room for the part that does not grow and one event id: the newest id is all that is left.
  CustomerState rest = full;
  rest.mutable_cart()->clear_lines();
  rest.mutable_rules(0)->mutable_state()->mutable_browse()->clear_skus();
  ForgetOldestIds(rest, 2);
  s = full;
  counts = {};
  TrimToLimits(s, StateLimits{200, rest.ByteSizeLong()}, counts);
  EXPECT_EQ(Lists(s), "cart= browse= events=3 ");
  EXPECT_EQ(counts.max_state_bytes, 8u);
  EXPECT_EQ(s.SerializeAsString(), rest.SerializeAsString());
}

// The ids of a state written before the packed lists (one message each) join them by time
// before the oldest are trimmed.
TEST(StateLimitsTest, EventIdsOfAStateWrittenBeforeAreTrimmedByTime) {
  CustomerState full;
  full.set_customer_id("c1");
  for (int i = 1; i <= 2; ++i) {
    auto* e = full.add_recent_events();
    e->set_id_hash(i);
    e->set_time_ms(i);
  }
  for (int i = 3; i <= 4; ++i) AppendRecentId(full, i, i);
  ASSERT_EQ(Lists(full), "cart= browse= events=1 2 3 4 ");
  CustomerState rest;
  rest.set_customer_id("c1");
  AppendRecentId(rest, 4, 4);
  CustomerState s = full;
  TrimCounts counts;
  EXPECT_EQ(TrimToLimits(s, StateLimits{200, rest.ByteSizeLong()}, counts), rest.ByteSizeLong());
  EXPECT_EQ(Lists(s), "cart= browse= events=4 ");
  EXPECT_EQ(counts.max_state_bytes, 3u);
  EXPECT_EQ(s.SerializeAsString(), rest.SerializeAsString());

  // An older build wrote one after the lists (a rollback): it is the newest, and stays.
  s = full;
  s.clear_recent_events();
  auto* newest = s.add_recent_events();
  newest->set_id_hash(5);
  newest->set_time_ms(5);
  ASSERT_EQ(Lists(s), "cart= browse= events=5 3 4 ");
  rest.clear_recent_ids();
  rest.clear_recent_times_ms();
  AppendRecentId(rest, 5, 5);
  counts = {};
  TrimToLimits(s, StateLimits{200, rest.ByteSizeLong()}, counts);
  EXPECT_EQ(Lists(s), "cart= browse= events=5 ");
  EXPECT_EQ(counts.max_state_bytes, 2u);
}

TEST(StateLimitsTest, MinStateBytesBoundsAStateWithEveryListEmpty) {
  constexpr size_t kField = 512;
  const std::string longest(kField, 'x');
  CustomerState s;
  s.set_customer_id(longest);
  s.set_first_seen_ms(-1);
  s.set_last_activity_ms(-1);
  s.set_last_channel(-1);
  for (int c = 0; v1::Channel_IsValid(c); ++c) s.add_events_by_channel(~0ull);
  s.set_purchases_online(-1);
  s.set_purchases_offline(-1);
  s.set_lifetime_value_minor(-1);
  s.mutable_cart()->set_last_change_ms(-1);
  s.mutable_cart()->set_last_change_event_id(longest);
  const std::string rule_id(64, 'r');
  for (int kind = 0; kind < 4; ++kind) {
    auto* slot = s.add_rules();
    slot->set_rule_id(rule_id + std::to_string(kind));
    auto* state = slot->mutable_state();
    state->set_due_ms(-1);
    if (kind == 0) {
      state->mutable_cart()->set_armed_at_ms(-1);
      state->mutable_cart()->set_armed_by_event_id(longest);
    } else if (kind == 1) {
      auto* w = state->mutable_win_back();
      w->set_dormancy_start_ms(-1);
      w->set_tiers_fired(-1);
      w->set_started_by_event_id(longest);
    } else if (kind == 2) {
      auto* r = state->mutable_reward();
      r->set_window_id(rule_id + ":-9223372036854775808");
      r->set_campaign_id(longest);
      r->set_opens_ms(-1);
      r->set_expires_ms(-1);
      r->set_purchases(-1);
      r->set_amount_minor(-1);
      r->set_reminder_sent(true);
      r->set_last_closed_ms(-1);
      r->set_opened_by_event_id(longest);
    } else {
      state->mutable_browse()->set_armed_at_ms(-1);
      state->mutable_browse()->set_armed_by_event_id(longest);
    }
  }
  EXPECT_LE(s.ByteSizeLong(), MinStateBytes(kField, 4));
}

// Through the driver: the committed state, the changelog record and the metric.
class StateLimitsDriverTest : public testing::DriverTest {
 protected:
  // A one-hour cart rule.
  void Start(StateLimits limits) {
    testing::DriverOptions options;
    options.limits = limits;
    RuleSet rules = testing::CartRule();
    DriverTest::Start(std::move(rules), options);
  }
  static v1::TouchpointEvent Add(int i, size_t sku_bytes = 0) {
    return WithItem(Event("e" + std::to_string(i), "c1", kT0 + i, v1::EVENT_TYPE_ADD_TO_CART),
                    "s" + std::to_string(i) + std::string(sku_bytes, '.'), 1, 100);
  }
  double Trimmed(TrimReason reason) { return driver_->metrics().state_trimmed(reason).Value(); }
};

TEST_F(StateLimitsDriverTest, ACartOverMaxCartLinesKeepsTheNewestLinesAndCountsTheTrim) {
  Start(StateLimits{3, 1 << 20});
  for (int i = 1; i <= 3; ++i) Process(Add(i));
  EXPECT_EQ(Skus(*driver_->ReadState("c1")), "s1 s2 s3 ");
  EXPECT_EQ(Trimmed(TrimReason::kMaxCartLines), 0);
  Process(Add(4));
  Process(Add(5));
  EXPECT_EQ(Skus(*driver_->ReadState("c1")), "s3 s4 s5 ");
  EXPECT_EQ(Trimmed(TrimReason::kMaxCartLines), 2);
  EXPECT_EQ(driver_->task()->trims().max_cart_lines, 2u);
  // The reminder lists the cart as kept.
  ASSERT_EQ(AdvanceTo(kT0 + 2 * kHourMs), V{"CART_ABANDONED cart_1h c1 @+3600s"});
  std::string items;
  for (const auto& item : last_[0].cart().items()) items += item.sku() + " ";
  EXPECT_EQ(items, "s3 s4 s5 ");
}

TEST_F(StateLimitsDriverTest, NoChangelogRecordIsLargerThanMaxStateBytes) {
  constexpr size_t kMax = 4096;
  Start(StateLimits{200, kMax});
  for (int i = 1; i <= 20; ++i) Process(Add(i, 400));  // ~8 KiB of cart lines
  const CustomerState state = *driver_->ReadState("c1");
  EXPECT_LE(state.ByteSizeLong(), kMax);
  // About 9 lines of ~410 bytes fit: the newest ones.
  EXPECT_EQ(Skus(state), "s12 s13 s14 s15 s16 s17 s18 s19 s20 ");
  size_t largest = 0;
  for (const auto& record : driver_->ChangelogRecords()) {
    if (record.key() == "c1") largest = std::max(largest, record.value().size());
  }
  EXPECT_GT(largest, kMax / 2);
  EXPECT_LE(largest, kMax);
  EXPECT_GT(Trimmed(TrimReason::kMaxStateBytes), 0);
  EXPECT_EQ(Trimmed(TrimReason::kMaxCartLines), 0);
}

// `backtest` and the driver (the task behind `run`) trim the same entries.
TEST(StateLimitsBacktestTest, BacktestTrimsAsRunDoes) {
  // Two customers; the first 30 skus short (over max_cart_lines), the last 20 long (over
  // max_state_bytes), so that both limits trim.
  const std::string yaml = "limits: {max_cart_lines: 10, max_state_bytes: 2700}\n";
  std::string events;
  for (int i = 1; i <= 50; ++i) {
    v1::TouchpointEvent e =
        WithItem(Event("e" + std::to_string(i), "c" + std::to_string(i % 2), kT0 + i * 1000,
                       v1::EVENT_TYPE_ADD_TO_CART),
                 "sku" + std::to_string(i) + std::string(i > 30 ? 500 : 10, '.'), 1, 100);
    events += ToJsonLine(e) + "\n";
  }
  auto driver = testing::TestDriver::FromYaml(yaml);
  std::istringstream lines(events);
  for (std::string line; std::getline(lines, line);) driver->PipeJson(line);
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();

  MemoryStore store;
  std::istringstream in(events);
  std::ostringstream out, errors;
  const BacktestReport report = RunBacktest(ParseConfig(yaml, "test"), in, out, errors, {}, &store);
  EXPECT_EQ(report.rejected, 0u) << errors.str();
  EXPECT_GT(report.trimmed.max_cart_lines, 0u);
  EXPECT_GT(report.trimmed.max_state_bytes, 0u);
  EXPECT_EQ(report.trimmed.max_cart_lines, driver->task()->trims().max_cart_lines);
  EXPECT_EQ(report.trimmed.max_state_bytes, driver->task()->trims().max_state_bytes);
  for (const char* id : {"c0", "c1"}) {
    EXPECT_EQ(store.customers().at(id).SerializeAsString(),
              driver->ReadState(id)->SerializeAsString())
        << id;
  }
}

}  // namespace
}  // namespace touchstream

namespace touchstream {
namespace {

// A deferral holding a trigger of about `bytes` bytes, released at `release_ms`.
v1::state::DeferredTrigger BigDeferral(const std::string& id, TimeMs release_ms, size_t bytes) {
  v1::state::DeferredTrigger d;
  d.mutable_trigger()->set_trigger_id(id);
  d.mutable_trigger()->set_rule_id("cart_1h");
  d.mutable_trigger()->set_customer_id("amy");
  d.mutable_trigger()->mutable_cart()->add_items()->set_sku(std::string(bytes, 'x'));
  d.set_release_ms(release_ms);
  d.set_reason(v1::state::DEFERRAL_REASON_QUIET_HOURS);
  return d;
}

TEST(PolicyStateLimitsTest, SendHistoryThenTheDeferralReleasedLastAreTrimmedLast) {
  CustomerState customer;
  customer.set_customer_id("amy");
  customer.set_first_seen_ms(1);
  for (int i = 0; i < 50; ++i) AppendRecentId(customer, i, i);
  for (int i = 0; i < 50; ++i) customer.mutable_policy()->add_sent()->set_time_ms(i);
  for (int i = 0; i < 3; ++i) {
    *customer.mutable_policy()->add_deferred() = BigDeferral("t" + std::to_string(i), 10 + i, 1000);
  }
  TrimCounts counts;
  std::vector<v1::state::DeferredTrigger> dropped;
  TrimToLimits(customer, StateLimits{200, 2500}, counts, &dropped);
  EXPECT_LE(customer.ByteSizeLong(), 2500u);
  // Event ids and the send history go before any deferral; then the one released last.
  EXPECT_EQ(customer.recent_times_ms_size(), 0);
  EXPECT_EQ(RecentIdCount(customer), 0);
  EXPECT_EQ(customer.policy().sent_size(), 0);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].trigger().trigger_id(), "t2");
  EXPECT_EQ(customer.policy().deferred_size(), 2);
  EXPECT_EQ(counts.max_state_bytes, 50u + 50u + 1u);
}

TEST(PolicyStateLimitsTest, ATrimmedDeferralIsSuppressedAuditedAndNeverReleased) {
  RuleSet rules = testing::CartRule();
  PolicyConfig config;
  PolicyStage policy(config, TimeZoneCatalog::System());
  MemoryStore store;
  PartitionPipeline pipeline(rules, store, 0, {}, StateLimits{200, 2500});
  pipeline.SetPolicy(&policy);
  {
    CustomerState& amy = **store.Mutable("amy");
    amy.set_customer_id("amy");
    amy.set_first_seen_ms(testing::kT0);
    for (int i = 0; i < 3; ++i) {
      const std::string id = "t" + std::to_string(i);
      *amy.mutable_policy()->add_deferred() = BigDeferral(id, testing::kT0 + kHourMs + i, 1000);
      store.ScheduleTimer({testing::kT0 + kHourMs + i, "amy", DeferralTimerId(id)});
    }
  }
  std::vector<v1::Trigger> out;
  ASSERT_TRUE(
      pipeline.Process(testing::Event("v1", "amy", testing::kT0, v1::EVENT_TYPE_PAGE_VIEW), out)
          .ok());
  ASSERT_EQ(pipeline.audits().size(), 1u);
  EXPECT_EQ(pipeline.audits()[0].decision(), v1::AUDIT_DECISION_SUPPRESSED);
  EXPECT_EQ(pipeline.audits()[0].reason(), "state_limit");
  EXPECT_EQ(pipeline.audits()[0].trigger().trigger_id(), "t2");
  pipeline.audits().clear();

  // t0 and t1 are decided at their release (amy has no cart any more: superseded); t2's timer
  // was cancelled with it.
  ASSERT_TRUE(pipeline.AdvanceWatermark(testing::kT0 + 2 * kHourMs, out).ok());
  std::vector<std::string> decided;
  for (const v1::AuditRecord& a : pipeline.audits()) {
    decided.push_back(a.trigger().trigger_id() + " " + a.reason());
  }
  for (const v1::Trigger& t : out) decided.push_back(t.trigger_id() + " sent");
  EXPECT_EQ(decided, (std::vector<std::string>{"t0 superseded", "t1 superseded"}));
}

}  // namespace
}  // namespace touchstream
