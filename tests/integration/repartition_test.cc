// The repartition stage through Kafka: one customer's events come from producers that partition
// differently — a murmur2 producer (the Java client's partitioner: the customer's own
// partition), a CRC32 producer (librdkafka's default), a producer keying by session instead of
// customer, and one sending no key. Every record that lands outside its customer's partition is
// forwarded through the repartition topic to the owner; triggers and state equal the oracle's (a
// backtest of the same events in one partition), also when the instance is killed mid-way.
// The events are produced in rounds, each processed completely before the next, so that each
// customer's events are applied in the order the oracle applies them.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"

namespace touchstream::testing {
namespace {

constexpr int kPartitions = 4;
constexpr int kCustomers = 40;

constexpr const char* kRules = kCart1hRules;
// Input dedup off, in `run` and in the oracle: a record applied twice (a forwarded record sent
// again after a crash) must not hide behind its event id.
constexpr char kDedupOff[] = "dedup_horizon: 0s";
std::string OracleConfig() { return std::string("processing: {") + kDedupOff + "}\n" + kRules; }

// Customer i's producer: how its records are partitioned and keyed.
enum class Producer { kMurmur2, kCrc32, kSessionKey, kNoKey };
Producer ProducerOf(int customer) { return static_cast<Producer>(customer % 4); }

// Round `round` of the events: each customer's event of that round.
std::vector<v1::TouchpointEvent> Round(int round) {
  std::vector<v1::TouchpointEvent> events;
  for (int i = 0; i < kCustomers; ++i) {
    const std::string customer = "customer-" + std::to_string(i);
    const std::string id = "r" + std::to_string(round) + "-" + customer;
    const TimeMs t = kT0 + i * 1000;
    if (round == 0) {  // everyone fills a cart
      events.push_back(
          WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku-1", 1, 2500));
    } else if (round == 1 && i % 2 == 0) {  // half of them pay for it in the store
      events.push_back(WithItem(
          Event(id, customer, t + 10 * kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE),
          "sku-1", 1, 2500));
    } else if (round == 2) {  // two hours later: the unpaid carts are abandoned
      events.push_back(Event(id, customer, t + 2 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW));
    }
  }
  return events;
}

// Produces a round, each customer's record through its producer.
void ProduceRound(const std::string& bootstrap, const std::vector<v1::TouchpointEvent>& events,
                  int round) {
  std::map<Producer, std::vector<KeyedValue>> by_producer;
  for (const v1::TouchpointEvent& e : events) {
    const int i = std::stoi(e.customer_id().substr(e.customer_id().find('-') + 1));
    KeyedValue record{e.customer_id(), e.SerializeAsString()};
    if (ProducerOf(i) == Producer::kSessionKey) {
      record.key = "session-" + std::to_string(i * 7 + round);
    }
    if (ProducerOf(i) == Producer::kNoKey) record.key.reset();
    by_producer[ProducerOf(i)].push_back(std::move(record));
  }
  for (const auto& [producer, records] : by_producer) {
    ProduceWithPartitioner(bootstrap, "touchpoints", records,
                           producer == Producer::kCrc32 ? "consistent_random" : "murmur2_random");
  }
}

// What goes wrong during the scenario.
struct Fault {
  enum class Kind {
    kNone,
    kKill,        // SIGKILL while round 1 is read and forwarded
    kCrashPoint,  // the first instance aborts at `point`'s `hit`-th pass, in round 0
  };
  Kind kind = Kind::kNone;
  const char* point = "";
  long hit = 0;
};

void PrintTo(const Fault& f, std::ostream* os) { *os << f.point << ":" << f.hit; }

void RunScenario(const Fault& fault) {
  const bool kill_mid_way = fault.kind == Fault::Kind::kKill;
  TempDir dir;
  const int port = FreeLoopbackPort();
  ClusterConfig config;
  config.group_id = "repartition";
  config.partitions = kPartitions;
  config.processing = std::string("commit_interval: 20ms, ") + kDedupOff;
  config.http = "listen: \"127.0.0.1:" + std::to_string(port) + "\"";
  config.rules = kRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());
  if (fault.kind == Fault::Kind::kCrashPoint) {
    cluster.Run(
        "run", cluster.Config("run"),
        {"TOUCHSTREAM_CRASH_AT=" + std::string(fault.point) + ":" + std::to_string(fault.hit)});
  } else {
    cluster.Start("run");
  }

  std::vector<std::string> all;  // the oracle's input: every event in produce order
  for (int round = 0; round < 3; ++round) {
    const std::vector<v1::TouchpointEvent> events = Round(round);
    ProduceRound(cluster.bootstrap(), events, round);
    for (const auto& e : events) all.push_back(e.SerializeAsString());
    if (fault.kind == Fault::Kind::kCrashPoint && round == 0) {
      // Round 0 forwards most carts: the crash hits one of the two hops (or a commit between
      // them); a new instance on the same state goes on from the last commit.
      ChildProcess& crashed = cluster["run"];
      ASSERT_EQ(crashed.Wait(std::chrono::seconds(60)), -SIGABRT)
          << "the crash point was not reached: " << crashed.Stderr();
      ASSERT_NE(crashed.Stderr().find(std::string("crash point ") + fault.point + " reached"),
                std::string::npos);
      cluster.Kill("run");  // reaped: its log joins finished_logs()
      cluster.Start("run");
    }
    if (kill_mid_way && round == 1) {
      // Killed while the purchases are being read and forwarded; a new instance on the same
      // state goes on from the last commit (the outbox may send forwarded records again).
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      cluster.Kill("run");
      cluster.Start("run");
    }
    // Every event of the round applied by its owner before the next round is produced.
    const Oracle so_far = BacktestOracle(OracleConfig(), {{0, all}});
    const std::string dumped = cluster.AwaitState("run", so_far.state, std::chrono::seconds(60),
                                                  [&] { return cluster["run"].running(); });
    ASSERT_EQ(dumped, so_far.state) << "round " << round << "\n" << cluster["run"].Stderr();
  }
  // Most records were read outside their customer's partition (the counter restarts with the
  // instance).
  EXPECT_GT(ScrapeMetricSum(port, "touchstream_records_repartitioned_total"),
            kill_mid_way ? 0 : 20);

  const Oracle oracle = BacktestOracle(OracleConfig(), {{0, all}});
  ASSERT_EQ(oracle.triggers.size(), static_cast<size_t>(kCustomers / 2))
      << "every unpaid cart is abandoned, no paid one";
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(30));
}

TEST(RepartitionTest, EventsFromEveryKindOfProducerReachTheCustomersOwner) { RunScenario({}); }

TEST(RepartitionTest, AnInstanceKilledMidWayLosesAndDoublesNothing) {
  RunScenario({Fault::Kind::kKill});
}

// The commit and delivery path's crash points (processor/diagnostics/fault_points.h) while records
// are forwarded: a read record not yet committed, a committed forward not yet produced, produced
// but not acknowledged, acknowledged but still in the outbox.
class RepartitionCrashPointTest : public ::testing::TestWithParam<Fault> {};

TEST_P(RepartitionCrashPointTest, ACrashOnEitherHopLosesAndDoublesNothing) {
  RunScenario(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Points, RepartitionCrashPointTest,
                         ::testing::Values(Fault{Fault::Kind::kCrashPoint, "after_poll", 30},
                                           Fault{Fault::Kind::kCrashPoint, "db_write", 2},
                                           Fault{Fault::Kind::kCrashPoint, "produce_queued", 12},
                                           Fault{Fault::Kind::kCrashPoint, "delivery_report", 12},
                                           Fault{Fault::Kind::kCrashPoint, "outbox_delete", 2}),
                         [](const auto& info) { return std::string(info.param.point); });

}  // namespace
}  // namespace touchstream::testing
