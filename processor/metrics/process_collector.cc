#include "processor/metrics/process_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <sstream>

#include "processor/core/text_file.h"

namespace touchstream {

namespace {

double BootTimeSeconds() {
  std::istringstream in(ReadTextFileOrEmpty("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

double CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {name, help, type, {metric}};
}

}  // namespace

bool ParseProcStat(const std::string& stat, double ticks_per_second, double page_size,
                   double boot_time_seconds, ProcessStats* out) {
  // The command name (field 2) is in parentheses and may contain spaces: parse after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() < 22) return false;
  try {
    const double utime = std::stod(fields[11]);       // field 14
    const double stime = std::stod(fields[12]);       // field 15
    const double start_ticks = std::stod(fields[19]);  // field 22
    out->cpu_seconds = (utime + stime) / ticks_per_second;
    out->start_time_seconds = boot_time_seconds + start_ticks / ticks_per_second;
    out->virtual_memory_bytes = std::stod(fields[20]);       // field 23, bytes
    out->resident_memory_bytes = std::stod(fields[21]) * page_size;  // field 24, pages
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

double ParseMaxOpenFiles(const std::string& limits) {
  std::istringstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream values(line.substr(14));
    std::string soft;
    values >> soft;
    if (soft == "unlimited") return 0;
    try {
      return std::stod(soft);
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

double ParseHugetlbBytes(const std::string& status) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view kKey = "HugetlbPages:";
    if (line.rfind(kKey, 0) != 0) continue;
    std::istringstream value(line.substr(kKey.size()));
    double kib = 0;
    return value >> kib ? kib * 1024 : 0;
  }
  return 0;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  ProcessStats stats;
  if (!ParseProcStat(ReadTextFileOrEmpty("/proc/self/stat"),
                     static_cast<double>(sysconf(_SC_CLK_TCK)),
                     static_cast<double>(sysconf(_SC_PAGESIZE)), BootTimeSeconds(), &stats)) {
    return {};
  }
  stats.open_fds = CountOpenFds();
  stats.max_fds = ParseMaxOpenFiles(ReadTextFileOrEmpty("/proc/self/limits"));
  return {
      Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
             MetricType::Counter, stats.cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
             stats.resident_memory_bytes),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
             stats.virtual_memory_bytes),
      Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, stats.start_time_seconds),
      Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
             stats.open_fds),
      Family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
             stats.max_fds),
      Family("touchstream_process_huge_pages_bytes",
             "Explicit huge pages the process holds (RocksDB's memtables under "
             "state.memtable_huge_pages), not counted in process_resident_memory_bytes.",
             MetricType::Gauge, ParseHugetlbBytes(ReadTextFileOrEmpty("/proc/self/status"))),
  };
}

}  // namespace touchstream
