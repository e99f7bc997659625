// touchstream run on the embedded Kafka, as separate processes, with real clients: exact
// triggers, exact dead letters, state surviving a restart, and run == backtest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "processor/core/clock.h"
#include "processor/core/event_validator.h"
#include "processor/json/json_lines.h"
#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {
namespace {

ClusterConfig EndToEnd() {
  ClusterConfig config;
  config.group_id = "e2e";
  config.processing = "commit_interval: 50ms";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.extra = "validation: {max_field_bytes: 64}\n";
  config.rules = R"(
rules:
  cart_1h:
    kind: cart_abandonment
    delay: 1h
)";
  return config;
}

// Every instance of a test runs on one state directory ("run"), one after the other.
class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
    cluster_ = std::make_unique<Cluster>(dir_, EndToEnd());
    ASSERT_TRUE(cluster_->started()) << "embedded Kafka did not start";
    config_path_ = cluster_->Config("run");
  }

  ChildProcess& StartProcessor(const std::string& name) {
    return cluster_->Run(name, config_path_);
  }

  void Produce(const std::vector<v1::TouchpointEvent>& events) {
    std::vector<std::pair<std::string, std::string>> records;
    for (const auto& e : events) records.emplace_back(e.customer_id(), e.SerializeAsString());
    cluster_->Produce(records);
  }

  std::vector<v1::Trigger> Triggers(size_t count,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::vector<v1::Trigger> out;
    for (const Record& r : cluster_->Consume("triggers", count, timeout)) {
      v1::Trigger t;
      EXPECT_TRUE(t.ParseFromString(r.value));
      EXPECT_EQ(r.key, t.customer_id());
      out.push_back(t);
    }
    return out;
  }

  const std::string& bootstrap() const { return cluster_->bootstrap(); }

  TempDir dir_;
  std::unique_ptr<Cluster> cluster_;
  std::string config_path_;
};

v1::TouchpointEvent AddToCart(const std::string& id, const std::string& customer, TimeMs t,
                              const std::string& sku, int qty, int64_t price) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), sku, qty, price);
}

