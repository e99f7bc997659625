// The IANA time zones touchstream accepts: the names the installed tz database lists
// (`tzdata.zi`'s zones and links), read once. A zone name from an event is only ever looked up
// here, never handed to the tz library directly: CCTZ would open any path it is given
// ("/etc/passwd", "../x") and keeps every name it was asked for in memory for good.
//
// Each zone is loaded from its file the first time it is asked for and kept: Find, called for
// every policy decision, is then one hash lookup without a lock (CCTZ's own lookup by name,
// load_time_zone, takes a process-wide lock for each call). A zone whose file does not load stays
// unloaded.
//
// The set of names is fixed at construction; safe for concurrent use (each zone loads once).
#pragma once

#include <cctz/time_zone.h>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

namespace touchstream {

class TimeZoneCatalog {
 public:
  // Exactly `names` (plus "UTC", always known: CCTZ needs no file for it). For tests.
  explicit TimeZoneCatalog(std::set<std::string> names);

  // The zones listed in `<zoneinfo_dir>/tzdata.zi` (Debian's tzdata). A missing or unreadable
  // file gives a catalog of "UTC" alone.
  static TimeZoneCatalog FromDirectory(const std::string& zoneinfo_dir);

  // The system's catalog: $TZDIR if set (as CCTZ reads it), else /usr/share/zoneinfo; loaded on
  // first use and kept for the life of the process.
  static const TimeZoneCatalog& System();

  bool Knows(const std::string& name) const { return zones_.count(name) > 0; }

  // The zone named `name`, nullopt when the catalog does not know it or its file does not load.
  std::optional<cctz::time_zone> Find(const std::string& name) const;

  size_t size() const { return zones_.size(); }

 private:
  // A known name's zone, loaded by the first Find of it (under `loaded`: Find is const).
  struct Zone {
    mutable std::once_flag loaded;
    mutable std::optional<cctz::time_zone> zone;
  };
  // The map's shape never changes after construction (its nodes, and each Zone's flag, never
  // move; moving the catalog moves the map's nodes whole).
  std::unordered_map<std::string, Zone> zones_;
};

}  // namespace touchstream
