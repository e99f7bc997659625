// The relay's series exist at zero from start-up for every topic and outcome it can report
// (processor/run/output_series.h): the alerts' increase() then sees the first failure.
#include "processor/run/output_series.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace touchstream {
namespace {

// "name{label=value,...}" of every series at zero.
std::set<std::string> SeriesAtZero(Metrics& metrics) {
  std::set<std::string> series;
  for (const auto& collectable : metrics.collectables()) {
    for (const auto& family : collectable->Collect()) {
      for (const auto& metric : family.metric) {
        if (metric.counter.value != 0) continue;
        std::string labels;
        for (const auto& label : metric.label) {
          labels += (labels.empty() ? "" : ",") + label.name + "=" + label.value;
        }
        series.insert(family.name + "{" + labels + "}");
      }
    }
  }
  return series;
}

TEST(OutputSeriesTest, EveryOutputTopicAndOutcomeStartsAtZero) {
  Config config =
      ParseConfig("consumer: {group_id: g}\nprocessing: {guarantee: exactly_once}", "test.yaml");
  Metrics metrics("touchpoints", {});
  CreateOutputSeries(config, metrics);
  const std::set<std::string> series = SeriesAtZero(metrics);
  for (const std::string topic :
       {"triggers", "touchstream-audit", "touchpoints-dlq", "g-customers-changelog",
        "g-touchpoints-repartition", "transaction"}) {
    EXPECT_EQ(series.count("touchstream_producer_delivery_errors_total{topic=" + topic + "}"), 1u)
        << topic;
  }
  for (const std::string topic :
       {"triggers", "touchstream-audit", "touchpoints-dlq", "g-touchpoints-repartition"}) {
    EXPECT_EQ(series.count(
                  "touchstream_records_undeliverable_total{action=rerouted,topic=" + topic + "}"),
              1u)
        << topic;
  }
  EXPECT_EQ(series.count("touchstream_records_undeliverable_total{action=dropped,topic="
                         "touchpoints-dlq}"),
            1u);
  EXPECT_EQ(series.count("touchstream_records_undeliverable_total{action=stopped,topic="
                         "g-customers-changelog}"),
            1u);
}

}  // namespace
}  // namespace touchstream
