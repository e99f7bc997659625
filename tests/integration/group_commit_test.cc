// Group commit (ConsumeLoop::CommitIntervalEnded): a commit interval shorter than the relay's
// round trip must not queue commits behind each other. Each commit's changelog markers wait for
// its records' acknowledgements and nothing later goes out before them, so before group commit a
// 2 ms interval at 1,000 events/s fell behind without bound (no trigger of a step arrived within
// its 32 s). Runs the latency benchmark's script (benchmarks/latency.sh) small and untimed: it
// fails unless every event's trigger arrives; the figures it prints are not checked.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(GroupCommitTest, ACommitIntervalShorterThanTheRelaysRoundTripStillDeliversEveryTrigger) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const std::string port = std::to_string(FreeLoopbackPort());
  ChildProcess latency(
      {"/usr/bin/env", "TOUCHSTREAM_BIN=" + TouchstreamBin(), "PORT=" + port, "COMMIT_INTERVAL=2ms",
       "RATES=1000", "STEP_SECONDS=2", "TIMER_WAIT=0", "bash",
       SourceDir() + "/benchmarks/latency.sh"},
      dir.path() + "/latency");
  ASSERT_EQ(latency.Wait(std::chrono::seconds(150)), 0) << latency.Stdout() << latency.Stderr();
  const std::string out = latency.Stdout();
  EXPECT_NE(out.find("rate=1000 events=2000 matched=2000 "), std::string::npos) << out;
  EXPECT_NE(out.find("touchstream_timer_fire_delay_seconds_count"), std::string::npos) << out;
}

}  // namespace
}  // namespace touchstream::testing
