// Group commit (processor/run/commit_due.h): a commit interval shorter than the relay's round
// trip must not queue commits behind each other. Each commit's changelog markers wait for its
// records' acknowledgements and nothing later goes out before them, so without group commit a
// 2 ms interval at 1,000 events/s fell behind without bound while the embedded Kafka still held
// acknowledgements 40 ms (Nagle). Since it turns Nagle off, this test passes without group
// commit too: it is the latency script's smoke run at a short interval (benchmarks/latency.sh,
// small and untimed, failing unless every event's trigger arrives); CommitDueTest covers the
// decision itself.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(GroupCommitTest, ACommitIntervalShorterThanTheRelaysRoundTripStillDeliversEveryTrigger) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun latency = RunBenchmarkScript(
      dir, "latency.sh", {"COMMIT_INTERVAL=2ms", "RATES=1000", "STEP_SECONDS=2", "TIMER_WAIT=0"},
      {});
  ASSERT_EQ(latency.exit_code, 0) << latency.out << latency.err;
  const std::string& out = latency.out;
  EXPECT_NE(out.find("rate=1000 events=2000 matched=2000 "), std::string::npos) << out;
}

}  // namespace
}  // namespace touchstream::testing
