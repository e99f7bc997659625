#include "processor/embedded/topic_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace touchstream {
namespace {

// "name/partitions", or "error: <reason>".
std::string Show(std::string_view spec) {
  auto topic = ParseTopicSpec(spec);
  if (!topic.ok()) return "error: " + topic.status().message();
  return topic->name + "/" + std::to_string(topic->partitions);
}

TEST(TopicSpecTest, ANameAndAPartitionCount) {
  EXPECT_EQ(Show("changelog-compacted:8"), "changelog-compacted/8");
  EXPECT_EQ(Show("a.b_C-9:1"), "a.b_C-9/1");
  EXPECT_EQ(Show("t:10000"), "t/10000");
  EXPECT_EQ(Show(std::string(249, 'x') + ":2"), std::string(249, 'x') + "/2");
}

TEST(TopicSpecTest, WhatKafkaWouldRefuseIsRefusedNamingTheSpec) {
  EXPECT_EQ(Show("changelog"), "error: 'changelog' is not NAME:PARTITIONS");
  EXPECT_EQ(Show(":3"), "error: ':3': a topic name is 1 to 249 characters, not . or ..");
  EXPECT_EQ(Show("..:3"), "error: '..:3': a topic name is 1 to 249 characters, not . or ..");
  EXPECT_EQ(Show(std::string(250, 'x') + ":2").substr(0, 8), "error: '");
  EXPECT_EQ(Show("bad name:3"), "error: 'bad name:3': a topic name has only a-z A-Z 0-9 . _ -");
  EXPECT_EQ(Show("a:b:3"), "error: 'a:b:3': a topic name has only a-z A-Z 0-9 . _ -");
  for (const char* count : {"", "0", "-1", "10001", "3x", " 3", "99999999999"}) {
    EXPECT_EQ(
        Show(std::string("t:") + count),
        "error: 't:" + std::string(count) + "': PARTITIONS must be a whole number from 1 to 10000")
        << count;
  }
}

}  // namespace
}  // namespace touchstream
