// Allocator metrics read at scrape time from jemalloc (the binary's allocator, CMakeLists.txt),
// found at run time: a process without jemalloc (the unit tests) reports none. They split the
// resident memory into what the program holds and what the allocator keeps around it, so that a
// growing RSS can be told apart from fragmentation or pages not yet returned:
//   touchstream_allocator_bytes{state="allocated"}  bytes the program has allocated and not freed
//   {state="active"}    pages holding those allocations (allocated + rounding within pages)
//   {state="resident"}  pages of the allocator that are resident: active, the allocator's own
//                        metadata, and freed pages not yet returned to the system (the decay)
//   {state="mapped"}    address space the allocator maps; {state="retained"}: unmapped but kept
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace touchstream {

// jemalloc's mallctl(3) signature.
using MallctlFn = int (*)(const char* name, void* oldp, size_t* oldlenp, void* newp,
                          size_t newlen);

struct AllocatorStats {
  double allocated_bytes = 0;
  double active_bytes = 0;
  double resident_bytes = 0;
  double mapped_bytes = 0;
  double retained_bytes = 0;
};

// Advances jemalloc's statistics epoch (its totals are refreshed only then) and reads them;
// nullopt if `mallctl` is null or refuses a name.
std::optional<AllocatorStats> ReadAllocatorStats(MallctlFn mallctl);

// What the allocator was asked for (processor/cli/malloc_conf.cc, overridden by MALLOC_CONF):
// jemalloc's version; its arenas: how many (opt.narenas; 0 if it refuses the name) and how
// threads are bound to them (opt.percpu_arena: "percpu", one per CPU and a thread uses the one of
// the CPU it runs on; "phycpu", per physical CPU; "disabled", threads assigned round-robin; empty
// if refused); and its transparent huge page option, opt.thp ("always", "never", "default";
// jemalloc says "not supported" where it cannot read the host's mode, and "unsupported" stands
// for a jemalloc without the option). Asked for is not got: with the host's mode `never`
// "always" gets no huge pages. nullopt if `mallctl` is null or refuses "version".
struct AllocatorSettings {
  std::string version;
  unsigned arenas = 0;
  std::string percpu_arena;
  std::string thp;
};
std::optional<AllocatorSettings> ReadAllocatorSettings(MallctlFn mallctl);

// The host's transparent huge page mode: the bracketed word of `enabled_path` ("always",
// "madvise", "never"), or "unknown" if it cannot be read.
inline constexpr char kHostThpModePath[] = "/sys/kernel/mm/transparent_hugepage/enabled";
std::string HostThpMode(const std::string& enabled_path = kHostThpModePath);

// One line for `--version` and the start-up log: "jemalloc 5.3.0-0-g54eaed1d, 2 arenas,
// transparent huge pages asked for: never (the host's mode: madvise)" (", 2 arenas (one per
// CPU)," under percpu_arena), or "the system's malloc (jemalloc not loaded)".
std::string DescribeAllocator(MallctlFn mallctl, const std::string& host_thp_mode);

// The process's mallctl if jemalloc is loaded, else null.
MallctlFn FindMallctl();

// DescribeAllocator of this process on this host (FindMallctl, HostThpMode).
std::string DescribeThisAllocator();

// jemalloc's malloc_stats_print(3) signature.
using MallocStatsPrintFn = void (*)(void (*write)(void* opaque, const char* text), void* opaque,
                                    const char* options);

// jemalloc's own report of its statistics, as malloc_stats_print(3) writes it with `options`
// (by default "a": the arenas merged, without a section per arena): among the rest, for each
// small size class ("bins") the regions in use and the slabs holding them (util: how full those
// slabs are), which is where a resident size above the allocated one goes when the program's
// frees leave partly used slabs behind. Safe from any thread; a report made while another
// thread advances the statistics epoch (a /metrics scrape) may mix two snapshots. nullopt if
// `print` is null.
inline constexpr char kAllocatorReportOptions[] = "a";
std::optional<std::string> AllocatorReport(MallocStatsPrintFn print,
                                           const char* options = kAllocatorReportOptions);

// The process's malloc_stats_print if jemalloc is loaded, else null.
MallocStatsPrintFn FindMallocStatsPrint();

// Safe for concurrent scrapes (mallctl is thread-safe; Collect keeps no state).
class AllocatorCollector : public prometheus::Collectable {
 public:
  explicit AllocatorCollector(MallctlFn mallctl = FindMallctl()) : mallctl_(mallctl) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  MallctlFn mallctl_;
};

}  // namespace touchstream
