// The soak's script (benchmarks/soak.sh, make bench-soak), one small untimed run, so that
// `make test` exercises it: the warm-up puts every customer of the pool in the store (one page
// view each) and waits until the run applied them, then the journeys run while RSS and where it
// goes are sampled, and the verdict, the run's cost per event, its split by thread group and the
// timers popped and triggers sent per event are printed; the run's allocator report is saved at
// the start and the end of the measured run when asked for. Flat or not is the benchmark's
// finding, not this test's: a run this short and small says nothing about it.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(SoakBenchmarkTest, TheWarmUpPutsThePoolInTheStoreAndTheSamplesFollowIt) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  const std::string reports = dir.path() + "/allocator";
  const ScriptRun soak =
      RunBenchmarkScript(dir, "soak.sh",
                         {"CUSTOMERS=3000", "SECONDS_TO_RUN=12", "RATE=500", "SAMPLE=2",
                          "PARTITIONS=2", "WARM_UP_RATE=3000", "ALLOCATOR_REPORT=" + reports},
                         {});
  ASSERT_EQ(soak.exit_code, 0) << soak.out << soak.err;
  const std::string& out = soak.out;
  EXPECT_NE(out.find("warm-up: 3000 applied after"), std::string::npos) << out;
  EXPECT_NE(out.find("soak: 6000 events at 500/s over 3000 customers"), std::string::npos) << out;
  // The verdict over the second half's samples (a run shorter than 10 minutes), flat or not.
  EXPECT_NE(out.find("last 6 s ("), std::string::npos) << out;
  EXPECT_NE(out.find(" flat"), std::string::npos) << out;
  // The steady state's cost over the same window, from the operating system's counts.
  EXPECT_NE(out.find("last 6 s: "), std::string::npos) << out;
  EXPECT_NE(out.find("K events per CPU-second, "), std::string::npos) << out;
  EXPECT_NE(out.find(" minor page faults per second"), std::string::npos) << out;
  // And where the CPU went, by thread group: librdkafka's threads and the processing thread work
  // in any run.
  std::smatch split;
  ASSERT_TRUE(std::regex_search(
      out, split,
      std::regex("RocksDB's flushes and compactions ([0-9.]+) %, librdkafka ([0-9.]+) %, the "
                 "processing thread and the rest ([0-9.]+) %")))
      << out;
  EXPECT_GT(std::stod(split[2]), 0.0) << "librdkafka's threads fetch and produce: " << out;
  EXPECT_GT(std::stod(split[3]), 0.0) << "the processing thread applies the events: " << out;
  // And the work the events made besides their own, per event. loadgen's event times lie 30 days
  // back and the caught-up run's timers follow the wall clock: every absence timer an event arms
  // (the cart and win-back rules') is due at once, so timers pop and triggers go out in any run.
  std::smatch work;
  ASSERT_TRUE(std::regex_search(
      out, work,
      std::regex("last 6 s, per event applied: ([0-9.]+) timer entries popped, ([0-9.]+) triggers "
                 "sent, ([0-9.]+) deferred and ([0-9.]+) suppressed by the policies")))
      << out;
  EXPECT_GT(std::stod(work[1]), 0.0) << out;
  EXPECT_GT(std::stod(work[2]), 0.0) << out;
  // jemalloc's own report from the run, without the HTTP headers, at both ends.
  for (const char* when : {".start", ".end"}) {
    std::ifstream in(reports + when);
    const std::string report{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(report.rfind("___ Begin jemalloc statistics ___", 0), 0u) << when << ": " << report;
    EXPECT_NE(report.find("bins:"), std::string::npos) << when;
  }
}

}  // namespace
}  // namespace touchstream::testing
