#include "state/huge_pages.h"

#include <charconv>
#include <sstream>
#include <vector>

#include "processor/core/text_file.h"
#include "state/disk_space.h"
#include "state/state_db.h"

namespace touchstream {

namespace {

std::string_view Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::optional<uint64_t> ParseNumber(std::string_view s) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// `mount` + `cgroup_path`, then each of its parents up to `mount` itself; only `mount` for a path
// that is not absolute or leaves it ("/../..": a cgroup outside this namespace).
std::vector<std::string> UpToMount(const std::string& mount, std::string_view cgroup_path) {
  std::vector<std::string> dirs;
  std::string path(Trim(cgroup_path));
  if (path.empty() || path[0] != '/' || path.find("..") != std::string::npos) path.clear();
  while (!path.empty() && path != "/") {
    dirs.push_back(mount + path);
    path.resize(path.rfind('/'));  // found: the path starts with '/'
  }
  dirs.push_back(mount);
  return dirs;
}

// A Kubernetes quantity of at least `bytes`: "288Mi".
std::string KubernetesQuantity(uint64_t bytes) {
  return std::to_string((bytes + (1ull << 20) - 1) >> 20) + "Mi";
}

}  // namespace

HugePageOffer ParseMeminfo(std::string_view meminfo) {
  HugePageOffer offer;
  offer.meminfo_read = !meminfo.empty();
  uint64_t free = 0;
  uint64_t reserved = 0;
  while (!meminfo.empty()) {
    const auto eol = meminfo.find('\n');
    const std::string_view line = meminfo.substr(0, eol);
    meminfo = eol == std::string_view::npos ? std::string_view() : meminfo.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    const bool in_kb = value.size() > 3 && value.substr(value.size() - 3) == " kB";
    if (in_kb) value = Trim(value.substr(0, value.size() - 3));
    const std::optional<uint64_t> number = ParseNumber(value);
    if (!number) continue;
    if (key == "Hugepagesize") offer.page_bytes = in_kb ? *number * 1024 : *number;
    if (key == "HugePages_Free") free = *number;
    if (key == "HugePages_Rsvd") reserved = *number;
  }
  offer.free_pages = free > reserved ? free - reserved : 0;
  return offer;
}

std::optional<uint64_t> ParseCgroupLimit(std::string_view text) { return ParseNumber(Trim(text)); }

std::string HugePageSizeName(uint64_t page_bytes) {
  if (page_bytes >= (1ull << 30) && page_bytes % (1ull << 30) == 0) {
    return std::to_string(page_bytes >> 30) + "GB";
  }
  if (page_bytes >= (1ull << 20) && page_bytes % (1ull << 20) == 0) {
    return std::to_string(page_bytes >> 20) + "MB";
  }
  return std::to_string(page_bytes >> 10) + "KB";
}

uint64_t MemtableHugePagesWanted(uint64_t write_buffer_bytes, uint64_t page_bytes) {
  if (page_bytes == 0) return 0;
  const uint64_t memtable_pages = (MemtableBytes(write_buffer_bytes) + page_bytes - 1) / page_bytes;
  // + 1 for the arena block being filled when the memtable is switched, + 1 for the bloom filter.
  return kMaxMemtables * (memtable_pages + 2) * page_bytes;
}

HugePagePlan PlanMemtableHugePages(const HugePageOffer& offer, uint64_t write_buffer_bytes) {
  HugePagePlan plan;
  const std::string key = "state.memtable_huge_pages: ";
  if (!offer.meminfo_read) {
    plan.error = key + "cannot read /proc/meminfo to find the host's huge pages";
    return plan;
  }
  if (offer.page_bytes == 0) {
    plan.error = key + "this host has no huge pages (/proc/meminfo reports no Hugepagesize)";
    return plan;
  }
  // RocksDB maps what MAP_HUGETLB gives, the host's default size, and rounds each arena block up
  // to whole pages: pages larger than a memtable waste most of each.
  const uint64_t memtable_bytes = MemtableBytes(write_buffer_bytes);
  if (offer.page_bytes > memtable_bytes) {
    plan.error = key + "the host's default huge pages (" + HumanBytes(offer.page_bytes) +
                 ", the kernel's default_hugepagesz) are larger than a memtable (a quarter of "
                 "state.write_buffer_bytes, at least 4 MiB: " +
                 HumanBytes(memtable_bytes) + ")";
    return plan;
  }
  const uint64_t wanted = MemtableHugePagesWanted(write_buffer_bytes, offer.page_bytes);
  const std::string size = HugePageSizeName(offer.page_bytes);
  if (offer.cgroup_limit_bytes && *offer.cgroup_limit_bytes < wanted) {
    // Kubernetes names the sizes 2Mi, 1Gi where the kernel says 2MB, 1GB.
    const std::string resource = "hugepages-" + size.substr(0, size.size() - 1) + "i";
    plan.error = key + "this process's cgroup may use " + HumanBytes(*offer.cgroup_limit_bytes) +
                 " of " + size + " huge pages (" + offer.cgroup_limit_file +
                 "), less than the customers' memtables may take (" + HumanBytes(wanted) +
                 "); past the limit the kernel would kill the process (SIGBUS). On Kubernetes "
                 "request " +
                 resource + ": " + KubernetesQuantity(wanted) +
                 " or more (requests = limits), or turn the key off";
    return plan;
  }
  plan.page_bytes = offer.page_bytes;
  const uint64_t free_bytes = offer.free_pages * offer.page_bytes;
  plan.info = "customers' memtables in " + size +
              " huge pages: " + std::to_string(offer.free_pages) + " free (" +
              HumanBytes(free_bytes) + "), the memtables may take " + HumanBytes(wanted);
  if (free_bytes < wanted) {
    plan.warning = key + "only " + std::to_string(offer.free_pages) + " huge pages of " + size +
                   " are free (" + HumanBytes(free_bytes) +
                   "), less than the customers' memtables may take (" + HumanBytes(wanted) +
                   "): what does not fit uses ordinary memory (reserve more with "
                   "vm.nr_hugepages)";
  }
  return plan;
}

HugePageOffer ReadHugePageOffer(const std::string& root) {
  HugePageOffer offer = ParseMeminfo(ReadTextFileOrEmpty(root + "/proc/meminfo"));
  if (offer.page_bytes == 0) return offer;
  const std::string size = HugePageSizeName(offer.page_bytes);
  const std::string cgroups = ReadTextFileOrEmpty(root + "/proc/self/cgroup");
  std::istringstream lines(cgroups);
  for (std::string line; std::getline(lines, line);) {
    // "0::/path" (cgroup v2), "N:hugetlb:/path" (v1; the controller may share a hierarchy).
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = std::string_view(line).substr(second + 1);
    std::vector<std::string> dirs;
    std::string file;
    if (controllers.empty()) {
      dirs = UpToMount(root + "/sys/fs/cgroup", path);
      file = "hugetlb." + size + ".max";
    } else if (("," + controllers + ",").find(",hugetlb,") != std::string::npos) {
      dirs = UpToMount(root + "/sys/fs/cgroup/" + controllers, path);  // "hugetlb" mostly
      file = "hugetlb." + size + ".limit_in_bytes";
    } else {
      continue;
    }
    for (const std::string& dir : dirs) {
      const std::optional<uint64_t> limit = ParseCgroupLimit(ReadTextFileOrEmpty(dir + "/" + file));
      // cgroup v1's "no limit" is the largest page-aligned value, not "max".
      if (!limit || *limit >= (uint64_t{1} << 62)) continue;
      if (!offer.cgroup_limit_bytes || *limit < *offer.cgroup_limit_bytes) {
        offer.cgroup_limit_bytes = limit;
        offer.cgroup_limit_file = dir.substr(root.size()) + "/" + file;
      }
    }
  }
  return offer;
}

}  // namespace touchstream
