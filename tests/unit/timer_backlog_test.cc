// Timers fire in bounded chunks (processing.max_timers_per_step): a clock that jumped fires its
// backlog chunk by chunk with commits (and, in `run`, polls) in between, never splitting one
// customer's timers due at the same instant, and a record behind the backlog waits for it. The
// order of everything fired and applied is that of one unbounded step.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "processor/backtest/backtest.h"
#include "processor/config/config.h"
#include "processor/core/memory_store.h"
#include "processor/core/partition_task.h"
#include "processor/json/json_lines.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Describe;
using testing::Event;
using testing::kT0;
using testing::WithItem;

// Two cart rules with the same delay: a customer's two timers are due at the same instant.
RuleSet TwinCartRules() {
  RuleSet rules;
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{kHourMs, 0}));
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_1h_b", CartAbandonmentParams{kHourMs, 0}));
  return rules;
}

v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
}

std::string Record(const v1::TouchpointEvent& e) { return e.SerializeAsString(); }

TEST(TimerBacklogTest, AChunkNeverSplitsACustomersTimersDueAtOneInstant) {
  const RuleSet rules = TwinCartRules();
  MemoryStore store;
  PartitionPipeline pipeline(rules, store, 0, {}, {}, /*max_timers_per_step=*/1);
  std::vector<v1::Trigger> out;
  ASSERT_TRUE(pipeline.Process(Add("e1", "amy", kT0), out).ok());
  ASSERT_TRUE(pipeline.Process(Add("e2", "bob", kT0), out).ok());
  ASSERT_TRUE(out.empty());

  ASSERT_TRUE(pipeline.AdvanceWatermark(kT0 + 2 * kHourMs, out).ok());
  // A bound of one still fires both of amy's timers: they are due at the same instant.
  EXPECT_EQ(Describe(out), (std::vector<std::string>{"CART_ABANDONED cart_1h amy @+3600s",
                                                     "CART_ABANDONED cart_1h_b amy @+3600s"}));
  EXPECT_TRUE(pipeline.timer_backlog());
  out.clear();
  ASSERT_TRUE(pipeline.FireDueTimers(out).ok());
  EXPECT_EQ(Describe(out), (std::vector<std::string>{"CART_ABANDONED cart_1h bob @+3600s",
                                                     "CART_ABANDONED cart_1h_b bob @+3600s"}));
  out.clear();
  ASSERT_TRUE(pipeline.FireDueTimers(out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(pipeline.timer_backlog());
}

// Processes `values[offset]` as the record at `offset` of `topic`'s partition 0; `began_hold`:
// whether it began its source's hold.
RecordOutcome::Kind ProcessInput(PartitionTask& task, const std::string& topic,
                                 const std::vector<std::string>& values, int64_t offset,
                                 const TaskTime& time, TaskOutput& out, bool& began_hold) {
  const InputRecord record{topic, 0, offset, std::nullopt, values[offset], std::nullopt, {}};
  StatusOr<RecordOutcome> outcome = task.Process(record, time, out);
  EXPECT_TRUE(outcome.ok());
  began_hold = outcome.ok() && outcome->began_hold;
  return outcome.ok() ? outcome->kind : RecordOutcome::Kind::kDeadLettered;
}

TEST(TimerBacklogTest, ARecordBehindTheBacklogAndEveryLaterOneWaitForIt) {
  RuleSet rules = testing::CartRule();
  MemoryStore store;
  TaskSettings settings;
  settings.max_timers_per_step = 2;
  PartitionTask task(settings, rules, store);
  TaskOutput out;
  const TaskTime time{kT0 + 365 * kDayMs};
  std::vector<std::string> values;
  for (int i = 0; i < 5; ++i) {
    values.push_back(Record(Add("e" + std::to_string(i), "c" + std::to_string(i), kT0 + i)));
  }
  values.push_back(Record(Add("late", "zoe", kT0 + 3 * kHourMs)));
  values.push_back(Record(Add("later", "yan", kT0 + 3 * kHourMs)));
  bool began_hold = false;
  auto process = [&](int64_t offset) {
    return ProcessInput(task, settings.input_topic, values, offset, time, out, began_hold);
  };
  for (int64_t offset = 0; offset < 5; ++offset) {
    ASSERT_EQ(process(offset), RecordOutcome::Kind::kApplied);
  }

  // The late event's watermark makes five timers due: a chunk of two fires, the event waits.
  EXPECT_EQ(process(5), RecordOutcome::Kind::kHeld);
  EXPECT_TRUE(began_hold);  // the first record to deliver again
  EXPECT_EQ(out.triggers.size(), 2u);
  EXPECT_TRUE(task.timer_backlog());
  EXPECT_TRUE(task.held(settings.input_topic));
  EXPECT_EQ(task.checkpoint().next_offset(), 5);
  EXPECT_TRUE(task.dirty());  // the fired timers must be committed
  // A later record must not overtake it, nor may the source count as caught up.
  EXPECT_EQ(process(6), RecordOutcome::Kind::kHeld);
  EXPECT_FALSE(began_hold);  // behind the hold
  task.MarkCaughtUp(settings.input_topic);
  EXPECT_EQ(task.checkpoint().next_offset(), 5);

  while (task.timer_backlog()) ASSERT_TRUE(task.FireDueTimers(out).ok());
  EXPECT_EQ(out.triggers.size(), 5u);
  // Still held until the source is delivered again from its next offset.
  EXPECT_TRUE(task.held(settings.input_topic));
  EXPECT_EQ(process(6), RecordOutcome::Kind::kHeld);
  EXPECT_FALSE(began_hold);
  task.Rewound(settings.input_topic);
  EXPECT_EQ(process(5), RecordOutcome::Kind::kApplied);
  EXPECT_EQ(process(6), RecordOutcome::Kind::kApplied);
  EXPECT_EQ(task.checkpoint().next_offset(), 7);
  for (const auto& t : out.triggers) EXPECT_FALSE(t.event_caused);
}

// A source its driver holds (the consume loop, while the outbox is over its bound) waits as one
// the task held itself: nothing of it is applied until it is delivered again from its next offset.
TEST(TimerBacklogTest, ASourceTheDriverHoldsWaitsUntilItIsRewound) {
  RuleSet rules = testing::CartRule();
  MemoryStore store;
  TaskSettings settings;
  PartitionTask task(settings, rules, store);
  TaskOutput out;
  const TaskTime time{kT0 + kDayMs};
  const std::vector<std::string> values{Record(Add("e0", "ann", kT0)),
                                        Record(Add("e1", "bob", kT0 + 1))};
  bool began_hold = false;
  auto process = [&](int64_t offset) {
    return ProcessInput(task, settings.input_topic, values, offset, time, out, began_hold);
  };
  ASSERT_EQ(process(0), RecordOutcome::Kind::kApplied);
  task.Hold(settings.input_topic);
  EXPECT_TRUE(task.held(settings.input_topic));
  EXPECT_EQ(process(1), RecordOutcome::Kind::kHeld);
  EXPECT_FALSE(began_hold);  // held before it
  EXPECT_EQ(task.checkpoint().next_offset(), 1);
  task.Rewound(settings.input_topic);
  EXPECT_EQ(process(1), RecordOutcome::Kind::kApplied);
  EXPECT_EQ(task.checkpoint().next_offset(), 2);
}

// The same events through a bound of 3 and through one unbounded step: the same triggers in the
// same order, the bounded run in commits of at most 3 (+1: amy's twin timers stay together).
TEST(TimerBacklogTest, ChunksFireWhatOneUnboundedStepFires) {
  std::vector<v1::TouchpointEvent> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back(
        Add("e" + std::to_string(i), "c" + std::to_string(i % 7), kT0 + (i % 5) * kMinuteMs));
  }
  events.push_back(Add("late", "amy", kT0 + 3 * kHourMs));
  events.push_back(Add("later", "c3", kT0 + 3 * kHourMs + 1));
  auto run = [&](int64_t bound, testing::TestDriver** keep = nullptr) {
    testing::DriverOptions options;
    options.max_timers_per_step = bound;
    auto driver = std::make_unique<testing::TestDriver>(TwinCartRules(), options);
    std::vector<std::string> fired;
    for (const auto& e : events) {
      for (const auto& t : driver->Pipe(e)) fired.push_back(Describe(t));
    }
    for (const auto& t : driver->AdvanceEventTime(kT0 + 10 * kHourMs)) {
      fired.push_back(Describe(t));
    }
    EXPECT_TRUE(driver->status().ok()) << driver->status().message();
    return std::make_pair(fired, std::move(driver));
  };
  auto [unbounded, unbounded_driver] = run(10'000'000);
  auto [bounded, bounded_driver] = run(3);
  EXPECT_EQ(bounded, unbounded);
  EXPECT_EQ(unbounded.size(), 2u * 7 + 2 * 2);  // seven carts, then amy's and c3's new carts
  EXPECT_EQ(unbounded_driver->held_records(), 0u);
  EXPECT_GE(bounded_driver->held_records(), 1u);
  const auto& commits = bounded_driver->triggers_per_commit();
  EXPECT_LE(*std::max_element(commits.begin(), commits.end()), 4u);
  for (const char* id : {"amy", "c3"}) {
    EXPECT_EQ(bounded_driver->ReadState(id)->SerializeAsString(),
              unbounded_driver->ReadState(id)->SerializeAsString());
  }
}

TEST(TimerBacklogTest, BacktestFiresItsBacklogInChunksWithTheSameOutput) {
  std::string events;
  for (int i = 0; i < 12; ++i) {
    events += ToJsonLine(Add("e" + std::to_string(i), "c" + std::to_string(i), kT0 + i)) + "\n";
  }
  events += ToJsonLine(Add("late", "zoe", kT0 + 5 * kHourMs)) + "\n";
  auto backtest = [&](const std::string& processing) {
    const std::string yaml = processing +
                             "rules:\n  cart_1h: {kind: cart_abandonment, delay: 1h}\n"
                             "  cart_1h_b: {kind: cart_abandonment, delay: 1h}\n";
    std::istringstream in(events);
    std::ostringstream out, errors;
    BacktestOptions options;
    options.until_ms = kT0 + 10 * kHourMs;
    const BacktestReport report = RunBacktest(ParseConfig(yaml, "test"), in, out, errors, options);
    EXPECT_EQ(report.rejected, 0u) << errors.str();
    EXPECT_EQ(report.events, 13u);
    return out.str();
  };
  const std::string unbounded = backtest("");
  EXPECT_EQ(std::count(unbounded.begin(), unbounded.end(), '\n'), 2 * 13);
  EXPECT_EQ(backtest("processing: {max_timers_per_step: 2}\n"), unbounded);
}

// A few hundred thousand timers due at once: fired in commits of at most the bound, the event
// that made them due applied after the last of them.
TEST(TimerBacklogTest, AFewHundredThousandTimersDueAtOnceFireInBoundedCommits) {
  constexpr int kCustomers = 300'000;
  constexpr int64_t kBound = 10'000;
  RuleSet rules = testing::CartRule();
  testing::DriverOptions options;
  options.max_timers_per_step = kBound;
  testing::TestDriver driver(std::move(rules), options);
  std::vector<v1::TouchpointEvent> carts;
  carts.reserve(kCustomers);
  for (int i = 0; i < kCustomers; ++i) {
    carts.push_back(Add("e" + std::to_string(i), "c" + std::to_string(i), kT0 + i % 1000));
  }
  ASSERT_TRUE(driver.PipeBatch(carts).empty());
  carts.clear();
  const size_t commits_before = driver.triggers_per_commit().size();

  const std::vector<v1::Trigger> fired = driver.Pipe(Add("late", "zoe", kT0 + 2 * kHourMs));
  ASSERT_TRUE(driver.status().ok()) << driver.status().message();
  EXPECT_EQ(fired.size(), static_cast<size_t>(kCustomers));
  EXPECT_EQ(driver.held_records(), 1u);
  const std::vector<size_t> commits(driver.triggers_per_commit().begin() + commits_before,
                                    driver.triggers_per_commit().end());
  EXPECT_GE(commits.size(), static_cast<size_t>(kCustomers / kBound));
  EXPECT_LE(*std::max_element(commits.begin(), commits.end()), static_cast<size_t>(kBound));
  // In due order, the held event applied after them all.
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end(), [](const auto& a, const auto& b) {
    return a.fire_time().seconds() * 1000 + a.fire_time().nanos() / 1'000'000 <
           b.fire_time().seconds() * 1000 + b.fire_time().nanos() / 1'000'000;
  }));
  EXPECT_TRUE(driver.ReadState("zoe").has_value());
  EXPECT_EQ(driver.ReadCheckpoint()->next_offset(), kCustomers + 1);
}

}  // namespace
}  // namespace touchstream
