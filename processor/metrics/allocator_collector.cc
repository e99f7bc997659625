#include "processor/metrics/allocator_collector.h"

#include <dlfcn.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>

namespace touchstream {

namespace {

bool ReadSize(MallctlFn mallctl, const char* name, double& out) {
  size_t value = 0;
  size_t length = sizeof(value);
  if (mallctl(name, &value, &length, nullptr, 0) != 0) return false;
  out = static_cast<double>(value);
  return true;
}

// `out` is left as it was if `mallctl` refuses the name.
void ReadUnsigned(MallctlFn mallctl, const char* name, unsigned& out) {
  unsigned value = 0;
  size_t length = sizeof(value);
  if (mallctl(name, &value, &length, nullptr, 0) == 0) out = value;
}

bool ReadString(MallctlFn mallctl, const char* name, std::string& out) {
  const char* value = nullptr;
  size_t length = sizeof(value);
  if (mallctl(name, &value, &length, nullptr, 0) != 0 || value == nullptr) return false;
  out = value;
  return true;
}

}  // namespace

std::optional<AllocatorSettings> ReadAllocatorSettings(MallctlFn mallctl) {
  if (mallctl == nullptr) return std::nullopt;
  AllocatorSettings settings;
  if (!ReadString(mallctl, "version", settings.version)) return std::nullopt;
  ReadUnsigned(mallctl, "opt.narenas", settings.arenas);           // stays 0 if refused
  ReadString(mallctl, "opt.percpu_arena", settings.percpu_arena);  // stays empty if refused
  if (!ReadString(mallctl, "opt.thp", settings.thp)) settings.thp = "unsupported";
  return settings;
}

std::string HostThpMode(const std::string& enabled_path) {
  std::ifstream in(enabled_path);
  std::string line;
  if (!std::getline(in, line)) return "unknown";
  const size_t open = line.find('[');
  const size_t close = line.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return "unknown";
  return line.substr(open + 1, close - open - 1);
}

std::string DescribeAllocator(MallctlFn mallctl, const std::string& host_thp_mode) {
  const std::optional<AllocatorSettings> settings = ReadAllocatorSettings(mallctl);
  if (!settings) return "the system's malloc (jemalloc not loaded)";
  std::string arenas = settings->arenas == 0 ? std::string("arenas unknown")
                                             : std::to_string(settings->arenas) +
                                                   (settings->arenas == 1 ? " arena" : " arenas");
  if (settings->percpu_arena == "percpu") arenas += " (one per CPU)";
  if (settings->percpu_arena == "phycpu") arenas += " (one per physical CPU)";
  return "jemalloc " + settings->version + ", " + arenas +
         ", transparent huge pages asked for: " + settings->thp +
         " (the host's mode: " + host_thp_mode + ")";
}

std::string DescribeThisAllocator() { return DescribeAllocator(FindMallctl(), HostThpMode()); }

std::optional<AllocatorStats> ReadAllocatorStats(MallctlFn mallctl) {
  if (mallctl == nullptr) return std::nullopt;
  uint64_t epoch = 1;
  size_t length = sizeof(epoch);
  if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) return std::nullopt;
  AllocatorStats stats;
  const std::pair<const char*, double*> names[] = {
      {"stats.allocated", &stats.allocated_bytes}, {"stats.active", &stats.active_bytes},
      {"stats.resident", &stats.resident_bytes},   {"stats.mapped", &stats.mapped_bytes},
      {"stats.retained", &stats.retained_bytes},
  };
  for (const auto& [name, out] : names) {
    if (!ReadSize(mallctl, name, *out)) return std::nullopt;
  }
  return stats;
}

std::optional<std::string> AllocatorReport(MallocStatsPrintFn print, const char* options) {
  if (print == nullptr) return std::nullopt;
  std::string report;
  print([](void* opaque, const char* text) { static_cast<std::string*>(opaque)->append(text); },
        &report, options);
  return report;
}

MallocStatsPrintFn FindMallocStatsPrint() {
  return reinterpret_cast<MallocStatsPrintFn>(dlsym(RTLD_DEFAULT, "malloc_stats_print"));
}

MallctlFn FindMallctl() {
  return reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
}

std::vector<prometheus::MetricFamily> AllocatorCollector::Collect() const {
  const std::optional<AllocatorStats> stats = ReadAllocatorStats(mallctl_);
  if (!stats) return {};
  prometheus::MetricFamily family{
      "touchstream_allocator_bytes",
      "Memory of the allocator (jemalloc), by state: allocated (held by the program), active, "
      "resident, mapped, retained",
      prometheus::MetricType::Gauge,
      {}};
  const std::pair<const char*, double> values[] = {
      {"allocated", stats->allocated_bytes}, {"active", stats->active_bytes},
      {"resident", stats->resident_bytes},   {"mapped", stats->mapped_bytes},
      {"retained", stats->retained_bytes},
  };
  for (const auto& [state, value] : values) {
    prometheus::ClientMetric metric;
    metric.label.push_back({"state", state});
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  return {family};
}

}  // namespace touchstream