TEST_F(EndToEndTest, EmitsExactTriggersAndDeadLettersEveryInvalidRecord) {
  ChildProcess& processor = StartProcessor("run");

  const TimeMs far_future = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() +
                            kDayMs;
  auto missing_id = Event("", "c9", kT0, v1::EVENT_TYPE_PAGE_VIEW);
  auto missing_customer = Event("bad-2", "", kT0, v1::EVENT_TYPE_PAGE_VIEW);
  auto missing_time = Event("bad-3", "c9", kT0, v1::EVENT_TYPE_PAGE_VIEW);
  missing_time.clear_event_time();
  auto no_channel = Event("bad-4", "c9", kT0, v1::EVENT_TYPE_PAGE_VIEW, v1::CHANNEL_UNSPECIFIED);
  auto unknown_type = Event("bad-5", "c9", kT0, static_cast<v1::EventType>(99));
  auto too_old = Event("bad-6", "c9", 946684800000 - 1, v1::EVENT_TYPE_PAGE_VIEW);
  auto too_new = Event("bad-7", "c9", far_future, v1::EVENT_TYPE_PAGE_VIEW);
  auto too_large = Event("bad-8", "c9", kT0, v1::EVENT_TYPE_PAGE_VIEW);
  too_large.set_campaign_id(std::string(65, 'x'));
  auto bad_item = AddToCart("bad-9", "c9", kT0, "sku", 0, 100);

  std::vector<std::pair<std::string, std::string>> records;
  auto add = [&](const v1::TouchpointEvent& e) {
    records.emplace_back(e.customer_id(), e.SerializeAsString());
  };
  add(AddToCart("e1", "c1", kT0, "sku-1", 2, 1500));                     // offset 0
  records.emplace_back("c1", std::string("\xff\xfe garbage \x01", 12));  // offset 1
  add(missing_id);                                                       // 2
  add(missing_customer);                                                 // 3
  add(missing_time);                                                     // 4
  add(no_channel);                                                       // 5
  add(unknown_type);                                                     // 6
  add(too_old);                                                          // 7
  add(too_new);                                                          // 8
  add(too_large);                                                        // 9
  add(bad_item);                                                         // 10
  add(AddToCart("e2", "c2", kT0 + 10 * kMinuteMs, "sku-2", 1, 999));     // 11
  // c2 settles the online cart in a store: no trigger for c2.
  add(Event("e3", "c2", kT0 + 20 * kMinuteMs, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE));
  // Another customer's event moves the watermark past c1's deadline.
  add(Event("e4", "c3", kT0 + 2 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW));
  cluster_->Produce(records);

  std::vector<v1::Trigger> triggers = Triggers(1);
  ASSERT_EQ(triggers.size(), 1u) << processor.Stderr();
  EXPECT_EQ(Describe(triggers[0]), "CART_ABANDONED cart_1h c1 @+3600s");
  EXPECT_EQ(triggers[0].cart().total_minor(), 3000);
  EXPECT_EQ(triggers[0].cart().items(0).quantity(), 2);
  EXPECT_EQ(triggers[0].cause_event_id(), "e1");

  std::vector<Record> dead = cluster_->Consume("touchpoints-dlq", 10, std::chrono::seconds(30));
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {1, "undecodable"},        {2, "missing_event_id"},     {3, "missing_customer_id"},
      {4, "missing_event_time"}, {5, "invalid_channel"},      {6, "invalid_type"},
      {7, "event_time_too_old"}, {8, "event_time_in_future"}, {9, "field_too_large"},
      {10, "invalid_item"}};
  ASSERT_EQ(dead.size(), expected.size());
  for (size_t i = 0; i < dead.size(); ++i) {
    const auto& [offset, reason] = expected[i];
    EXPECT_EQ(dead[i].headers["touchstream.reason"], reason) << "offset " << offset;
    EXPECT_EQ(dead[i].headers["touchstream.source.offset"], std::to_string(offset));
    EXPECT_EQ(dead[i].headers["touchstream.source.topic"], "touchpoints");
    EXPECT_EQ(dead[i].headers["touchstream.source.partition"], "0");
    EXPECT_FALSE(dead[i].headers["touchstream.detail"].empty());
    EXPECT_EQ(dead[i].value, records[offset].second) << "original bytes must be untouched";
    EXPECT_EQ(dead[i].key, records[offset].first);
  }
  EXPECT_EQ(processor.Stop(), 0) << processor.Stderr();
}

TEST_F(EndToEndTest, StateAndOffsetsSurviveARestart) {
  ChildProcess& processor = StartProcessor("run1");
  Produce({AddToCart("e1", "c1", kT0, "sku-1", 1, 500),
           Event("e2", "c2", kT0 + 30 * kMinuteMs, v1::EVENT_TYPE_PAGE_VIEW)});
  ASSERT_TRUE(cluster_->WaitForLog("run1", "assigned touchpoints/0", std::chrono::seconds(20)));
  // Give it time to consume and commit both: nothing fires yet (watermark < T0+1h).
  EXPECT_TRUE(Triggers(1, std::chrono::seconds(3)).empty());
  ASSERT_EQ(processor.Stop(), 0) << processor.Stderr();

  // The cart lives only in RocksDB now; a later event must fire it exactly once, and the
  // two events before the restart must not be applied again.
  ChildProcess& restarted = StartProcessor("run2");
  Produce({Event("e3", "c3", kT0 + 3 * kHourMs, v1::EVENT_TYPE_PAGE_VIEW)});
  std::vector<v1::Trigger> triggers = Triggers(1);
  ASSERT_EQ(triggers.size(), 1u) << restarted.Stderr();
  EXPECT_EQ(Describe(triggers[0]), "CART_ABANDONED cart_1h c1 @+3600s");
  EXPECT_EQ(triggers[0].customer().last_activity_time().seconds() * 1000, kT0);
  EXPECT_NE(restarted.Stderr().find("from offset 2"), std::string::npos) << restarted.Stderr();
  EXPECT_EQ(restarted.Stop(), 0);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() + "/tests/scenarios")) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Each golden scenario through `produce` + `run` on the embedded Kafka gives exactly the
