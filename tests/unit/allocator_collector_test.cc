#include "processor/metrics/allocator_collector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace touchstream {
namespace {

// A stand-in for jemalloc's mallctl: the epoch must be advanced before the totals are read
// (jemalloc refreshes them only then), and each read returns the value set for its name.
std::map<std::string, size_t> fake_values;
uint64_t fake_epoch = 0;

int FakeMallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen) {
  const std::string key(name);
  if (key == "epoch") {
    if (newp == nullptr || newlen != sizeof(uint64_t)) return 22;
    ++fake_epoch;
    std::memcpy(oldp, &fake_epoch, sizeof(fake_epoch));
    return 0;
  }
  auto it = fake_values.find(key);
  if (it == fake_values.end() || *oldlenp != sizeof(size_t)) return 2;  // ENOENT
  std::memcpy(oldp, &it->second, sizeof(size_t));
  return 0;
}

TEST(AllocatorCollectorTest, ReadsEveryStateAfterAdvancingTheEpoch) {
  fake_values = {{"stats.allocated", 100}, {"stats.active", 120}, {"stats.resident", 200},
                 {"stats.mapped", 300},    {"stats.retained", 50}};
  fake_epoch = 0;
  const auto families = AllocatorCollector(&FakeMallctl).Collect();
  EXPECT_EQ(fake_epoch, 1u);
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "touchstream_allocator_bytes");
  std::map<std::string, double> by_state;
  for (const auto& metric : families[0].metric) {
    ASSERT_EQ(metric.label.size(), 1u);
    EXPECT_EQ(metric.label[0].name, "state");
    by_state[metric.label[0].value] = metric.gauge.value;
  }
  EXPECT_EQ(by_state, (std::map<std::string, double>{{"allocated", 100},
                                                     {"active", 120},
                                                     {"resident", 200},
                                                     {"mapped", 300},
                                                     {"retained", 50}}));
}

TEST(AllocatorCollectorTest, ReportsNothingWithoutTheAllocatorOrWhenANameIsRefused) {
  EXPECT_TRUE(AllocatorCollector(nullptr).Collect().empty());
  fake_values = {{"stats.allocated", 100}};  // the rest refused
  EXPECT_TRUE(AllocatorCollector(&FakeMallctl).Collect().empty());
}

// jemalloc's string options: mallctl writes a `const char*` into oldp.
std::map<std::string, const char*> fake_strings;

// ... and its unsigned ones (opt.narenas) an `unsigned`.
std::map<std::string, unsigned> fake_unsigned;

int FakeOptionMallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen) {
  if (newp != nullptr) return 2;
  if (auto it = fake_unsigned.find(name); it != fake_unsigned.end()) {
    if (*oldlenp != sizeof(unsigned)) return 2;
    std::memcpy(oldp, &it->second, sizeof(unsigned));
    return 0;
  }
  auto it = fake_strings.find(name);
  if (it == fake_strings.end() || *oldlenp != sizeof(const char*)) return 2;
  std::memcpy(oldp, &it->second, sizeof(const char*));
  return 0;
}

TEST(AllocatorCollectorTest, DescribesTheVersionTheArenasAndTheTransparentHugePageMode) {
  fake_strings = {
      {"version", "5.3.0-0-g54eaed1d"}, {"opt.percpu_arena", "percpu"}, {"opt.thp", "always"}};
  fake_unsigned = {{"opt.narenas", 2}};
  const auto settings = ReadAllocatorSettings(&FakeOptionMallctl);
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->version, "5.3.0-0-g54eaed1d");
  EXPECT_EQ(settings->arenas, 2u);
  EXPECT_EQ(settings->percpu_arena, "percpu");
  EXPECT_EQ(settings->thp, "always");
  EXPECT_EQ(DescribeAllocator(&FakeOptionMallctl, "madvise"),
            "jemalloc 5.3.0-0-g54eaed1d, 2 arenas (one per CPU), transparent huge pages asked "
            "for: always (the host's mode: madvise)");
  fake_strings["opt.percpu_arena"] = "disabled";
  fake_unsigned = {{"opt.narenas", 1}};
  EXPECT_EQ(DescribeAllocator(&FakeOptionMallctl, "madvise"),
            "jemalloc 5.3.0-0-g54eaed1d, 1 arena, transparent huge pages asked for: always (the "
            "host's mode: madvise)");

  fake_strings = {{"version", "5.0.1-0-g896ed3a"}};  // built without the options
  fake_unsigned = {};
  EXPECT_EQ(DescribeAllocator(&FakeOptionMallctl, "never"),
            "jemalloc 5.0.1-0-g896ed3a, arenas unknown, transparent huge pages asked for: "
            "unsupported (the host's mode: never)");
  fake_strings = {};
  EXPECT_FALSE(ReadAllocatorSettings(&FakeOptionMallctl).has_value());
  EXPECT_EQ(DescribeAllocator(nullptr, "madvise"), "the system's malloc (jemalloc not loaded)");
}

TEST(AllocatorCollectorTest, ReadsTheHostsTransparentHugePageModeFromItsBracketedWord) {
  const std::string path = ::testing::TempDir() + "/thp_enabled";
  std::ofstream(path) << "always [madvise] never\n";
  EXPECT_EQ(HostThpMode(path), "madvise");
  std::ofstream(path) << "[always] madvise never\n";
  EXPECT_EQ(HostThpMode(path), "always");
  std::ofstream(path) << "garbage\n";
  EXPECT_EQ(HostThpMode(path), "unknown");
  EXPECT_EQ(HostThpMode(path + ".absent"), "unknown");
}

// A stand-in for jemalloc's malloc_stats_print: writes its report in pieces, as jemalloc does.
std::string fake_print_options;
void FakeMallocStatsPrint(void (*write)(void*, const char*), void* opaque, const char* options) {
  fake_print_options = options;
  write(opaque, "___ Begin jemalloc statistics ___\n");
  write(opaque, "bins:  size ind allocated\n");
  write(opaque, "--- End jemalloc statistics ---\n");
}

TEST(AllocatorCollectorTest, TheReportIsWhatJemallocWritesWithTheArenasMerged) {
  const std::optional<std::string> report = AllocatorReport(&FakeMallocStatsPrint);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(*report,
            "___ Begin jemalloc statistics ___\nbins:  size ind allocated\n"
            "--- End jemalloc statistics ---\n");
  EXPECT_EQ(fake_print_options, "a");
  EXPECT_FALSE(AllocatorReport(nullptr).has_value());
}

// The binary's own allocator is checked by PrometheusTest: the dashboard's memory panel queries
// touchstream_allocator_bytes from a running `touchstream run`, whose /debug/allocator it reads.

}  // namespace
}  // namespace touchstream
