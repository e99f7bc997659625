// The restore benchmark's script (benchmarks/restore.sh), one small untimed run, so that
// `make test` exercises it: a load processed and stopped, a warm restart on the same state
// directory, a cold restore into an empty one, and one from a compacted copy of the changelog
// (`touchstream_baseline compact` into a topic `embedded-kafka --topic` created); the script
// itself fails unless the customer states after each equal the states after the load
// (`touchstream state-dump`).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

// The number right after `label` in `text`; -1 when there is none.
long NumberAfter(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return -1;
  try {
    return std::stol(text.substr(at + label.size()));
  } catch (const std::exception&) {
    return -1;
  }
}

TEST(RestoreBenchmarkTest,
     ColdRestoresFromTheChangelogAndItsCompactedCopyAndAWarmRestartEndWithTheLoadsState) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  // 500 customers, and commits of 100 events: each customer changes in several commits, so
  // compaction leaves fewer records (with the default commits the load, read at once, could fit
  // one commit per partition: seen once in CI).
  const ScriptRun restore = RunBenchmarkScript(
      dir, "restore.sh", {"RUNS=1", "CUSTOMERS=500", "PROCESSING=commit_max_events: 100"},
      {"5000", "2"});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  const std::string& out = restore.out;
  EXPECT_NE(out.find("equals the state after the load"), std::string::npos) << out;
  EXPECT_NE(out.find("warm restart: 2 partitions ready"), std::string::npos) << out;
  EXPECT_NE(out.find("cold restore: "), std::string::npos) << out;
  // Some customers were restored (the load leaves state for most of its customers).
  EXPECT_EQ(out.find("cold restore: 0 customers"), std::string::npos) << out;
  EXPECT_NE(out.find("raw consumer reads them"), std::string::npos) << out;
  const long records = NumberAfter(out, "  changelog: ");
  const long compacted = NumberAfter(out, "compacted copy: ");
  EXPECT_GT(compacted, 0) << out;
  EXPECT_LT(compacted, records) << out;
  EXPECT_NE(out.find("compacted cold restore: "), std::string::npos) << out;
  EXPECT_EQ(out.find("compacted cold restore: 0 customers"), std::string::npos) << out;
  EXPECT_NE(out.find("compacted cold restore records/s / raw consumer records/s on the copy"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace touchstream::testing
