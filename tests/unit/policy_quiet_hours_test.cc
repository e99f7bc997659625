#include <gtest/gtest.h>

#include "processor/policy/quiet_hours.h"
#include "tests/unit/policy_test_support.h"

namespace touchstream {
namespace {

using testing::At;
using testing::Zones;

QuietHours Quiet(int start_h, int start_m, int end_h, int end_m) {
  return {true, start_h * 60 + start_m, end_h * 60 + end_m};
}

cctz::time_zone Zone(const std::string& name) { return *Zones().Find(name); }

std::string Release(const std::string& t, const QuietHours& quiet, const std::string& zone) {
  std::optional<TimeMs> end = QuietHoursRelease(At(t), quiet, Zone(zone));
  return end ? FormatTime(*end) : "not quiet";
}

TEST(QuietHoursTest, WrapsMidnightInLocalTime) {
  const QuietHours q = Quiet(21, 0, 8, 0);
  // Berlin in summer is UTC+2: 21:30 local.
  EXPECT_EQ(Release("2026-07-01T19:30:00Z", q, "Europe/Berlin"), "2026-07-02T06:00:00Z");
  // 02:00 local, after midnight: released the same local morning.
  EXPECT_EQ(Release("2026-07-02T00:00:00Z", q, "Europe/Berlin"), "2026-07-02T06:00:00Z");
  EXPECT_EQ(Release("2026-07-01T18:59:59Z", q, "Europe/Berlin"), "not quiet");  // 20:59:59
  EXPECT_EQ(Release("2026-07-01T19:00:00Z", q, "Europe/Berlin"), "2026-07-02T06:00:00Z");
  EXPECT_EQ(Release("2026-07-02T06:00:00Z", q, "Europe/Berlin"), "not quiet");  // end excluded
}

TEST(QuietHoursTest, WindowWithinOneDay) {
  const QuietHours q = Quiet(12, 0, 14, 0);
  EXPECT_EQ(Release("2026-07-01T13:00:00Z", q, "UTC"), "2026-07-01T14:00:00Z");
  EXPECT_EQ(Release("2026-07-01T11:59:59.999Z", q, "UTC"), "not quiet");
  EXPECT_EQ(Release("2026-07-01T14:00:00Z", q, "UTC"), "not quiet");
}

TEST(QuietHoursTest, ReleaseFollowsTheSpringForwardChange) {
  // 2026-03-08: New York moves from EST (UTC-5) to EDT (UTC-4) at 02:00 local. A trigger due
  // 03:30Z (22:30 EST on the 7th) is released at 08:00 EDT = 12:00Z, not 08:00 EST = 13:00Z.
  EXPECT_EQ(Release("2026-03-08T03:30:00Z", Quiet(21, 0, 8, 0), "America/New_York"),
            "2026-03-08T12:00:00Z");
}

TEST(QuietHoursTest, EndInsideTheDstGapIsTheFirstInstantAfterIt) {
  // 02:30 does not exist in New York on 2026-03-08 (02:00 EST → 03:00 EDT = 07:00Z).
  EXPECT_EQ(Release("2026-03-08T06:00:00Z", Quiet(22, 0, 2, 30), "America/New_York"),
            "2026-03-08T07:00:00Z");
}

TEST(QuietHoursTest, EndThatOccursTwiceIsTheFirstOccurrenceAfterTheTrigger) {
  // 2026-11-01: 02:00 EDT → 01:00 EST (06:00Z); 01:30 occurs at 05:30Z and at 06:30Z.
  const QuietHours q = Quiet(21, 0, 1, 30);
  EXPECT_EQ(Release("2026-11-01T04:00:00Z", q, "America/New_York"), "2026-11-01T05:30:00Z");
  // 01:10 EST, the second pass: the first 01:30 after it is the EST one.
  EXPECT_EQ(Release("2026-11-01T06:10:00Z", q, "America/New_York"), "2026-11-01T06:30:00Z");
}

TEST(QuietHoursTest, OffMeansNeverQuiet) {
  EXPECT_FALSE(InQuietHours(At("2026-07-01T23:00:00Z"), QuietHours{}, Zone("UTC")));
}

TEST(QuietHoursTest, CustomerZoneFallsBackToTheConfiguredOne) {
  const TimeMs t = At("2026-07-01T12:00:00Z");
  const auto offset = [t](const cctz::time_zone& zone) {
    return zone.lookup(cctz::time_point<cctz::seconds>(cctz::seconds(t / 1000))).offset;
  };
  EXPECT_EQ(offset(CustomerZone("Asia/Tokyo", "Europe/Berlin", Zones())), 9 * 3600);
  EXPECT_EQ(offset(CustomerZone("", "Europe/Berlin", Zones())), 2 * 3600);
  EXPECT_EQ(offset(CustomerZone("Nowhere/Else", "Europe/Berlin", Zones())), 2 * 3600);
}

}  // namespace
}  // namespace touchstream
