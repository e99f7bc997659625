// The benchmark scripts' exactly_once and forwarded-event modes, small and untimed, so that they
// cannot rot: e2e.sh with GUARANTEE=exactly_once (its raw pipe then commits transactions), and
// latency.sh with exactly_once and a share of the events sent to a partition that does not own
// their customer (reported on a line of their own, each one's trigger required).
#include <gtest/gtest.h>

#include <optional>
#include <regex>
#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

// The number `pattern`'s capture group `group` matched in `out`, nullopt if it does not match.
std::optional<long> Captured(const std::string& out, const std::string& pattern, int group = 1) {
  std::smatch match;
  if (!std::regex_search(out, match, std::regex(pattern))) return std::nullopt;
  return std::stol(match[group]);
}

TEST(ExactlyOnceBenchmarkTest, EndToEndRunsWithTransactionsOnBothSides) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun e2e = RunBenchmarkScript(
      dir, "e2e.sh", {"RUNS=1", "GUARANTEE=exactly_once", "TOUCH_MIB=64"}, {"8000", "2"});
  ASSERT_EQ(e2e.exit_code, 0) << e2e.out << e2e.err;
  const std::string& out = e2e.out;
  EXPECT_NE(out.find("partitions; exactly_once"), std::string::npos) << out;
  EXPECT_NE(out.find("touchstream: 8000 events"), std::string::npos) << out;
  const std::string pipe =
      "raw pipe: [0-9]+ events per CPU-second \\(([0-9]+) transactions of ([0-9]+) events\\)";
  const std::optional<long> transactions = Captured(out, pipe, 1);
  const std::optional<long> events_each = Captured(out, pipe, 2);
  ASSERT_TRUE(transactions.has_value()) << out;
  EXPECT_GT(*transactions, 1) << out;
  EXPECT_GT(*events_each, 0) << out;
  EXPECT_NE(out.find("end to end / raw pipe: "), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("[0-9]+ commits, [0-9]+ events each, [0-9.]+ s in commits; [0-9]+ records "
                      "held and kept in memory, [0-9]+ input rewinds \\(held records fetched "
                      "again\\)")))
      << out;
  // What memory costs the machine, and the run's share of it at that rate.
  EXPECT_TRUE(std::regex_search(
      out, std::regex("fresh memory: [0-9.]+ CPU-ms per MiB to touch first, [0-9.]+ just freed")))
      << out;
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex(
          "each run's RSS growth from its first record to its peak, touched at the fresh-memory "
          "rate: ~[0-9.]+ \\([0-9]+ "
          "%\\) CPU-s")))
      << out;
}

TEST(ExactlyOnceBenchmarkTest, LatencyReportsForwardedEventsApart) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const ScriptRun latency = RunBenchmarkScript(dir, "latency.sh",
                                               {"GUARANTEE=exactly_once", "MISROUTED_PERCENT=20",
                                                "RATES=500", "STEP_SECONDS=2", "TIMER_WAIT=0"},
                                               {});
  ASSERT_EQ(latency.exit_code, 0) << latency.out << latency.err;
  const std::string& out = latency.out;
  // 1,000 events after the tool's warm-up: 800 sent to their owner, 200 forwarded.
  EXPECT_NE(out.find("rate=500 events=800 matched=800 "), std::string::npos) << out;
  EXPECT_NE(out.find("forwarded: events=200 matched=200 "), std::string::npos) << out;
  const std::optional<long> forwarded =
      Captured(out, "records forwarded through the repartition topic: ([0-9]+)");
  ASSERT_TRUE(forwarded.has_value()) << out;
  EXPECT_GE(*forwarded, 200) << out;
  EXPECT_NE(out.find("touchstream_commit_duration_seconds_count "), std::string::npos) << out;
}

}  // namespace
}  // namespace touchstream::testing