// triggers and audit records that backtest gives (tests/unit/scenario_test.cc checks backtest
// against the same files), under either processing.guarantee. (The embedded Kafka runs
// transactions without isolating aborted ones, so exactly_once here shows the transactional path
// works, not that it isolates.) The audit topic is read with `tail --audit`, as a user would.
//
// The comparison is in order, across customers too: the test topics have one partition each, so
// `run` applies the input in offset order in one task, as backtest applies its lines, and the
// idempotent (or transactional) producer keeps each commit's outbox order on the trigger topic and
// on the audit topic. With more input partitions only each customer's order would be defined.
class ScenarioOnKafkaTest
    : public EndToEndTest,
      public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {};

TEST_P(ScenarioOnKafkaTest, RunEmitsTheSameTriggersAndAuditAsBacktest) {
  const auto& [scenario, guarantee] = GetParam();
  const std::string dir = SourceDir() + "/tests/scenarios/" + scenario;
  // The scenario's rules on top of the test's Kafka settings.
  ClusterConfig config = cluster_->config();
  config.processing = "guarantee: " + guarantee + ", " + config.processing;
  config.rules = ReadText(dir + "/config.yaml");
  config_path_ = cluster_->WriteConfig("scenario", "run", config);
  const std::vector<std::string> expected = Lines(ReadText(dir + "/expected_triggers.jsonl"));
  ASSERT_FALSE(expected.empty());
  const std::vector<std::string> expected_audit = Lines(ReadText(dir + "/expected_audit.jsonl"));

  ChildProcess& processor = StartProcessor("run");
  ChildProcess produce({TouchstreamBin(), "produce", "--brokers", bootstrap(), "--topic",
                        "touchpoints", "--input", dir + "/events.jsonl"},
                       dir_.path() + "/produce");
  ASSERT_EQ(produce.Wait(std::chrono::seconds(30)), 0) << produce.Stderr();

  std::vector<std::string> actual;
  for (const v1::Trigger& t : Triggers(expected.size())) actual.push_back(ToJsonLine(t));
  EXPECT_EQ(actual, expected) << processor.Stderr();
  // In every scenario the last audit records come from the event that fires the last triggers,
  // in the same commit; those were read and settled above, so tail finds every audit record
  // and stops after a second without one.
  ChildProcess tail(
      {TouchstreamBin(), "tail", "--brokers", bootstrap(), "--audit", "--idle-timeout", "1s"},
      dir_.path() + "/tail-audit");
  ASSERT_EQ(tail.Wait(std::chrono::seconds(30)), 0) << tail.Stderr();
  EXPECT_EQ(Lines(tail.Stdout()), expected_audit) << tail.Stderr();
  EXPECT_EQ(processor.Stop(), 0);
  if (guarantee == "exactly_once") {
    EXPECT_NE(processor.Stderr().find("processing.guarantee: exactly_once"), std::string::npos)
        << processor.Stderr();
  }
}

