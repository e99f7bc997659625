// Explicit huge pages (hugetlbfs) for the customers' memtables: state.memtable_huge_pages.
//
// Most of the commit path's writes are inserts into the customers' memtables: skip-list searches
// over memtables of tens of MiB, random in memory, into arena blocks the process touches for the
// first time. In 2 MiB pages the CPU's TLB reaches much more of a memtable, and a fresh 2 MiB
// arena block is one page fault instead of 512 (benchmarks/RESULTS.md, forty-second session).
// With memtable_huge_page_size set, RocksDB maps each arena block (and each memtable's bloom
// filter) as anonymous MAP_HUGETLB memory of whole pages, and uses ordinary memory for a block
// when none is free.
//
// Unlike transparent huge pages (processor/cli/malloc_conf.cc), these come from a pool the host
// reserves up front (vm.nr_hugepages): no RSS grows behind the allocator's back, and the
// memtables' memory shows as the process's HugetlbPages, not its RSS. The pool is the host's
// memory, pinned whether used or not. What can go wrong is a cgroup that limits huge pages (a
// Kubernetes pod without a hugepages-2Mi request has a limit of 0): the kernel checks that limit
// when a page is first touched, and kills a process past it with SIGBUS. Only the customers'
// memtables use the pages, so that what they may take has a bound (MemtableHugePagesWanted), and
// a cgroup limit below it fails the start-up instead.
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
  bool meminfo_read = false;  // /proc/meminfo could be read
  uint64_t page_bytes = 0;    // Hugepagesize, the size MAP_HUGETLB maps; 0: the host has none
  // HugePages_Free less HugePages_Rsvd (free pages other processes reserved but not yet touched).
  uint64_t free_pages = 0;
  // The lowest huge page limit (bytes, pages of page_bytes) of this process's cgroup and its
  // ancestors; nullopt: none (no hugetlb controller, or "max" all the way up).
  std::optional<uint64_t> cgroup_limit_bytes;
  std::string cgroup_limit_file;  // where the limit was read (for the messages)
};

// Hugepagesize, and HugePages_Free less HugePages_Rsvd, of /proc/meminfo's text (0 where a line
// is missing). Sets meminfo_read.
HugePageOffer ParseMeminfo(std::string_view meminfo);

// A cgroup limit file's value: "max" (or anything unreadable) is no limit.
std::optional<uint64_t> ParseCgroupLimit(std::string_view text);

// The cgroup files' name for pages of `page_bytes`: "2MB", "1GB" (as the kernel names them).
std::string HugePageSizeName(uint64_t page_bytes);

// The most the customers' memtables may take in pages of `page_bytes`: kMaxMemtables
// (state/state_db.h) memtables of MemtableBytes each, which may overrun by the arena block being
// filled, and rounded up to whole pages, and each one's bloom filter in a page of its own
// (a filter of 1 % of the memtable fits one 2 MiB page up to memtables of 200 MiB).
uint64_t MemtableHugePagesWanted(uint64_t write_buffer_bytes, uint64_t page_bytes);

struct HugePagePlan {
  uint64_t page_bytes = 0;  // RocksDB's memtable_huge_page_size; 0: ordinary memory
  std::string error;        // non-empty: refuse to start (names the config key)
  std::string warning;      // non-empty: start, but log this
  std::string info;         // what was found, for the start-up log
};

// The plan for state.memtable_huge_pages on, with a write buffer of `write_buffer_bytes`.
HugePagePlan PlanMemtableHugePages(const HugePageOffer& offer, uint64_t write_buffer_bytes);

// Reads /proc/meminfo and the cgroup limits of this process's cgroup and its ancestors, as
// /proc/self/cgroup names them: cgroup v2's hugetlb.<size>.max under /sys/fs/cgroup, v1's
// hugetlb.<size>.limit_in_bytes under /sys/fs/cgroup/<its hierarchy's controllers> (the usual
// mounts; /proc/self/mountinfo is not read). A file that cannot be read counts as no limit; the
// reservation limits (hugetlb.<size>.rsvd.max), which only make RocksDB fall back, are not read.
// `root` prefixes every path (tests).
HugePageOffer ReadHugePageOffer(const std::string& root = "");

}  // namespace touchstream
