#include "processor/run/consumer_events.h"

#include <gtest/gtest.h>

#include <string>

namespace touchstream {
namespace {

// An event as librdkafka hands it to the callback.
class FakeEvent : public RdKafka::Event {
 public:
  FakeEvent(Type type, std::string str, Severity severity = EVENT_SEVERITY_INFO)
      : type_(type), str_(std::move(str)), severity_(severity) {}
  Type type() const override { return type_; }
  RdKafka::ErrorCode err() const override { return RdKafka::ERR__TRANSPORT; }
  Severity severity() const override { return severity_; }
  std::string fac() const override { return "FAIL"; }
  std::string str() const override { return str_; }
  int throttle_time() const override { return 0; }
  std::string broker_name() const override { return ""; }
  int broker_id() const override { return -1; }
  bool fatal() const override { return false; }

 private:
  Type type_;
  std::string str_;
  Severity severity_;
};

std::string Report(int64_t input_rx, int64_t forwarded_rx, int64_t queued) {
  return R"({"name":"rdkafka#consumer-1","topics":{"touchpoints":{"topic":"touchpoints",
    "partitions":{"0":{"partition":0,"rxmsgs":)" +
         std::to_string(input_rx) + R"(,"fetchq_size":)" + std::to_string(queued) +
         R"(},"-1":{"partition":-1,"rxmsgs":0}}},"repartition":{"partitions":{"0":{"rxmsgs":)" +
         std::to_string(forwarded_rx) + "}}}}}";
}

TEST(ConsumerEventsTest, StatisticsReportsBecomeTheFetchMetrics) {
  Metrics metrics("touchpoints", {"cart_1h"});
  ConsumerEvents events(metrics);
  FakeEvent first(RdKafka::Event::EVENT_STATS, Report(100, 4, 2048));
  events.event_cb(first);
  EXPECT_EQ(metrics.records_fetched("touchpoints").Value(), 100);
  EXPECT_EQ(metrics.records_fetched("repartition").Value(), 4);
  EXPECT_EQ(metrics.consumer_queued_bytes().Value(), 2048);

  FakeEvent second(RdKafka::Event::EVENT_STATS, Report(160, 4, 0));
  events.event_cb(second);
  EXPECT_EQ(metrics.records_fetched("touchpoints").Value(), 160);
  EXPECT_EQ(metrics.records_fetched("repartition").Value(), 4);
  EXPECT_EQ(metrics.consumer_queued_bytes().Value(), 0);
  EXPECT_EQ(events.reports_read(), 2u);
}

TEST(ConsumerEventsTest, AReportThatDoesNotParseIsCountedAndChangesNoMetric) {
  Metrics metrics("touchpoints", {"cart_1h"});
  ConsumerEvents events(metrics);
  FakeEvent good(RdKafka::Event::EVENT_STATS, Report(10, 0, 5));
  events.event_cb(good);
  FakeEvent truncated(RdKafka::Event::EVENT_STATS, Report(20, 0, 9).substr(0, 40));
  events.event_cb(truncated);
  events.event_cb(truncated);
  EXPECT_EQ(events.reports_refused(), 2u);
  EXPECT_EQ(events.reports_read(), 1u);
  EXPECT_EQ(metrics.records_fetched("touchpoints").Value(), 10);
  EXPECT_EQ(metrics.consumer_queued_bytes().Value(), 5);
}

TEST(ConsumerEventsTest, LogsAndErrorsArePrintedAsLinesOfTheirOwn) {
  Metrics metrics("touchpoints", {"cart_1h"});
  ConsumerEvents events(metrics);
  ::testing::internal::CaptureStderr();
  FakeEvent log(RdKafka::Event::EVENT_LOG, "127.0.0.1:1/bootstrap: Connect failed",
                RdKafka::Event::EVENT_SEVERITY_ERROR);
  events.event_cb(log);
  FakeEvent error(RdKafka::Event::EVENT_ERROR, "1/1 brokers are down");
  events.event_cb(error);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("librdkafka group consumer FAIL: 127.0.0.1:1/bootstrap: Connect failed"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("librdkafka group consumer ERROR: Local: Broker transport failure: 1/1 "
                         "brokers are down"),
            std::string::npos)
      << printed;
  EXPECT_EQ(metrics.records_fetched("touchpoints").Value(), 0);
}

}  // namespace
}  // namespace touchstream
