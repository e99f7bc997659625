// The soak's script (benchmarks/soak.sh, make bench-soak), one small untimed run, so that
// `make test` exercises it: the warm-up puts every customer of the pool in the store (one page
// view each) and waits until the run applied them, then the journeys run while RSS and where it
// goes are sampled, and the verdict is printed. Flat or not is the benchmark's finding, not this
// test's: a run this short and small says nothing about it.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(SoakBenchmarkTest, TheWarmUpPutsThePoolInTheStoreAndTheSamplesFollowIt) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun soak = RunBenchmarkScript(
      dir, "soak.sh",
      {"CUSTOMERS=3000", "SECONDS_TO_RUN=12", "RATE=500", "SAMPLE=2", "PARTITIONS=2",
       "WARM_UP_RATE=3000"},
      {});
  ASSERT_EQ(soak.exit_code, 0) << soak.out << soak.err;
  const std::string& out = soak.out;
  EXPECT_NE(out.find("warm-up: 3000 applied after"), std::string::npos) << out;
  EXPECT_NE(out.find("soak: 6000 events at 500/s over 3000 customers"), std::string::npos) << out;
  // The verdict over the second half's samples, flat or not.
  EXPECT_NE(out.find("second half ("), std::string::npos) << out;
  EXPECT_NE(out.find(" flat"), std::string::npos) << out;
}

}  // namespace
}  // namespace touchstream::testing
