// The end-to-end paired comparison (benchmarks/e2e_ab.sh, make bench-e2e-ab), small and untimed,
// so that `make test` exercises it: one build against itself, one pair; and a side whose setting
// the instance refuses, which must end the comparison naming the side and the key (the embedded
// Kafka reads the same config and refuses it first: benchmarks/lib.sh's start_kafka; a run
// argument only `run` reads: lib.sh's check_run).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

// One small pair of this build against itself, with `setting` (VAR=value) for e2e_ab.sh.
ScriptRun SmallPair(const TempDir& dir, const std::string& setting) {
  return RunBenchmarkScript(dir, "e2e_ab.sh",
                            {"EVENTS=2000", "PARTITIONS=2", "TOUCH_MIB=16", setting},
                            {TouchstreamBin(), TouchstreamBin(), "1"});
}

TEST(E2eAbBenchmarkTest, PrintsThePairAndTheMedians) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun ab = SmallPair(dir, "NEW_STATE_OPTIONS=write_buffer_bytes: 33554432");
  ASSERT_EQ(ab.exit_code, 0) << ab.out << ab.err;
  EXPECT_NE(ab.out.find("pair 1: events per CPU-second base "), std::string::npos) << ab.out;
  EXPECT_NE(ab.out.find("end to end over 1 pairs: events per CPU-second, medians base "),
            std::string::npos)
      << ab.out;
  // One pair cannot be an uneven split: p is 1.
  EXPECT_NE(ab.out.find("(sign test p 1.00)"), std::string::npos) << ab.out;
  EXPECT_NE(ab.out.find("wall-clock events per second, medians base "), std::string::npos)
      << ab.out;
}

TEST(E2eAbBenchmarkTest, ASideWhoseSettingIsRefusedEndsItNamingTheSideAndTheKey) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun ab = SmallPair(dir, "NEW_STATE_OPTIONS=no_such_key: 1");
  EXPECT_EQ(ab.exit_code, 1) << ab.out << ab.err;
  EXPECT_NE(ab.err.find("e2e_ab.sh: the new run of pair 1 failed:"), std::string::npos) << ab.err;
  EXPECT_NE(ab.err.find("the embedded Kafka did not start:"), std::string::npos) << ab.err;
  EXPECT_NE(ab.err.find("state.no_such_key: unknown key"), std::string::npos) << ab.err;
  // A run argument `run` refuses: the run exits at start, and the comparison ends with its
  // error rather than waiting out e2e.sh's deadline (benchmarks/lib.sh's check_run).
  const ScriptRun refused_arg = SmallPair(dir, "BASE_RUN_ARGS=-X no.such.property=1");
  EXPECT_EQ(refused_arg.exit_code, 1) << refused_arg.out << refused_arg.err;
  EXPECT_NE(refused_arg.err.find("e2e_ab.sh: the base run of pair 1 failed:"), std::string::npos)
      << refused_arg.err;
  EXPECT_NE(refused_arg.err.find("No such configuration property: \"no.such.property\""),
            std::string::npos)
      << refused_arg.err;
  const ScriptRun missing =
      RunBenchmarkScript(dir, "e2e_ab.sh", {}, {dir.path() + "/no-such-binary", "x", "1"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no-such-binary is not an executable"), std::string::npos)
      << missing.err;
}

}  // namespace
}  // namespace touchstream::testing
