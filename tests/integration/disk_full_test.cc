// A state directory on a small tmpfs that fills up under load: the processor must stop
// advancing and emitting, say so (log line, touchstream_state_writes_paused, /readyz), keep
// running, and resume when space returns, with nothing lost. Oracle and invariants I1-I3:
// tests/integration/oracle.h. Needs root (it mounts a tmpfs); skipped otherwise.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/integration/oracle.h"
#include "tests/integration/tmpfs.h"

namespace touchstream::testing {
namespace {

template <typename Predicate>
bool Eventually(Predicate predicate, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return predicate();
}

TEST(DiskFullTest, PausesWhileTheStateDiskIsFullAndResumesLosingNothing) {
  TempDir dir;
  const std::string mnt = dir.path() + "/mnt";
  TmpfsMount tmpfs(mnt, 64 * kMiB);
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << tmpfs.error();

  const int http_port = FreeLoopbackPort();
  ClusterConfig config;
  config.group_id = "diskfull";
  config.partitions = 2;
  config.processing = "commit_interval: 20ms, commit_max_events: 200";
  config.http = "listen: \"127.0.0.1:" + std::to_string(http_port) + "\"";
  config.state_root = mnt;
  config.state = "min_free_bytes: " + std::to_string(16 * kMiB);
  config.rules = kCart2mRules;
  Cluster cluster(dir, config);
  ASSERT_TRUE(cluster.started());

  const auto events = JourneyLoad(41, 300, 4500);
  auto produce_part = [&](int part) { cluster.Produce(Part(events, part, 3)); };
  auto metrics = [&] { return HttpGet(http_port, "/metrics").body; };

  ChildProcess& processor = cluster.Start("run");
  ASSERT_TRUE(Eventually([&] { return HttpGet(http_port, "/readyz").status == 200; },
                         std::chrono::seconds(30)))
      << processor.Stderr();
  produce_part(0);
  const double first_part = static_cast<double>(events.size() / 3);
  ASSERT_TRUE(Eventually(
      [&] { return MetricSum(metrics(), "touchstream_records_consumed_total") >= first_part; },
      std::chrono::seconds(30)))
      << processor.Stderr();

  // Something else fills the filesystem to 4 MiB short of full, below the 16 MiB reserve.
  const std::string filler = mnt + "/filler";
  FillUntil(filler, 4 * kMiB);
  ASSERT_LT(AvailableBytes(mnt), 16 * kMiB);
  produce_part(1);
  ASSERT_TRUE(cluster.WaitForLog("run", "pausing: the state filesystem", std::chrono::seconds(20)))
      << processor.Stderr();
  ASSERT_TRUE(Eventually([&] { return HttpGet(http_port, "/readyz").status == 503; },
                         std::chrono::seconds(5)));
  EXPECT_NE(HttpGet(http_port, "/readyz").body.find("state.min_free_bytes"), std::string::npos);
  EXPECT_EQ(MetricSum(metrics(), "touchstream_state_writes_paused"), 1);
  EXPECT_EQ(MetricSum(metrics(), "touchstream_state_disk_pauses_total"), 1);

  // Paused: nothing consumed, nothing emitted, still alive.
  const std::string before = metrics();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::string after = metrics();
  EXPECT_EQ(MetricSum(before, "touchstream_records_consumed_total"),
            MetricSum(after, "touchstream_records_consumed_total"));
  EXPECT_EQ(MetricSum(before, "touchstream_triggers_emitted_total"),
            MetricSum(after, "touchstream_triggers_emitted_total"));
  EXPECT_EQ(HttpGet(http_port, "/healthz").status, 200);
  ASSERT_TRUE(processor.running());

  // Space returns: it resumes by itself and catches up.
  std::filesystem::remove(filler);
  ASSERT_TRUE(cluster.WaitForLog("run", "resuming", std::chrono::seconds(10)))
      << processor.Stderr();
  ASSERT_TRUE(Eventually([&] { return HttpGet(http_port, "/readyz").status == 200; },
                         std::chrono::seconds(30)))
      << HttpGet(http_port, "/readyz").body << processor.Stderr();
  EXPECT_EQ(MetricSum(metrics(), "touchstream_state_writes_paused"), 0);
  produce_part(2);

  const auto input = cluster.ReadInput(events.size());
  const Oracle oracle = BacktestOracle(config.rules, input);
  ASSERT_GT(oracle.triggers.size(), 50u);
  cluster.ExpectOracleFrom("run", oracle, std::chrono::seconds(60));
}

}  // namespace
}  // namespace touchstream::testing
