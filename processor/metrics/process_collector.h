// Process metrics read from /proc/self at scrape time (prometheus-cpp has no process
// collector). They use the names every Prometheus client library uses (process_cpu_seconds_total,
// process_resident_memory_bytes, process_open_fds, ...) rather than the touchstream_ prefix, so
// that standard dashboards and alerts work unchanged.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace touchstream {

// What /proc says about one process. Parsers are separate from I/O for testing.
struct ProcessStats {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // Unix time
  double open_fds = 0;
  double max_fds = 0;
};

// Fills cpu, memory and start time from the text of /proc/<pid>/stat. `ticks_per_second`,
// `page_size` and `boot_time_seconds` (the btime line of /proc/stat) convert units.
// Returns false if the text cannot be parsed.
bool ParseProcStat(const std::string& stat, double ticks_per_second, double page_size,
                   double boot_time_seconds, ProcessStats* out);
// The soft "Max open files" limit from the text of /proc/<pid>/limits; 0 if absent.
double ParseMaxOpenFiles(const std::string& limits);
// The explicit huge pages (hugetlbfs) the process holds, bytes, from the HugetlbPages line of
// /proc/<pid>/status (RocksDB's memtables under state.memtable_huge_pages: not in its RSS); 0 if
// absent.
double ParseHugetlbBytes(const std::string& status);

// Safe for concurrent use (Collect reads /proc and keeps no state).
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace touchstream
