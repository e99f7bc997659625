#include "processor/metrics/process_collector.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

// A real /proc/<pid>/stat line; the command name contains a space and a parenthesis.
constexpr char kStat[] =
    "4242 (touch stream) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 9 0 1000 "
    "1166376960 5498 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessCollectorTest, ParsesCpuMemoryAndStartTime) {
  ProcessStats stats;
  ASSERT_TRUE(ParseProcStat(kStat, 100, 4096, 1'700'000'000, &stats));
  EXPECT_DOUBLE_EQ(stats.cpu_seconds, 3.0);  // (250 + 50) ticks / 100
  EXPECT_DOUBLE_EQ(stats.start_time_seconds, 1'700'000'010.0);
  EXPECT_DOUBLE_EQ(stats.virtual_memory_bytes, 1166376960.0);
  EXPECT_DOUBLE_EQ(stats.resident_memory_bytes, 5498.0 * 4096);
}

TEST(ProcessCollectorTest, RejectsTruncatedStat) {
  ProcessStats stats;
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 2 3", 100, 4096, 0, &stats));
}

TEST(ProcessCollectorTest, ReadsSoftOpenFilesLimit) {
  EXPECT_EQ(ParseMaxOpenFiles("Limit                     Soft Limit           Hard Limit\n"
                              "Max open files            20000                524288  files\n"),
            20000);
  EXPECT_EQ(ParseMaxOpenFiles("Max cpu time unlimited unlimited seconds\n"), 0);
}

TEST(ProcessCollectorTest, ParsesTheHugePagesHeld) {
  EXPECT_EQ(ParseHugetlbBytes("VmRSS:\t  407020 kB\nHugetlbPages:\t   75776 kB\nThreads: 40\n"),
            75776.0 * 1024);
  EXPECT_EQ(ParseHugetlbBytes("VmRSS:\t  407020 kB\n"), 0);  // a kernel without hugetlbfs
}

TEST(ProcessCollectorTest, CollectsThisProcess) {
  const auto families = ProcessCollector().Collect();
  ASSERT_EQ(families.size(), 7u);
  EXPECT_EQ(families[0].name, "process_cpu_seconds_total");
  EXPECT_GT(families[1].metric.at(0).gauge.value, 0);  // resident memory
  EXPECT_GT(families[4].metric.at(0).gauge.value, 0);  // open fds: at least stdin/out/err
  EXPECT_EQ(families[6].name, "touchstream_process_huge_pages_bytes");
}

}  // namespace
}  // namespace touchstream
