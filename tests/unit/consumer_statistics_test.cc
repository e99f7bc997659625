#include "processor/kafka/consumer_statistics.h"

#include <gtest/gtest.h>

#include <string>

namespace touchstream {
namespace {

// A report as librdkafka 2.0 writes it (STATISTICS.md), trimmed: the fields read, and others
// around them of each kind (strings, objects, arrays) that are ignored.
std::string Report(int64_t rx0, int64_t rx1, int64_t forwarded_rx, int64_t queued0 = 1200) {
  return R"({"name":"rdkafka#consumer-1","client_id":"rdkafka","type":"consumer","ts":1,"time":2,
    "replyq":0,"msg_cnt":0,"rxmsgs":)" +
         std::to_string(rx0 + rx1 + forwarded_rx) + R"(,
    "brokers":{"127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"state":"UP",
      "rtt":{"min":1,"max":9,"avg":2,"p99":9},"toppars":{"touchpoints-0":{"topic":"touchpoints",
      "partition":0}}}},
    "topics":{
      "touchpoints":{"topic":"touchpoints","age":3,"metadata_age":4,
        "batchsize":{"min":0,"max":0,"cnt":0},"partitions":{
        "0":{"partition":0,"broker":1,"leader":1,"desired":true,"unknown":false,"fetchq_cnt":3,
             "fetchq_size":)" +
         std::to_string(queued0) + R"(,"fetch_state":"active","rxmsgs":)" + std::to_string(rx0) +
         R"(,"rxbytes":100,"consumer_lag":7},
        "1":{"partition":1,"broker":1,"leader":1,"fetchq_cnt":1,"fetchq_size":300,
             "fetch_state":"active","rxmsgs":)" +
         std::to_string(rx1) + R"(},
        "-1":{"partition":-1,"broker":-1,"leader":-1,"fetchq_cnt":0,"fetchq_size":0,
              "rxmsgs":0}}},
      "repartition":{"topic":"repartition","partitions":{
        "0":{"partition":0,"fetchq_cnt":0,"fetchq_size":0,"rxmsgs":)" +
         std::to_string(forwarded_rx) + R"(}}},
      "triggers":{"topic":"triggers","partitions":{
        "0":{"partition":0,"fetchq_cnt":0,"fetchq_size":0,"rxmsgs":0}}}},
    "cgrp":{"state":"up","join_state":"steady","assignment_size":3}})";
}

TEST(ConsumerStatisticsTest, CountsTheRecordsFetchedSinceTheLastReportByTopic) {
  ConsumerStatistics statistics;
  StatusOr<ConsumerStatisticsReading> first = statistics.Read(Report(100, 50, 7));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->fetched.at("touchpoints"), 150u);
  EXPECT_EQ(first->fetched.at("repartition"), 7u);
  EXPECT_EQ(first->fetched.at("triggers"), 0u);
  EXPECT_EQ(first->queued_bytes, 1200u + 300u);

  StatusOr<ConsumerStatisticsReading> second = statistics.Read(Report(130, 50, 9, 0));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->fetched.at("touchpoints"), 30u);
  EXPECT_EQ(second->fetched.at("repartition"), 2u);
  EXPECT_EQ(second->queued_bytes, 300u);
}

TEST(ConsumerStatisticsTest, APartitionWhoseCountWentDownCountsFromZero) {
  ConsumerStatistics statistics;
  ASSERT_TRUE(statistics.Read(Report(100, 50, 0)).ok());
  // Partition 0's state was made again: its 20 are new; partition 1 fetched nothing more.
  StatusOr<ConsumerStatisticsReading> reading = statistics.Read(Report(20, 50, 0));
  ASSERT_TRUE(reading.ok());
  EXPECT_EQ(reading->fetched.at("touchpoints"), 20u);
}

TEST(ConsumerStatisticsTest, WhatIsNotItsJsonIsRefusedAndChangesNothing) {
  ConsumerStatistics statistics;
  ASSERT_TRUE(statistics.Read(Report(100, 0, 0)).ok());
  for (const std::string bad :
       {std::string(), std::string("not json"), Report(1, 1, 1).substr(0, 200),
        std::string(R"({"topics":{"touchpoints":{"partitions":{"zero":{"rxmsgs":1}}}}})"),
        std::string(R"({"topics":{"touchpoints":{"partitions":{"0":{"rxmsgs":"many"}}}}})")}) {
    StatusOr<ConsumerStatisticsReading> reading = statistics.Read(bad);
    EXPECT_FALSE(reading.ok()) << bad;
    if (!reading.ok()) {
      EXPECT_EQ(reading.status().code(), Status::Code::kInvalidArgument);
      EXPECT_NE(reading.status().message().find("librdkafka statistics"), std::string::npos);
    }
  }
  StatusOr<ConsumerStatisticsReading> reading = statistics.Read(Report(110, 0, 0));
  ASSERT_TRUE(reading.ok());
  EXPECT_EQ(reading->fetched.at("touchpoints"), 10u);
}

}  // namespace
}  // namespace touchstream
