// The restore benchmark's script (benchmarks/restore.sh), one small untimed run, so that
// `make test` exercises it: a load processed and stopped, a warm restart on the same state
// directory, a cold restore into an empty one; the script itself fails unless the customer
// states after both equal the states after the load (`touchstream state-dump`).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(RestoreBenchmarkTest, AColdRestoreAndAWarmRestartEndWithTheLoadsState) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun restore = RunBenchmarkScript(dir, "restore.sh", {"RUNS=1"}, {"5000", "2"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  const std::string& out = restore.out;
  EXPECT_NE(out.find("equals the state after the load"), std::string::npos) << out;
  EXPECT_NE(out.find("warm restart: 2 partitions ready"), std::string::npos) << out;
  EXPECT_NE(out.find("cold restore: "), std::string::npos) << out;
  // Some customers were restored (the load leaves state for most of its customers).
  EXPECT_EQ(out.find("cold restore: 0 customers"), std::string::npos) << out;
  EXPECT_NE(out.find("raw consumer reads them"), std::string::npos) << out;
}

}  // namespace
}  // namespace touchstream::testing
