// Outbox backpressure end to end (processor/run/outbox_backpressure.h): with a small
// processing.max_outbox_records, a trigger-heavy load makes the relay's backlog cross the
// limit; input pauses, resumes, and every event is still processed and every record
// acknowledged. Runs the end-to-end benchmark script (benchmarks/e2e.sh, one run, its baselines
// included) small and untimed, so the script is exercised by `make test` too.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(BackpressureTest, InputPausesForTheOutboxBacklogAndNothingIsLost) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun e2e = RunBenchmarkScript(
      dir, "e2e.sh", {"RUNS=1", "E2E_CONFIG=processing: {max_outbox_records: 1000}"},
      {"30000", "4"});
  ASSERT_EQ(e2e.exit_code, 0) << e2e.out << e2e.err;
  const std::string& out = e2e.out;
  EXPECT_NE(out.find("input paused "), std::string::npos) << out;
  // The script waits until all 30,000 events are applied and the outbox is empty, then measures
  // the baselines on the same topic.
  EXPECT_NE(out.find("touchstream: 30000 events"), std::string::npos) << out;
  EXPECT_NE(out.find("end to end: "), std::string::npos) << out;
  EXPECT_NE(out.find("raw consumer: "), std::string::npos) << out;
  EXPECT_NE(out.find("raw pipe: "), std::string::npos) << out;
  EXPECT_NE(out.find("end to end / raw consumer: "), std::string::npos) << out;
  // What `run` fetched from the brokers (its statistics reports): every record read, at least.
  std::smatch fetched;
  ASSERT_TRUE(std::regex_search(
      out, fetched,
      std::regex("([0-9]+) records fetched from the brokers for the ([0-9]+) read \\(")))
      << out;
  EXPECT_GE(std::stoll(fetched[1]), std::stoll(fetched[2])) << out;
  EXPECT_GE(std::stoll(fetched[2]), 30000) << out;
}

}  // namespace
}  // namespace touchstream::testing
