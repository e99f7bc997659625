// A backlog of ~20,000 timers due at once, end to end through `touchstream run` on the embedded
// Kafka: 20,000 carts, then events two hours later make every cart reminder due. They fire in
// chunks of processing.max_timers_per_step with polls and commits in between, the partition holds
// its input meanwhile and the events behind the backlog are applied after it: kept in memory
// (processor/run/held_records.h), or with processing.max_held_bytes 0 read again after a pause
// and a rewind. Either way every reminder arrives once, every input record is applied.
// tests/unit/timer_backlog_test.cc covers the order and the chunk bound in process.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {
namespace {

constexpr int kCarts = 20'000;
constexpr int kLate = 10;  // customers whose carts move event time two hours on

std::string AddToCart(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000)
      .SerializeAsString();
}

// Carts "c0".."c<count - 1>" added within the first second after kT0: their reminders come due
// together once event time moves two hours on.
void AddBacklogCarts(int count, std::vector<std::pair<std::string, std::string>>& records) {
  for (int i = 0; i < count; ++i) {
    const std::string customer = "c" + std::to_string(i);
    records.emplace_back(customer, AddToCart("e" + std::to_string(i), customer, kT0 + i % 1000));
  }
}

// Two partitions, the cart rule, /metrics on `http_port`.
ClusterConfig BacklogConfig(const std::string& group_id, int http_port, std::string processing) {
  ClusterConfig config;
  config.group_id = group_id;
  config.partitions = 2;
  config.processing = std::move(processing);
  config.http = "listen: \"127.0.0.1:" + std::to_string(http_port) + "\"";
  config.rules = kCart1hRules;
  return config;
}

// Where the records behind a held partition's backlog wait.
enum class Held {
  kInMemory,  // all kept in memory (the default bound)
  kPartly,    // a bound of three records: what memory kept, and the rest read again
  kInKafka,   // max_held_bytes 0: the partition pauses and rewinds
};

