#include "processor/policy/time_zone_catalog.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

namespace touchstream {

TimeZoneCatalog::TimeZoneCatalog(std::set<std::string> names) {
  names.insert("UTC");
  zones_.reserve(names.size());
  for (const std::string& name : names) {
    zones_.emplace(std::piecewise_construct, std::forward_as_tuple(name), std::forward_as_tuple());
  }
}

TimeZoneCatalog TimeZoneCatalog::FromDirectory(const std::string& zoneinfo_dir) {
  std::set<std::string> names;
  std::ifstream in(zoneinfo_dir + "/tzdata.zi");
  std::string line;
  // zic input: "Z <name> ..." declares a zone, "L <target> <name>" a link (an alias).
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, first, second;
    fields >> kind >> first >> second;
    if (kind == "Z" && !first.empty()) names.insert(first);
    if (kind == "L" && !second.empty()) names.insert(second);
  }
  return TimeZoneCatalog(std::move(names));
}

const TimeZoneCatalog& TimeZoneCatalog::System() {
  static const TimeZoneCatalog* const catalog = [] {
    const char* dir = std::getenv("TZDIR");
    return new TimeZoneCatalog(
        FromDirectory(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo"));
  }();
  return *catalog;
}

std::optional<cctz::time_zone> TimeZoneCatalog::Find(const std::string& name) const {
  auto it = zones_.find(name);
  if (it == zones_.end()) return std::nullopt;
  const Zone& entry = it->second;
  std::call_once(entry.loaded, [&] {
    if (name == "UTC") {
      entry.zone = cctz::utc_time_zone();
      return;
    }
    cctz::time_zone zone;
    if (cctz::load_time_zone(name, &zone)) entry.zone = zone;
  });
  return entry.zone;
}

}  // namespace touchstream
