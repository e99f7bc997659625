#include "processor/policy/quiet_hours.h"

#include <chrono>

namespace touchstream {

namespace {

using Seconds = cctz::time_point<cctz::seconds>;

Seconds ToSeconds(TimeMs t) {
  // Floor, also for times before 1970.
  const TimeMs s = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
  return Seconds(cctz::seconds(s));
}

TimeMs ToMs(Seconds s) { return s.time_since_epoch().count() * 1000; }

bool InQuietHoursAt(const cctz::civil_second& local, const QuietHours& quiet) {
  const int minute = local.hour() * 60 + local.minute();
  if (quiet.start_minute < quiet.end_minute) {
    return minute >= quiet.start_minute && minute < quiet.end_minute;
  }
  return minute >= quiet.start_minute || minute < quiet.end_minute;
}

// The first instant after `t` at which the local clock shows quiet hours' end (QuietHoursRelease),
// given the local time at `t`.
TimeMs NextEndAfter(TimeMs t, const cctz::civil_second& local, const QuietHours& quiet,
                    const cctz::time_zone& zone) {
  cctz::civil_day day(local);
  // Today's end may have passed; tomorrow's is after t whatever the DST changes in between.
  for (;; ++day) {
    const cctz::civil_second end(day.year(), day.month(), day.day(), quiet.end_minute / 60,
                                 quiet.end_minute % 60, 0);
    const cctz::time_zone::civil_lookup found = zone.lookup(end);
    TimeMs candidate = 0;
    switch (found.kind) {
      case cctz::time_zone::civil_lookup::UNIQUE:
        candidate = ToMs(found.pre);
        break;
      case cctz::time_zone::civil_lookup::SKIPPED:
        candidate = ToMs(found.trans);
        break;
      case cctz::time_zone::civil_lookup::REPEATED:
        candidate = ToMs(found.pre) > t ? ToMs(found.pre) : ToMs(found.post);
        break;
    }
    if (candidate > t) return candidate;
  }
}

}  // namespace

bool InQuietHours(TimeMs t, const QuietHours& quiet, const cctz::time_zone& zone) {
  if (!quiet.enabled) return false;
  return InQuietHoursAt(zone.lookup(ToSeconds(t)).cs, quiet);
}

std::optional<TimeMs> QuietHoursRelease(TimeMs t, const QuietHours& quiet,
                                        const cctz::time_zone& zone) {
  if (!quiet.enabled) return std::nullopt;
  const cctz::civil_second local = zone.lookup(ToSeconds(t)).cs;  // once for both
  if (!InQuietHoursAt(local, quiet)) return std::nullopt;
  return NextEndAfter(t, local, quiet, zone);
}

cctz::time_zone CustomerZone(const std::string& customer_zone, const std::string& default_zone,
                             const TimeZoneCatalog& zones) {
  if (!customer_zone.empty()) {
    if (std::optional<cctz::time_zone> zone = zones.Find(customer_zone)) return *zone;
  }
  if (std::optional<cctz::time_zone> zone = zones.Find(default_zone)) return *zone;
  return cctz::utc_time_zone();
}

}  // namespace touchstream
