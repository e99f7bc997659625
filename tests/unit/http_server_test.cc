#include "processor/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "processor/metrics/allocator_collector.h"

namespace touchstream {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpServer> Start(bool customers, bool allocator = false) {
    auto server = HttpServer::Start({"127.0.0.1:0", 1000, customers, allocator}, metrics_, health_);
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

// A rebalance's restore holds the loop inside one poll: its progress keeps /healthz live.
TEST_F(HttpServerTest, HealthzFollowsRebalanceProgressInsideAPoll) {
  auto server = Start(false);
  health_.RecordProgress(SteadyNowMs());  // restoring before the first poll returned
  EXPECT_EQ(server->Get("/healthz").status, 200);
  health_.RecordPoll(SteadyNowMs() - 5000);
  EXPECT_EQ(server->Get("/healthz").status, 200);
  health_.RecordProgress(SteadyNowMs() - 3000);  // no step forward within the 1000 ms allowed
  const auto stuck = server->Get("/healthz");
  EXPECT_EQ(stuck.status, 503);
  EXPECT_NE(stuck.body.find("last poll 5"), std::string::npos) << stuck.body;
  EXPECT_NE(stuck.body.find("last rebalance progress 3"), std::string::npos) << stuck.body;
  health_.RecordPoll(SteadyNowMs());
  EXPECT_EQ(server->Get("/healthz").status, 200);
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

TEST_F(HttpServerTest, TheAllocatorReportIsOffByDefault) {
  auto server = Start(false);
  const auto report = server->Get("/debug/allocator");
  EXPECT_EQ(report.status, 404);
  EXPECT_EQ(report.body, "not found\n");
}

TEST_F(HttpServerTest, TheAllocatorReportIsJemallocsOrNotFound) {
  auto server = Start(false, true);
  const auto report = server->Get("/debug/allocator");
  if (FindMallocStatsPrint() == nullptr) {  // the unit tests run on the system's malloc
    EXPECT_EQ(report.status, 404);
    EXPECT_EQ(report.body, "not running on jemalloc: no allocator report\n");
  } else {
    EXPECT_EQ(report.status, 200);
    EXPECT_NE(report.body.find("jemalloc statistics"), std::string::npos) << report.body;
  }
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

// A TCP connection to 127.0.0.1:`port`, with reads bounded by `timeout_ms`; -1 on failure.
int Connect(int port, int timeout_ms) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(HttpServerTest, SlowClientsCannotStarveTheProbes) {
  auto server = Start(false);
  health_.RecordPoll(SteadyNowMs());
  const int port = server->ports().at(0);
  // Clients that connect and send nothing each hold a worker until the request timeout.
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(Connect(port, 1000));
  const int probe = Connect(port, 1500);
  ASSERT_GE(probe, 0);
  const std::string request = "GET /healthz HTTP/1.0\r\n\r\n";
  ASSERT_EQ(write(probe, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buf[256] = {};
  const ssize_t n = read(probe, buf, sizeof(buf) - 1);
  EXPECT_GT(n, 0) << "no answer to /healthz within 1.5 s while 8 idle clients are connected";
  EXPECT_NE(std::string(buf).find(" 200 "), std::string::npos) << buf;
  close(probe);
  for (int fd : idle) close(fd);
}

// The whole answer to `GET path` over a connection to the server, or "" on failure.
std::string HttpGetOver(int port, const std::string& path) {
  const int fd = Connect(port, 2000);
  if (fd < 0) return "";
  const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  std::string answer;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) answer.append(buf, n);
  }
  close(fd);
  return answer;
}

// Customer ids may hold '/' and dots (percent-encoded in the path): each is looked up as it is,
// decoded once, never as a path that civetweb cleaned ("a//b" read as "a/b", "x/../y" as "y":
// another customer's state).
TEST_F(HttpServerTest, ACustomerIdIsDecodedOnceAndNeverNormalizedAsAPath) {
  auto server = Start(true);
  std::vector<std::string> asked;
  std::mutex mutex;
  server->SetCustomerLookup([&](const std::string& id) -> StatusOr<std::optional<std::string>> {
    std::lock_guard<std::mutex> lock(mutex);
    asked.push_back(id);
    return std::optional<std::string>("{}");
  });
  const int port = server->ports().at(0);
  for (const char* path :
       {"/customers/a%2F%2Fb", "/customers/x%2F..%2Fy", "/customers/50%25off", "/customers/amy"}) {
    const std::string answer = HttpGetOver(port, path);
    EXPECT_NE(answer.find(" 200 "), std::string::npos) << path << ": " << answer;
  }
  EXPECT_EQ(asked, (std::vector<std::string>{"a//b", "x/../y", "50%off", "amy"}));
}

TEST_F(HttpServerTest, ClearingTheLookupWaitsForALookupInProgress) {
  auto server = Start(true);
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  server->SetCustomerLookup([&](const std::string&) -> StatusOr<std::optional<std::string>> {
    entered = true;
    while (!release.load()) std::this_thread::yield();
    return std::optional<std::string>("{}");
  });
  std::thread request([&] { EXPECT_EQ(server->Get("/customers/alice").status, 200); });
  while (!entered.load()) std::this_thread::yield();
  // Shutdown clears the lookup before it closes the store the lookup reads.
  std::atomic<bool> cleared{false};
  std::thread shutdown([&] {
    server->SetCustomerLookup(nullptr);
    cleared = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(cleared.load()) << "the lookup was cleared while it was still running";
  release = true;
  request.join();
  shutdown.join();
  EXPECT_TRUE(cleared.load());
  EXPECT_EQ(server->Get("/customers/alice").status, 503);
}

TEST_F(HttpServerTest, BadListenAddressIsAnError) {
  auto server = HttpServer::Start({"not-an-address", 1000, false}, metrics_, health_);
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace touchstream