void TwentyThousandTimersDueAtOnce(Held held) {
  TempDir dir;
  const int http_port = FreeLoopbackPort();
  ClusterConfig config =
      BacklogConfig("backlog", http_port,
                    "commit_interval: 20ms, commit_max_events: 500, max_timers_per_step: 1000");
  if (held == Held::kInKafka) config.processing += ", max_held_bytes: 0";
  // A late cart's record: its key and value (~80 bytes), the topic's name and 256 more.
  if (held == Held::kPartly) config.processing += ", max_held_bytes: 1100";
  config.kafka_consumer += ", statistics.interval.ms: 100";  // the records fetched, read below
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();

  std::vector<std::pair<std::string, std::string>> records;
  AddBacklogCarts(kCarts, records);
  for (int i = 0; i < kLate; ++i) {
    const std::string customer = "late" + std::to_string(i);
    records.emplace_back(customer, AddToCart("l" + std::to_string(i), customer, kT0 + 2 * kHourMs));
  }
  cluster.Produce(records);
  ChildProcess& run = cluster.Start("run");

  const std::vector<Record> triggers =
      cluster.Consume("triggers", kCarts, std::chrono::seconds(180));
  std::set<std::string> reminded;
  for (const Record& r : triggers) {
    v1::Trigger t;
    ASSERT_TRUE(t.ParseFromString(r.value));
    EXPECT_EQ(t.type(), v1::TRIGGER_TYPE_CART_ABANDONED);
    reminded.insert(t.customer_id());
  }
  EXPECT_EQ(triggers.size(), static_cast<size_t>(kCarts)) << run.Stderr();
  EXPECT_EQ(reminded.size(), static_cast<size_t>(kCarts));
  EXPECT_EQ(reminded.count("late0"), 0u);  // due two hours later still

  // Every input record applied, the held ones included, once; the backlog fired in chunks, with
  // the partition held meanwhile and released.
  EXPECT_EQ(ScrapeMetricSum(http_port, "touchstream_records_consumed_total"), kCarts + kLate);
  EXPECT_GE(ScrapeMetricSum(http_port, "touchstream_timer_chunks_total"),
            kCarts / 1000 - 2 * 1);  // the first chunk of each partition fires in its held step
  EXPECT_EQ(ScrapeMetricSum(http_port, "touchstream_timer_backlog_partitions"), 0);
  const double kept_records = ScrapeMetricSum(http_port, "touchstream_input_records_kept_total");
  const double rewinds = ScrapeMetricSum(http_port, "touchstream_input_rewinds_total");
  // The records the consumer fetched (librdkafka's statistics, every 100 ms here): each input
  // record at least once.
  double fetched = 0;
  for (int i = 0; i < 100 && fetched < kCarts + kLate; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fetched = ScrapeMetricSum(http_port, "touchstream_records_fetched_total");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a report or more after it
  fetched = ScrapeMetricSum(http_port, "touchstream_records_fetched_total");
  if (held == Held::kInMemory) {
    // The held records were applied from memory, at least the one each backlog began with; no
    // partition was paused and read again: each record fetched once.
    EXPECT_GE(kept_records, 1);
    EXPECT_LE(kept_records, kLate);  // the late carts came last
    EXPECT_EQ(rewinds, 0);
    EXPECT_EQ(fetched, kCarts + kLate);
  } else if (held == Held::kPartly) {
    // Memory kept up to three of the late carts at a time; a partition that filled it was paused
    // and read again from the first record it refused, not from the one it held on: the kept ones
    // were fetched once.
    EXPECT_GE(kept_records, 1);
    EXPECT_LE(kept_records, kLate);
    EXPECT_GE(rewinds, 1);
    EXPECT_GT(fetched, kCarts + kLate);
    EXPECT_LE(fetched, kCarts + kLate + (kLate - kept_records));
  } else {
    // The held records were read again: each held partition rewound once its backlog was gone,
    // and fetched again from the record it held on.
    EXPECT_EQ(kept_records, 0);
    EXPECT_GE(rewinds, 1);
    EXPECT_GT(fetched, kCarts + kLate);
  }
  EXPECT_TRUE(cluster.WaitForLog("run", "while its backlog of due timers fires in chunks",
                                 std::chrono::seconds(1)));
  cluster.Stop("run");
}

TEST(TimerBacklogTest, TwentyThousandTimersDueAtOnceFireInChunksAndTheInputBehindThemIsApplied) {
  TwentyThousandTimersDueAtOnce(Held::kInMemory);
}

TEST(TimerBacklogTest, PastTheBoundWhatMemoryKeptIsAppliedAndOnlyTheRestIsReadAgain) {
  TwentyThousandTimersDueAtOnce(Held::kPartly);
}

TEST(TimerBacklogTest, WithNothingKeptInMemoryTheInputBehindTheBacklogIsReadAgain) {
  TwentyThousandTimersDueAtOnce(Held::kInKafka);
}

// The batches of a hold's kept records keep processing.commit_max_events: 4,000 records behind
// the backlog, kept while it fires, are committed in batches of ~300 once it is gone, not in one
// batch of them all. Those records are carts two hours on and then their purchases ten minutes
// later: a commit between the two must not move the partition's clock on by the wall clock as if
// its input were all applied (its records kept are not), which would fire the reminders of carts
// bought a little later in the input.
TEST(TimerBacklogTest, TheRecordsKeptBehindABacklogAreCommittedInBatchesOfCommitMaxEvents) {
  TempDir dir;
  const int http_port = FreeLoopbackPort();
  ClusterConfig config =
      BacklogConfig("backlog-batches", http_port,
                    "commit_interval: 20ms, commit_max_events: 300, max_timers_per_step: 50");
  config.timers = "clock: hybrid";  // an idle partition's clock follows the wall clock
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();

  constexpr int kBacklogCarts = 6'000;
  constexpr int kBought = 2'000;  // carts two hours later, behind the backlog they make, bought
  constexpr int kBehind = 2 * kBought;
  std::vector<std::pair<std::string, std::string>> records;
  AddBacklogCarts(kBacklogCarts, records);
  for (int i = 0; i < kBought; ++i) {
    const std::string customer = "b" + std::to_string(i);
    records.emplace_back(customer, AddToCart("b" + std::to_string(i), customer, kT0 + 2 * kHourMs));
  }
  for (int i = 0; i < kBought; ++i) {
    const std::string customer = "b" + std::to_string(i);
    records.emplace_back(
        customer, WithItem(Event("p" + std::to_string(i), customer, kT0 + 2 * kHourMs + 600'000,
                                 v1::EVENT_TYPE_PURCHASE),
                           "sku", 1, 1000)
                      .SerializeAsString());
  }
  cluster.Produce(records);
  ChildProcess& run = cluster.Start("run");
  const std::vector<Record> triggers =
      cluster.Consume("triggers", kBacklogCarts, std::chrono::seconds(180));
  size_t bought_reminded = 0;
  for (const Record& r : triggers) {
    v1::Trigger t;
    ASSERT_TRUE(t.ParseFromString(r.value));
    if (t.customer_id().rfind('b', 0) == 0) ++bought_reminded;
  }
  EXPECT_EQ(bought_reminded, 0u);
  EXPECT_EQ(triggers.size(), static_cast<size_t>(kBacklogCarts)) << run.Stderr();

  double consumed = 0;
  for (int i = 0; i < 200 && consumed < kBacklogCarts + kBehind; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    consumed = ScrapeMetricSum(http_port, "touchstream_records_consumed_total");
  }
  EXPECT_EQ(consumed, kBacklogCarts + kBehind);
  // Most of the records behind were kept in memory while their partition held.
  EXPECT_GE(ScrapeMetricSum(http_port, "touchstream_input_records_kept_total"), kBehind / 2);
  EXPECT_EQ(ScrapeMetricSum(http_port, "touchstream_input_rewinds_total"), 0);
  // Every batch within the histogram's bucket of 1,000 records: a batch closes at 300 records,
  // plus at most a chunk of timers per partition fired before its commit.
  const std::string metrics = HttpGet(http_port, "/metrics").body;
  const double batches = MetricSum(metrics, "touchstream_commit_batch_events_count");
  const double within = MetricSum(metrics, "touchstream_commit_batch_events_bucket{le=\"1000\"}");
  EXPECT_GT(batches, 0);
  EXPECT_EQ(within, batches) << metrics;
  cluster.Stop("run");
}

}  // namespace
}  // namespace touchstream::testing
