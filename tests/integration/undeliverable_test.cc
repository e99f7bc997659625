// Records too large to produce, end to end through `touchstream run`: a trigger the broker
// refuses with MSG_SIZE_TOO_LARGE (the embedded Kafka does not enforce sizes, so the fault channel
// injects the broker's error) and a dead letter over the producer's message.max.bytes (refused
// by librdkafka itself) each go to the dead-letter topic with their reason, are counted, and the
// output goes on: a later trigger arrives. The relay's own tests (tests/unit/outbox_relay_test.cc)
// cover the barrier and the changelog case in process.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {
namespace {

// The producer refuses records over 200,000 bytes; the state limit keeps every changelog record
// well below that (a config load check).
ClusterConfig OversizeConfig(int http_port) {
  ClusterConfig config;
  config.group_id = "oversize";
  config.processing = "commit_interval: 20ms";
  config.http = "listen: \"127.0.0.1:" + std::to_string(http_port) + "\"";
  config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
  config.extra =
      "limits: {max_state_bytes: 100000}\n"
      "kafka_producer: {message.max.bytes: 200000}\n";
  config.rules = "rules:\n  cart_1h: {kind: cart_abandonment, delay: 1h}\n";
  return config;
}

std::string AddToCart(const std::string& id, const std::string& customer, TimeMs t) {
  return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000)
      .SerializeAsString();
}

// The value of `name` in the Prometheus text `metrics` ("" if absent).
std::string Sample(const std::string& metrics, const std::string& name) {
  const size_t at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 2;
  return metrics.substr(start, metrics.find('\n', start) - start);
}

TEST(UndeliverableTest, RecordsTooLargeToProduceAreDeadLetteredAndOutputGoesOn) {
  TempDir dir;
  const int http_port = FreeLoopbackPort();
  Cluster cluster(dir, OversizeConfig(http_port), FaultChannel::kYes, /*brokers=*/2);
  ASSERT_TRUE(cluster.started()) << cluster.kafka().Stderr();
  // Broker 2 leads only the triggers partition, so an error injected there hits trigger records
  // and nothing else.
  for (const char* command : {"leader touchpoints 0 1", "leader touchpoints-dlq 0 1",
                              "leader oversize-customers-changelog 0 1", "leader triggers 0 2",
                              "coordinator group oversize 1"}) {
    ASSERT_TRUE(Applied(cluster.kafka(), command));
  }
  ChildProcess& run = cluster.Start("run");
  ASSERT_TRUE(cluster.WaitForLog("run", "assigned touchpoints/", std::chrono::seconds(30)))
      << run.Stderr();

  // 1. The broker refuses the next Produce request for the triggers partition as too large.
  // c2's cart moves event time past c1's deadline: c1's trigger is that request.
  ASSERT_TRUE(Applied(cluster.kafka(), "errors-rtt 2 Produce MSG_SIZE_TOO_LARGE 0 1"));
  cluster.Produce(
      {{"c1", AddToCart("e1", "c1", kT0)}, {"c2", AddToCart("e2", "c2", kT0 + 2 * kHourMs)}});
  const std::vector<Record> first =
      cluster.Consume("touchpoints-dlq", 1, std::chrono::seconds(30), std::chrono::seconds(0));
  ASSERT_EQ(first.size(), 1u) << run.Stderr();

  // 2. An invalid input of 300,000 bytes: its dead letter is over message.max.bytes, refused by
  // librdkafka before it leaves. 3. Then c3's cart fires c2's trigger.
  cluster.Produce(
      {{"c9", std::string(300'000, '\xff')}, {"c3", AddToCart("e3", "c3", kT0 + 4 * kHourMs)}});

  // Output went on: c2's trigger arrived, c1's did not (it is a dead letter).
  const std::vector<Record> triggers = cluster.Consume("triggers", 1, std::chrono::seconds(30));
  ASSERT_EQ(triggers.size(), 1u) << run.Stderr();
  v1::Trigger later;
  ASSERT_TRUE(later.ParseFromString(triggers[0].value));
  EXPECT_EQ(Describe(later), "CART_ABANDONED cart_1h c2 @+10800s");

  const std::vector<Record> dead = cluster.Consume("touchpoints-dlq", 2, std::chrono::seconds(30));
  ASSERT_EQ(dead.size(), 2u) << run.Stderr();
  // The trigger the broker refused, whole, with the reason.
  v1::Trigger refused;
  ASSERT_TRUE(refused.ParseFromString(dead[0].value));
  EXPECT_EQ(Describe(refused), "CART_ABANDONED cart_1h c1 @+3600s");
  EXPECT_EQ(dead[0].key, "c1");
  EXPECT_EQ(dead[0].headers.at("touchstream.reason"), "undeliverable");
  EXPECT_EQ(dead[0].headers.at("touchstream.original.topic"), "triggers");
  EXPECT_EQ(dead[0].headers.at("touchstream.truncated"), "false");
  EXPECT_NE(dead[0].headers.at("touchstream.detail").find("too large"), std::string::npos)
      << dead[0].headers.at("touchstream.detail");
  // The dead letter librdkafka refused: cut to 64 KiB, its source still named.
  EXPECT_EQ(dead[1].key, "c9");
  EXPECT_EQ(dead[1].value, std::string(64 * 1024, '\xff'));
  EXPECT_EQ(dead[1].headers.at("touchstream.reason"), "undeliverable");
  EXPECT_EQ(dead[1].headers.at("touchstream.original.topic"), "touchpoints-dlq");
  EXPECT_EQ(dead[1].headers.at("touchstream.truncated"), "true");
  EXPECT_EQ(dead[1].headers.at("touchstream.source.offset"), "2");

  // Counted, by destination topic.
  const std::string metrics = HttpGet(http_port, "/metrics").body;
  EXPECT_EQ(Sample(metrics,
                   "touchstream_records_undeliverable_total{action=\"rerouted\",topic="
                   "\"triggers\"}"),
            "1")
      << metrics;
  EXPECT_EQ(Sample(metrics,
                   "touchstream_records_undeliverable_total{action=\"rerouted\",topic="
                   "\"touchpoints-dlq\"}"),
            "1")
      << metrics;
  cluster.Stop("run");
}

}  // namespace
}  // namespace touchstream::testing
