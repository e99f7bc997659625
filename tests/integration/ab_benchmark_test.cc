// The paired comparison script (benchmarks/ab.sh, make bench-ab), small and untimed, so that
// `make test` exercises it: one build against itself on the quickest micro benchmark.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

#ifdef TOUCHSTREAM_BENCH_BIN_PATH

TEST(AbBenchmarkTest, PrintsEveryPairAndTheMedianRatio) {
  TempDir dir;
  const std::string bench = TOUCHSTREAM_BENCH_BIN_PATH;
  const ScriptRun ab = RunBenchmarkScript(
      dir, "ab.sh", {"FILTER=BM_DecodeAndValidate", "MIN_TIME=0.02"}, {bench, bench, "2"});
  ASSERT_EQ(ab.exit_code, 0) << ab.out << ab.err;
  EXPECT_NE(ab.out.find("pair 1 BM_DecodeAndValidate: base "), std::string::npos) << ab.out;
  EXPECT_NE(ab.out.find("pair 2 BM_DecodeAndValidate: base "), std::string::npos) << ab.out;
  EXPECT_NE(ab.out.find("BM_DecodeAndValidate: new / base over 2 pairs, median CPU "),
            std::string::npos)
      << ab.out;
  // Two pairs can never be an uneven enough split to mean anything: p is 0.5 or 1.
  EXPECT_TRUE(ab.out.find("(sign test p 0.50)") != std::string::npos ||
              ab.out.find("(sign test p 1.00)") != std::string::npos)
      << ab.out;
}

TEST(AbBenchmarkTest, ABenchmarkThatDoesNotRunFailsWithItsName) {
  TempDir dir;
  const std::string bench = TOUCHSTREAM_BENCH_BIN_PATH;
  const ScriptRun missing =
      RunBenchmarkScript(dir, "ab.sh", {}, {dir.path() + "/no-such-bench", bench, "1"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no-such-bench is not an executable"), std::string::npos)
      << missing.err;
  const ScriptRun unmatched =
      RunBenchmarkScript(dir, "ab.sh", {"FILTER=BM_NoSuchBenchmark"}, {bench, bench, "1"});
  EXPECT_EQ(unmatched.exit_code, 1);
  EXPECT_NE(unmatched.err.find("ran no benchmark matching 'BM_NoSuchBenchmark'"), std::string::npos)
      << unmatched.err;
}

#endif  // TOUCHSTREAM_BENCH_BIN_PATH

}  // namespace
}  // namespace touchstream::testing
