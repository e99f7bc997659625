// Start-up needs the input's partition count: it decides which partition owns a customer, and a
// state built under one count is refused under another. Without the topics' metadata (no broker
// within 10 s) or without the input topic, `run` used the configured topics.touchpoints.partitions
// (6 by default) and built state under a count the topic may not have; now it refuses to start,
// naming topics.touchpoints.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/cluster.h"

namespace touchstream::testing {
namespace {

TEST(TopicCheckTest, AMissingInputTopicStopsStartUpNamingTheKey) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "topic-check";
  config.partitions = 2;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  std::string yaml = ConfigYaml(config, dir.path() + "/state-a");
  const std::string input = "name: touchpoints,";
  ASSERT_NE(yaml.find(input), std::string::npos) << yaml;
  yaml.replace(yaml.find(input), input.size(), "name: touchpoints-not-created,");
  const std::string path = dir.Write("missing.yaml", yaml);
  ChildProcess run(
      {TouchstreamBin(), "run", "--config", path, "-X", "bootstrap.servers=" + cluster.bootstrap()},
      dir.path() + "/missing");
  EXPECT_NE(run.Wait(std::chrono::seconds(60)), 0) << run.Stderr();
  EXPECT_NE(run.Stderr().find("topics.touchpoints: topic 'touchpoints-not-created' does not exist"),
            std::string::npos)
      << run.Stderr();
}

TEST(TopicCheckTest, NoBrokerAtStartUpStopsItNamingTheInputTopic) {
  TempDir dir;
  ClusterConfig config;
  config.group_id = "topic-check-no-broker";
  const std::string path = dir.Write("a.yaml", ConfigYaml(config, dir.path() + "/state-a"));
  // Nothing listens on port 1.
  ChildProcess run(
      {TouchstreamBin(), "run", "--config", path, "-X", "bootstrap.servers=127.0.0.1:1"},
      dir.path() + "/a");
  EXPECT_NE(run.Wait(std::chrono::seconds(90)), 0) << run.Stderr();
  EXPECT_NE(run.Stderr().find("cannot read the topics from Kafka within 10 s"), std::string::npos)
      << run.Stderr();
  EXPECT_NE(run.Stderr().find("topics.touchpoints 'touchpoints'"), std::string::npos)
      << run.Stderr();
}

}  // namespace
}  // namespace touchstream::testing
