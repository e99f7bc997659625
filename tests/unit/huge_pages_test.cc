// state.memtable_huge_pages: what the host offers (read from /proc and the cgroup files, here a
// fake root), the plan made of it (refused with the key named where a cgroup limit would kill
// the process), and the store opened with it: the customers' memtables ask for the pages, and
// use ordinary memory where none is free.
#include "state/huge_pages.h"

#include <gtest/gtest.h>
#include <rocksdb/convenience.h>
#include <rocksdb/utilities/options_util.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "processor/metrics/process_collector.h"
#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/test_dir.h"

namespace touchstream {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kPage = 2 * kMiB;

const char kMeminfo[] =
    "MemTotal:       24576000 kB\n"
    "HugePages_Total:     200\n"
    "HugePages_Free:      170\n"
    "HugePages_Rsvd:       20\n"
    "Hugepagesize:       2048 kB\n"
    "Hugetlb:          409600 kB\n";

TEST(HugePagesTest, MeminfoGivesThePageSizeAndThePagesNooneReserved) {
  const HugePageOffer offer = ParseMeminfo(kMeminfo);
  EXPECT_TRUE(offer.meminfo_read);
  EXPECT_EQ(offer.page_bytes, kPage);
  EXPECT_EQ(offer.free_pages, 150u);  // free, less those reserved and not yet touched
  EXPECT_EQ(ParseMeminfo("MemTotal: 1 kB\n").page_bytes, 0u);  // a kernel without hugetlbfs
  EXPECT_FALSE(ParseMeminfo("").meminfo_read);
}

TEST(HugePagesTest, WhatTheCustomersMemtablesMayTake) {
  // Three memtables of 32 MiB (16 pages), each with a page of overrun and one of bloom filter.
  EXPECT_EQ(MemtableHugePagesWanted(128 * kMiB, kPage), 3 * 18 * kPage);
  // The smallest write buffer still makes memtables of 4 MiB.
  EXPECT_EQ(MemtableHugePagesWanted(4 * kMiB, kPage), 3 * 4 * kPage);
}

TEST(HugePagesTest, CgroupLimitsAndSizeNames) {
  EXPECT_FALSE(ParseCgroupLimit("max\n"));
  EXPECT_EQ(ParseCgroupLimit("0\n"), 0u);
  EXPECT_EQ(ParseCgroupLimit("268435456\n"), 268435456u);
  EXPECT_EQ(HugePageSizeName(kPage), "2MB");
  EXPECT_EQ(HugePageSizeName(1ull << 30), "1GB");
}

TEST(HugePagesTest, EnoughFreePagesAndNoLimitUseThem) {
  HugePageOffer offer{true, kPage, 200, std::nullopt, ""};
  const HugePagePlan plan = PlanMemtableHugePages(offer, 128 * kMiB);
  EXPECT_EQ(plan.page_bytes, kPage);
  EXPECT_TRUE(plan.error.empty());
  EXPECT_TRUE(plan.warning.empty()) << plan.warning;
  EXPECT_NE(plan.info.find("200 free"), std::string::npos) << plan.info;
}

TEST(HugePagesTest, TooFewFreePagesStartWithAWarning) {
  HugePageOffer offer{true, kPage, 10, std::nullopt, ""};
  const HugePagePlan plan = PlanMemtableHugePages(offer, 128 * kMiB);
  EXPECT_EQ(plan.page_bytes, kPage);  // RocksDB uses ordinary memory for what does not fit
  EXPECT_TRUE(plan.error.empty());
  EXPECT_NE(plan.warning.find("state.memtable_huge_pages"), std::string::npos) << plan.warning;
  EXPECT_NE(plan.warning.find("vm.nr_hugepages"), std::string::npos) << plan.warning;
}

TEST(HugePagesTest, ACgroupLimitBelowTheMemtablesRefusesToStart) {
  HugePageOffer offer{true, kPage, 200, 0, "/sys/fs/cgroup/kubepods/hugetlb.2MB.max"};
  const HugePagePlan plan = PlanMemtableHugePages(offer, 128 * kMiB);
  EXPECT_EQ(plan.page_bytes, 0u);
  EXPECT_EQ(plan.error.rfind("state.memtable_huge_pages: ", 0), 0u) << plan.error;
  EXPECT_NE(plan.error.find("hugetlb.2MB.max"), std::string::npos) << plan.error;
  EXPECT_NE(plan.error.find("SIGBUS"), std::string::npos) << plan.error;
  EXPECT_NE(plan.error.find("hugepages-2Mi: 108Mi"), std::string::npos) << plan.error;

  offer.cgroup_limit_bytes = 108 * kMiB;  // what the error asked the pod to request
  EXPECT_TRUE(PlanMemtableHugePages(offer, 128 * kMiB).error.empty());
}

TEST(HugePagesTest, NoHugePagesOrPagesLargerThanAMemtableRefuseToStart) {
  const HugePagePlan unread = PlanMemtableHugePages(HugePageOffer{}, 128 * kMiB);
  EXPECT_NE(unread.error.find("cannot read /proc/meminfo"), std::string::npos) << unread.error;
  HugePageOffer no_pages;
  no_pages.meminfo_read = true;
  const HugePagePlan none = PlanMemtableHugePages(no_pages, 128 * kMiB);
  EXPECT_EQ(none.error.rfind("state.memtable_huge_pages: ", 0), 0u) << none.error;
  EXPECT_NE(none.error.find("no huge pages"), std::string::npos) << none.error;
  EXPECT_EQ(none.page_bytes, 0u);
  const HugePagePlan gigantic =
      PlanMemtableHugePages(HugePageOffer{true, 1ull << 30, 16, std::nullopt, ""}, 128 * kMiB);
  EXPECT_NE(gigantic.error.find("default_hugepagesz"), std::string::npos) << gigantic.error;
  // The smallest write buffer (4 MiB) still makes memtables of 4 MiB (state/state_db.h).
  const HugePagePlan smallest =
      PlanMemtableHugePages(HugePageOffer{true, kPage, 200, std::nullopt, ""}, 4 * kMiB);
  EXPECT_TRUE(smallest.error.empty()) << smallest.error;
  EXPECT_EQ(smallest.page_bytes, kPage);
}

class HugePagesHostTest : public ::testing::Test {
 protected:
  void Write(const std::string& path, const std::string& text) {
    const std::filesystem::path file = dir_.path() / path.substr(1);
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  testing::TestDir dir_;
};

TEST_F(HugePagesHostTest, TheLowestLimitUpTheCgroupV2TreeCounts) {
  Write("/proc/meminfo", kMeminfo);
  Write("/proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  Write("/sys/fs/cgroup/kubepods/pod1/ctr/hugetlb.2MB.max", "max\n");
  Write("/sys/fs/cgroup/kubepods/pod1/hugetlb.2MB.max", "0\n");  // a pod without the request
  Write("/sys/fs/cgroup/kubepods/hugetlb.2MB.max", "max\n");
  const HugePageOffer offer = ReadHugePageOffer(dir_.path().string());
  EXPECT_EQ(offer.page_bytes, kPage);
  EXPECT_EQ(offer.free_pages, 150u);
  ASSERT_TRUE(offer.cgroup_limit_bytes);
  EXPECT_EQ(*offer.cgroup_limit_bytes, 0u);
  EXPECT_EQ(offer.cgroup_limit_file, "/sys/fs/cgroup/kubepods/pod1/hugetlb.2MB.max");
}

TEST_F(HugePagesHostTest, CgroupV1LimitsAndNoneAtAll) {
  Write("/proc/meminfo", kMeminfo);
  Write("/proc/self/cgroup", "7:blkio,hugetlb:/docker/abc\n4:memory:/docker/abc\n");
  // v1's "no limit" is the largest page-aligned value.
  Write("/sys/fs/cgroup/blkio,hugetlb/docker/abc/hugetlb.2MB.limit_in_bytes",
        "9223372036854771712\n");
  EXPECT_FALSE(ReadHugePageOffer(dir_.path().string()).cgroup_limit_bytes);
  Write("/sys/fs/cgroup/blkio,hugetlb/docker/hugetlb.2MB.limit_in_bytes", "268435456\n");
  EXPECT_EQ(ReadHugePageOffer(dir_.path().string()).cgroup_limit_bytes, 268435456u);

  Write("/proc/self/cgroup", "0::/\n");  // no hugetlb controller anywhere
  EXPECT_FALSE(ReadHugePageOffer(dir_.path().string()).cgroup_limit_bytes);
}

TEST_F(HugePagesHostTest, ACgroupOutsideTheNamespaceReadsOnlyTheMountsOwnLimit) {
  Write("/proc/meminfo", kMeminfo);
  Write("/sys/fs/cgroup/hugetlb.2MB.max", "268435456\n");
  for (const char* cgroup : {"0::/../..\n", "0::relative\n", "0::\n"}) {
    Write("/proc/self/cgroup", cgroup);
    EXPECT_EQ(ReadHugePageOffer(dir_.path().string()).cgroup_limit_bytes, 268435456u) << cgroup;
  }
}

// Tests that map huge pages run only where that cannot cost them a SIGBUS: a cgroup limit below
// what the memtables may take refuses the plan.
bool MayMapHugePages(std::string* why) {
  const HugePagePlan plan =
      PlanMemtableHugePages(ReadHugePageOffer(), StoreMemory{}.write_buffer_bytes);
  *why = plan.error;
  return plan.error.empty();
}

// The store opened with the option asks RocksDB for the pages in the customers' column family
// only (its OPTIONS file records what it was opened with), and works whether the host has any
// free or not.
TEST(HugePagesStoreTest, TheCustomersMemtablesAskForThePages) {
  std::string why;
  if (!MayMapHugePages(&why)) GTEST_SKIP() << why;
  testing::TestDir dir;
  StoreMemory memory;
  memory.memtable_huge_page_bytes = kPage;
  const std::string path = dir / "store";
  {
    auto db = StateDb::Open(path, false, memory);
    ASSERT_TRUE(db.ok()) << db.status().message();
    CommitBatch batch(**db);
    const std::string value(300, 'v');
    for (int n = 0; n < 20'000; ++n) batch.PutCustomerValue(0, "c-" + std::to_string(n), &value);
    ASSERT_TRUE(batch.Commit().ok());
    std::string read_back;
    auto read = (*db)->ReadCustomerBytes(0, "c-19999", read_back);
    ASSERT_TRUE(read.ok());
    EXPECT_TRUE(*read);
    EXPECT_EQ(read_back, value);
  }
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = true;
  ASSERT_TRUE(rocksdb::LoadLatestOptions(config, path, &db_options, &families).ok());
  ASSERT_EQ(families.size(), 5u);
  for (const auto& family : families) {
    EXPECT_EQ(family.options.memtable_huge_page_size, family.name == "customers" ? kPage : 0)
        << family.name;
  }
}

// Where the host has free huge pages, this process holds some once the store has memtables
// (what a RocksDB that silently fell back would not). Skipped on a host without any reserved.
TEST(HugePagesStoreTest, TheMemtablesTakeFreeHugePages) {
  std::string why;
  if (!MayMapHugePages(&why)) GTEST_SKIP() << why;
  const HugePageOffer before = ReadHugePageOffer();
  if (before.page_bytes != kPage || before.free_pages < 16) {
    GTEST_SKIP() << "fewer than 16 free 2 MiB huge pages (reserve some: vm.nr_hugepages)";
  }
  auto held = [] {
    std::ifstream in("/proc/self/status");
    std::stringstream status;
    status << in.rdbuf();
    return ParseHugetlbBytes(status.str());
  };
  const double held_before = held();
  testing::TestDir dir;
  StoreMemory memory;
  memory.memtable_huge_page_bytes = kPage;
  auto db = StateDb::Open(dir / "store", false, memory);
  ASSERT_TRUE(db.ok()) << db.status().message();
  CommitBatch batch(**db);
  const std::string value(300, 'v');
  for (int n = 0; n < 20'000; ++n) batch.PutCustomerValue(0, "c-" + std::to_string(n), &value);
  ASSERT_TRUE(batch.Commit().ok());
  EXPECT_GT(held(), held_before);
}

}  // namespace
}  // namespace touchstream
