#include "processor/core/time.h"

#include <gtest/gtest.h>

#include "processor/core/trigger_id.h"

namespace touchstream {
namespace {

TEST(TimeTest, ParsesDurationsWithUnits) {
  EXPECT_EQ(ParseDuration("0"), 0);
  EXPECT_EQ(ParseDuration("500ms"), 500);
  EXPECT_EQ(ParseDuration("90s"), 90'000);
  EXPECT_EQ(ParseDuration("15m"), 15 * kMinuteMs);
  EXPECT_EQ(ParseDuration("1h"), kHourMs);
  EXPECT_EQ(ParseDuration("30d"), 30 * kDayMs);
  for (const char* bad : {"", "h", "1", "-1h", "1.5h", "1 h", "1w", "99999999999999999999d"}) {
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(FormatDuration(90'000), "90s");
  EXPECT_EQ(FormatDuration(2 * kDayMs), "2d");
}

TEST(TimeTest, TimestampsRoundTripIncludingBefore1970) {
  for (TimeMs t : {0LL, 1767225600123LL, -1LL, -1001LL}) {
    EXPECT_EQ(ToTimeMs(ToTimestamp(t)), t);
  }
  EXPECT_EQ(FormatTime(1767225600000), "2026-01-01T00:00:00Z");
  EXPECT_EQ(ParseTime("2026-01-01T00:00:00.250Z"), 1767225600250);
  EXPECT_EQ(ParseTime("yesterday"), std::nullopt);
}

TEST(TriggerIdTest, StableAndDistinctPerField) {
  const std::string id = MakeTriggerId("cart_1h", "c1", v1::TRIGGER_TYPE_CART_ABANDONED, "1");
  // Pinned: a changed id would re-send every pending trigger as a new one after an upgrade.
  EXPECT_EQ(id, "t-fb19631d54195202a1447bb87b99bb1a");
  EXPECT_NE(id, MakeTriggerId("cart_1h", "c1", v1::TRIGGER_TYPE_CART_ABANDONED, "2"));
  EXPECT_NE(id, MakeTriggerId("cart_1h", "c2", v1::TRIGGER_TYPE_CART_ABANDONED, "1"));
  EXPECT_NE(id, MakeTriggerId("cart_24h", "c1", v1::TRIGGER_TYPE_CART_ABANDONED, "1"));
  EXPECT_NE(id, MakeTriggerId("cart_1h", "c1", v1::TRIGGER_TYPE_WIN_BACK, "1"));
  // Field boundaries are unambiguous.
  EXPECT_NE(MakeTriggerId("ab", "c", v1::TRIGGER_TYPE_WIN_BACK, ""),
            MakeTriggerId("a", "bc", v1::TRIGGER_TYPE_WIN_BACK, ""));
}

}  // namespace
}  // namespace touchstream
