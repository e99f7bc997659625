// Quiet hours (issue 12, step 3) in the customer's local time, DST-correct through the system tz
// database (CCTZ). Pure: the zone is passed in, no clock is read.
#pragma once

#include <cctz/time_zone.h>

#include <optional>

#include "processor/core/time.h"
#include "processor/policy/policy_config.h"
#include "processor/policy/time_zone_catalog.h"

namespace touchstream {

// Whether local time at `t` in `zone` falls in [start, end) (wrapping midnight when
// start > end). Always false when quiet hours are off.
bool InQuietHours(TimeMs t, const QuietHours& quiet, const cctz::time_zone& zone);

// When `t` is in quiet hours, the first instant after `t` at which the local clock in `zone`
// shows their end: an end inside a DST gap (a local time that does not exist that day) is the
// first instant after the gap; an end that occurs twice (clocks set back) is the first
// occurrence after `t`. Else nullopt.
std::optional<TimeMs> QuietHoursRelease(TimeMs t, const QuietHours& quiet,
                                        const cctz::time_zone& zone);

// The zone to apply to a customer: their own (PolicyState.timezone) when `zones` knows it, else
// the configured default (policies.timezone, checked at start-up), else UTC.
cctz::time_zone CustomerZone(const std::string& customer_zone, const std::string& default_zone,
                             const TimeZoneCatalog& zones);

}  // namespace touchstream
