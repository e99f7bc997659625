// A stop while no broker answers: `run` ends within its own bounds (the relay's 10 s flush, the
// consumer's 10 s close, processor/kafka/consumer_close.h) instead of waiting for the group
// coordinator forever. Kubernetes would kill such a process at the end of its grace period;
// one that ends by itself has written its last commit and says what it left undone.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"
#include "tests/integration/paced_producer.h"

namespace touchstream::testing {
namespace {

// Starts one instance (with input flowing, or `idle`), takes every broker away with
// `take_brokers`, stops the instance.
void StopsWithoutBrokers(bool idle,
                         const std::function<void(EmbeddedKafkaProcess&)>& take_brokers) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "stop";
  config.rules = kCart2mRules;
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  ChildProcess& a = cluster.Start("a");
  ASSERT_TRUE(cluster.WaitForLog("a", "assigned touchpoints/", std::chrono::seconds(30)))
      << a.Stderr();

  // Input arrives until the brokers go: commits, offsets and triggers are in flight then.
  std::unique_ptr<PacedProducer> input;
  if (!idle) {
    input = std::make_unique<PacedProducer>(cluster.kafka().bootstrap(), "touchpoints",
                                            JourneyLoad(7, 200, 4000), 1000);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  take_brokers(cluster.kafka());
  const auto stopped = std::chrono::steady_clock::now();
  // SIGTERM, then SIGKILL after 40 s: a process still waiting for a broker is killed.
  EXPECT_EQ(a.Stop(std::chrono::seconds(40)), 0) << a.Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, std::chrono::seconds(30));
  EXPECT_NE(a.Stderr().find("stopped cleanly"), std::string::npos) << a.Stderr();
}

// An idle instance, the broker refusing connections (the embedded Kafka's broker-down): the
// shutdown commit's first look at the partition's end offsets waited for the request's socket
// timeout (a minute; seen killed after 40 s before processor/kafka/watermarks.cc asked through
// offsetsForTimes).
TEST(StopTest, AStopWhileEveryBrokerIsDownEndsTheProcess) {
  StopsWithoutBrokers(true, [](EmbeddedKafkaProcess& kafka) {
    const std::string reply = kafka.Control("broker-down 1");
    ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  });
}

// Under input, the brokers' process gone. (A `run` stopped as its brokers went away once waited
// in the consumer's close for the coordinator for minutes, processor/kafka/consumer_close.h;
// this test has not reproduced that race: it guards the path.)
TEST(StopTest, AStopAfterTheBrokersAreGoneEndsTheProcess) {
  StopsWithoutBrokers(false, [](EmbeddedKafkaProcess& kafka) { kafka.Kill(); });
}

}  // namespace
}  // namespace touchstream::testing
