// deploy/grafana/touchstream.json shows every metric the processor serves. (Whether each query
// returns series from a real Prometheus: tests/integration/prometheus_test.cc.)
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "processor/metrics/metrics.h"

namespace touchstream {
namespace {

TEST(DashboardTest, EveryTouchstreamMetricHasAPanel) {
  std::ifstream in(std::string(TOUCHSTREAM_SOURCE_DIR_PATH) + "/deploy/grafana/touchstream.json");
  std::stringstream dashboard;
  dashboard << in.rdbuf();
  ASSERT_FALSE(dashboard.str().empty());

  Metrics metrics("touchpoints", {"cart_1h"});
  // Series that appear only later: per partition, and per refused record's topic.
  metrics.consumer_lag(0);
  metrics.max_event_time_seconds(0);
  metrics.watermark_seconds(0);
  metrics.records_undeliverable("triggers", "rerouted");
  metrics.delivery_errors("triggers");
  std::set<std::string> names;
  for (const auto& collectable : metrics.collectables()) {
    for (const auto& family : collectable->Collect()) names.insert(family.name);
  }
  ASSERT_GT(names.size(), 30u);
  for (const std::string& name : names) {
    if (name.rfind("touchstream_", 0) != 0) continue;
    // The exact name, or a histogram's series, with its selector.
    bool shown = false;
    for (const char* suffix : {"{", "_bucket{", "_sum{", "_count{"}) {
      shown |= dashboard.str().find(name + suffix) != std::string::npos;
    }
    EXPECT_TRUE(shown) << name << " has no panel";
  }
}

}  // namespace
}  // namespace touchstream
