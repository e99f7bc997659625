// `touchstream produce` says when Kafka did not take a record: it reported success (exit 0,
// "produced 1") for a record the broker refused, since nothing read the delivery reports.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/integration/cluster.h"

namespace touchstream::testing {
namespace {

TEST(ProduceCommandTest, ARecordKafkaRefusesIsReportedAndFailsTheCommand) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "produce-command";
  Cluster cluster(dir, config, FaultChannel::kYes);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  const std::string input = dir.Write(
      "events.jsonl", R"({"eventId":"e1","customerId":"amy","eventTime":"2026-01-01T00:00:00Z",)"
                      R"("type":"EVENT_TYPE_PAGE_VIEW","channel":"CHANNEL_WEB"})"
                      "\n");
  auto produce = [&](const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TouchstreamBin(), "produce", "--brokers", cluster.bootstrap(),
                                 "--input", input},
        dir.path() + "/" + name);
  };

  const std::string reply = cluster.kafka().Control("errors Produce TOPIC_AUTHORIZATION_FAILED 50");
  ASSERT_EQ(reply.rfind("ok", 0), 0u) << reply;
  auto refused = produce("refused");
  EXPECT_EQ(refused->Wait(std::chrono::seconds(60)), 1) << refused->Stderr();
  EXPECT_NE(refused->Stderr().find("1 of 1 records not delivered (first: "), std::string::npos)
      << refused->Stderr();

  ASSERT_EQ(cluster.kafka().Control("clear-errors").rfind("ok", 0), 0u);
  auto taken = produce("taken");
  EXPECT_EQ(taken->Wait(std::chrono::seconds(60)), 0) << taken->Stderr();
  EXPECT_NE(taken->Stderr().find("produced 1, rejected 0"), std::string::npos) << taken->Stderr();
}

}  // namespace
}  // namespace touchstream::testing
