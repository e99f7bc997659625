#include "processor/embedded/embedded_kafka.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

// Applies one control line to `kafka`: "ok <reply>" or "error: <reason>", as the control
// channel answers it.
std::string Apply(EmbeddedKafka& kafka, const std::string& line) {
  auto command = ParseFaultCommand(line);
  if (!command.ok()) return "error: " + command.status().message();
  auto reply = kafka.ApplyFault(*command);
  return reply.ok() ? "ok " + *reply : "error: " + reply.status().message();
}

// One cluster for the suite (stopping one takes about a second); the tests touch disjoint
// brokers' error stacks and check nothing another test changes.
class EmbeddedKafkaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = EmbeddedKafka::Start(3);
    ASSERT_TRUE(started.ok()) << started.status().message();
    kafka_ = std::move(*started).release();
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"t", 2}).ok());
  }
  static void TearDownTestSuite() {
    delete kafka_;
    kafka_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(kafka_, nullptr); }

  static EmbeddedKafka* kafka_;
};

EmbeddedKafka* EmbeddedKafkaTest::kafka_ = nullptr;

TEST_F(EmbeddedKafkaTest, CountsItsBrokers) { EXPECT_EQ(kafka_->broker_count(), 3); }

TEST_F(EmbeddedKafkaTest, AppliesFaultsToExistingBrokersAndPartitions) {
  EXPECT_EQ(Apply(*kafka_, "broker-down 2"), "ok broker 2 down");
  EXPECT_EQ(Apply(*kafka_, "broker-up 2"), "ok broker 2 up");
  EXPECT_EQ(Apply(*kafka_, "broker-down all"), "ok all brokers down");
  EXPECT_EQ(Apply(*kafka_, "broker-up all"), "ok all brokers up");
  EXPECT_EQ(Apply(*kafka_, "leader t 1 3"), "ok leader of t/1 is broker 3");
  EXPECT_EQ(Apply(*kafka_, "leader t 0 none"), "ok t/0 has no leader");
  EXPECT_EQ(Apply(*kafka_, "coordinator group g 1"), "ok coordinator of group g is broker 1");
  EXPECT_EQ(Apply(*kafka_, "rtt 3 20"), "ok broker 3 rtt 20 ms");
  EXPECT_EQ(Apply(*kafka_, "errors Produce NOT_LEADER_FOR_PARTITION 2"),
            "ok next 2 Produce requests fail with NOT_LEADER_FOR_PARTITION");
  EXPECT_EQ(Apply(*kafka_, "clear-errors"), "ok cleared queued errors of every api");
}

TEST_F(EmbeddedKafkaTest, BrokerErrorStacksCountDown) {
  EXPECT_EQ(Apply(*kafka_, "pending-errors 3 Produce"), "ok 0");
  EXPECT_EQ(Apply(*kafka_, "errors-rtt 3 Produce NO_ERROR 100 3"),
            "ok broker 3: next 3 Produce responses NO_ERROR after 100 ms");
  EXPECT_EQ(Apply(*kafka_, "errors-rtt 3 Produce REQUEST_TIMED_OUT 0"),
            "ok broker 3: next 1 Produce response REQUEST_TIMED_OUT after 0 ms");
  EXPECT_EQ(Apply(*kafka_, "pending-errors 3 Produce"), "ok 4");
  EXPECT_EQ(Apply(*kafka_, "pending-errors 2 Produce"), "ok 0");
}

TEST_F(EmbeddedKafkaTest, RefusesWhatDoesNotExist) {
  EXPECT_EQ(Apply(*kafka_, "broker-down 4"), "error: no broker 4 (brokers are 1..3)");
  EXPECT_EQ(Apply(*kafka_, "rtt 9 10"), "error: no broker 9 (brokers are 1..3)");
  EXPECT_EQ(Apply(*kafka_, "leader t 2 1"), "error: topic t has no partition 2");
  EXPECT_EQ(Apply(*kafka_, "leader t 0 4"), "error: no broker 4 (brokers are 1..3)");
  // The mock would abort on the next FindCoordinator for a broker that does not exist.
  EXPECT_EQ(Apply(*kafka_, "coordinator group g 4"), "error: no broker 4 (brokers are 1..3)");
  EXPECT_EQ(Apply(*kafka_, "errors-rtt 5 Produce NO_ERROR 10"),
            "error: no broker 5 (brokers are 1..3)");
  EXPECT_EQ(Apply(*kafka_, "pending-errors 4 Fetch"), "error: no broker 4 (brokers are 1..3)");
}

}  // namespace
}  // namespace touchstream
