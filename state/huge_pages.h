// Explicit huge pages (hugetlbfs) for RocksDB's memtables: state.memtable_huge_pages.
//
// The commit path's writes are RocksDB's memtable inserts: skip-list searches over memtables of
// tens of MiB, random in memory, into arena blocks the process touches for the first time. In
// 2 MiB pages the CPU's TLB covers a whole memtable, and a fresh 4 MiB arena block is two page
// faults instead of 1,024 (benchmarks/RESULTS.md, forty-second session). RocksDB allocates each
// arena block (and each memtable's bloom filter) as an anonymous MAP_HUGETLB mapping when its
// memtable_huge_page_size is set, and uses ordinary memory for a block when none is free.
//
// Unlike transparent huge pages (processor/cli/malloc_conf.cc), these come from a pool the host
// reserves up front (vm.nr_hugepages): no RSS grows behind the allocator's back, and the
// memtables' memory shows as the process's HugetlbPages, not its RSS. What can go wrong is a
// cgroup that limits huge pages (a Kubernetes pod without a hugepages-2Mi request has a limit of
// 0): the kernel checks that limit when a page is first touched, and a process past it is
// killed by SIGBUS. So a limit below what the memtables may take fails the start-up instead.
//
// The pure part (ParseMeminfo, ParseCgroupLimit, PlanMemtableHugePages) decides from what the
// host says; ReadHugePageOffer reads it from /proc and /sys/fs/cgroup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchstream {

// What the host offers.
struct HugePageOffer {
  uint64_t page_bytes = 0;  // Hugepagesize; 0: the host reports none
  uint64_t free_pages = 0;  // HugePages_Free
  // The lowest huge page limit (bytes, pages of page_bytes) of this process's cgroup and its
  // ancestors; nullopt: none (no hugetlb controller, or "max" all the way up).
  std::optional<uint64_t> cgroup_limit_bytes;
  std::string cgroup_limit_file;  // where the limit was read (for the messages)
};

// Hugepagesize and HugePages_Free of /proc/meminfo's text (0 where a line is missing).
HugePageOffer ParseMeminfo(std::string_view meminfo);

// A cgroup limit file's value: "max" (or anything unreadable) is no limit.
std::optional<uint64_t> ParseCgroupLimit(std::string_view text);

// The cgroup files' name for pages of `page_bytes`: "2MB", "1GB" (as the kernel names them).
std::string HugePageSizeName(uint64_t page_bytes);

// What the memtables may take at once: the mutable ones up to state.write_buffer_bytes, and as
// much again in immutable ones while they are flushed.
inline uint64_t MemtableHugePagesWanted(uint64_t write_buffer_bytes) {
  return 2 * write_buffer_bytes;
}

struct HugePagePlan {
  uint64_t page_bytes = 0;  // RocksDB's memtable_huge_page_size; 0: ordinary memory
  std::string error;        // non-empty: refuse to start (names the config key)
  std::string warning;      // non-empty: start, but log this
  std::string info;         // what was found, for the start-up log
};

// The plan for state.memtable_huge_pages on, with a write buffer of `write_buffer_bytes`.
HugePagePlan PlanMemtableHugePages(const HugePageOffer& offer, uint64_t write_buffer_bytes);

// Reads /proc/meminfo and the cgroup limits (v2: hugetlb.<size>.max; v1: the hugetlb
// controller's hugetlb.<size>.limit_in_bytes) of this process's cgroup and its ancestors.
// `root` prefixes every path (tests).
HugePageOffer ReadHugePageOffer(const std::string& root = "");

}  // namespace touchstream
