// The IANA time zones touchstream accepts: the names the installed tz database lists
// (`tzdata.zi`'s zones and links), read once. A zone name from an event is only ever looked up
// here, never handed to the tz library directly: CCTZ would open any path it is given
// ("/etc/passwd", "../x") and keeps every name it was asked for in memory for good.
//
// Immutable after construction; safe for concurrent use (CCTZ's own zone cache is).
#pragma once

#include <cctz/time_zone.h>

#include <optional>
#include <set>
#include <string>

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

  bool Knows(const std::string& name) const { return names_.count(name) > 0; }

  // The zone named `name`, nullopt when the catalog does not know it or its file does not load.
  std::optional<cctz::time_zone> Find(const std::string& name) const;

  size_t size() const { return names_.size(); }

 private:
  const std::set<std::string> names_;
};

}  // namespace touchstream
