#include "processor/http/http_server.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpServer> Start(bool customers) {
    auto server = HttpServer::Start({"127.0.0.1:0", 1000, customers}, metrics_, health_);
    EXPECT_TRUE(server.ok()) << server.status().message();
    return std::move(*server);
  }
  Metrics metrics_{"touchpoints", {"cart_1h"}};
  HealthState health_;
};

TEST_F(HttpServerTest, HealthzFollowsTheLastPoll) {
  auto server = Start(false);
  EXPECT_EQ(server->Get("/healthz").status, 503);  // never polled
  health_.RecordPoll(SteadyNowMs());
  EXPECT_EQ(server->Get("/healthz").status, 200);
  health_.RecordPoll(SteadyNowMs() - 5000);  // older than the 1000 ms allowed
  const auto stale = server->Get("/healthz");
  EXPECT_EQ(stale.status, 503);
  EXPECT_NE(stale.body.find("last poll"), std::string::npos) << stale.body;
}

TEST_F(HttpServerTest, ReadyzNeedsStoreAssignmentAndDisk) {
  auto server = Start(false);
  EXPECT_EQ(server->Get("/readyz").body, "state store not open\n");
  health_.SetStoreOpen(true);
  EXPECT_EQ(server->Get("/readyz").body, "no input partitions assigned\n");
  health_.SetAssignedPartitions(2);
  EXPECT_EQ(server->Get("/readyz").status, 200);
  health_.SetDiskFull(true);
  EXPECT_EQ(server->Get("/readyz").body,
            "state filesystem below state.min_free_bytes: processing paused\n");
  health_.SetDiskFull(false);
  EXPECT_EQ(server->Get("/readyz").status, 200);
  health_.SetFatal(true);
  EXPECT_EQ(server->Get("/readyz").status, 503);
}

TEST_F(HttpServerTest, MetricsIncludeRegistryAndProcessMetrics) {
  auto server = Start(false);
  metrics_.events_deduplicated().Increment(3);
  const auto response = server->Get("/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("\ntouchstream_events_deduplicated_total 3\n"), std::string::npos);
  EXPECT_NE(response.body.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(response.body.find("touchstream_build_info{"), std::string::npos);
}

TEST_F(HttpServerTest, CustomersEndpointIsOffByDefault) {
  auto server = Start(false);
  server->SetCustomerLookup([](const std::string&) -> StatusOr<std::optional<std::string>> {
    return std::optional<std::string>("{}");
  });
  EXPECT_EQ(server->Get("/customers/alice").status, 404);
}

TEST_F(HttpServerTest, CustomersEndpointAnswersFromTheLookup) {
  auto server = Start(true);
  EXPECT_EQ(server->Get("/customers/alice").status, 503);  // no store yet
  server->SetCustomerLookup([](const std::string& id) -> StatusOr<std::optional<std::string>> {
    if (id == "alice") return std::optional<std::string>("{\"id\":\"alice\"}");
    return std::optional<std::string>();
  });
  const auto alice = server->Get("/customers/alice");
  EXPECT_EQ(alice.status, 200);
  EXPECT_EQ(alice.content_type, "application/json");
  EXPECT_EQ(alice.body, "{\"id\":\"alice\"}\n");
  EXPECT_EQ(server->Get("/customers/bob").status, 404);
  EXPECT_EQ(server->Get("/customers/").status, 400);
  EXPECT_EQ(server->Get("/nothing").status, 404);
}

TEST_F(HttpServerTest, BadListenAddressIsAnError) {
  auto server = HttpServer::Start({"not-an-address", 1000, false}, metrics_, health_);
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace touchstream