// Each scenario under one guarantee, the two alternating, so that both paths see every kind of
// scenario across the suite without running every scenario twice (the drivers above run them all).
std::vector<std::tuple<std::string, std::string>> ScenarioCases() {
  std::vector<std::tuple<std::string, std::string>> cases;
  for (const std::string& name : ScenarioNames()) {
    cases.emplace_back(name, cases.size() % 2 == 0 ? "at_least_once" : "exactly_once");
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioOnKafkaTest, ::testing::ValuesIn(ScenarioCases()),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST_F(EndToEndTest, ProduceRejectsInvalidLinesAndTailPrintsWhatArrived) {
  const std::string input =
      dir_.Write("events.jsonl",
                 "# a comment\n"
                 "{\"eventId\":\"p1\",\"customerId\":\"c1\",\"eventTime\":\"2026-01-01T00:00:00Z\","
                 "\"channel\":\"CHANNEL_WEB\",\"type\":\"EVENT_TYPE_PAGE_VIEW\"}\n"
                 "{\"eventId\":\"p2\",\"eventTime\":\"2026-01-01T00:00:00Z\","
                 "\"channel\":\"CHANNEL_WEB\",\"type\":\"EVENT_TYPE_PAGE_VIEW\"}\n"
                 "{\"eventId\":\"p3\",\"customerId\":\"c1\",\"evnetTime\":\"x\"}\n"
                 "not json\n");
  ChildProcess produce({TouchstreamBin(), "produce", "--brokers", bootstrap(), "--input", input},
                       dir_.path() + "/produce");
  EXPECT_EQ(produce.Wait(std::chrono::seconds(30)), 3);
  const std::string err = produce.Stderr();
  EXPECT_NE(err.find("line 3: rejected: missing_customer_id"), std::string::npos) << err;
  EXPECT_NE(err.find("line 4: rejected: undecodable"), std::string::npos) << err;
  EXPECT_NE(err.find("line 5: rejected: undecodable"), std::string::npos) << err;
  EXPECT_NE(err.find("produced 1, rejected 3"), std::string::npos) << err;

  // The valid one is on the topic; a garbage record next to it is dead-lettered by `run`.
  cluster_->Produce({{"c2", "garbage"}});
  ChildProcess& processor = StartProcessor("run");
  ChildProcess tail({TouchstreamBin(), "tail", "--brokers", bootstrap(), "--topic",
                     "touchpoints-dlq", "--dead-letter", "--max", "1"},
                    dir_.path() + "/tail");
  ASSERT_EQ(tail.Wait(std::chrono::seconds(30)), 0) << tail.Stderr();
  const std::string line = tail.Stdout();
  EXPECT_NE(line.find("\"touchstream.reason\":\"undecodable\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"touchstream.source.offset\":\"1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"valueBase64\":\"Z2FyYmFnZQ==\""), std::string::npos) << line;
  EXPECT_EQ(processor.Stop(), 0);
}

TEST_F(EndToEndTest, LoadgenProducesValidJourneysDeterministically) {
  auto loadgen = [&](const std::string& topic) {
    ChildProcess run({TouchstreamBin(), "loadgen", "--brokers", bootstrap(), "--topic", topic,
                      "--events", "3000", "--customers", "500", "--seed", "9"},
                     dir_.path() + "/loadgen-" + topic);
    EXPECT_EQ(run.Wait(std::chrono::seconds(60)), 0) << run.Stderr();
    EXPECT_NE(run.Stderr().find("loadgen: produced 3000 events"), std::string::npos)
        << run.Stderr();
    return cluster_->Consume(topic, 3000, std::chrono::seconds(20), std::chrono::milliseconds(500));
  };
  const std::vector<Record> first = loadgen("touchpoints");
  ASSERT_EQ(first.size(), 3000u);
  const EventValidator validator{ValidationLimits{}};
  std::set<std::string> customers, channels;
  for (const Record& r : first) {
    v1::TouchpointEvent e;
    const Verdict verdict = validator.DecodeAndValidate(r.value, SystemClock().NowMs(), &e);
    ASSERT_TRUE(verdict.ok()) << verdict.detail;
    EXPECT_EQ(r.key, e.customer_id());
    customers.insert(e.customer_id());
    channels.insert(v1::Channel_Name(e.channel()));
  }
  EXPECT_GT(customers.size(), 10u);
  EXPECT_GT(channels.size(), 3u) << "journeys span online and offline channels";
  // The same seed gives the same events (the dead-letter topic serves as a second topic).
  const std::vector<Record> second = loadgen("touchpoints-dlq");
  ASSERT_EQ(second.size(), 3000u);
  for (size_t i = 0; i < first.size(); ++i) {
    v1::TouchpointEvent a, b;
    ASSERT_TRUE(a.ParseFromString(first[i].value) && b.ParseFromString(second[i].value));
    EXPECT_EQ(a.event_id(), b.event_id());
    EXPECT_EQ(a.type(), b.type());
  }
}

TEST_F(EndToEndTest, BadConfigFailsAtStartupNamingTheKey) {
  const std::string bad = dir_.Write("bad.yaml",
                                     "rules:\n  cart:\n    kind: cart_abandonment\n"
                                     "    delay: soon\n");
  ChildProcess run({TouchstreamBin(), "run", "--config", bad}, dir_.path() + "/bad");
  EXPECT_EQ(run.Wait(std::chrono::seconds(10)), 2);
  EXPECT_NE(run.Stderr().find("rules.cart.delay"), std::string::npos) << run.Stderr();
}

}  // namespace
}  // namespace touchstream::testing
