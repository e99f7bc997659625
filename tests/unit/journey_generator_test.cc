#include "processor/demo/journey_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "processor/policy/quiet_hours.h"
#include "processor/policy/time_zone_catalog.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

std::vector<v1::TouchpointEvent> Generate(JourneyOptions options, int seconds) {
  JourneyGenerator generator(options);
  std::vector<v1::TouchpointEvent> events;
  for (TimeMs now = testing::kT0; now <= testing::kT0 + seconds * 1000; now += 1000) {
    for (auto& e : generator.Poll(now)) events.push_back(std::move(e));
  }
  return events;
}

// "<event time> <customer> <type>".
std::string Describe(const v1::TouchpointEvent& e) {
  return std::to_string(ToTimeMs(e.event_time())) + " " + e.customer_id() + " " +
         v1::EventType_Name(e.type());
}

TEST(JourneyGeneratorTest, CustomersChangeConsentAndEachCarriesOneTimeZone) {
  JourneyOptions options;
  options.consent_and_time_zones = true;
  options.customers = 200;  // customers come back within the run
  const auto events = Generate(options, 120);
  std::set<std::string> zones;
  std::map<std::string, std::set<std::string>> zones_of;  // by customer
  std::map<std::string, int> consent_changes;             // "CHANNEL_SMS in" -> count
  for (const auto& e : events) {
    zones.insert(e.timezone());
    zones_of[e.customer_id()].insert(e.timezone());
    if (e.type() != v1::EVENT_TYPE_CONSENT_CHANGE) continue;
    ++consent_changes[v1::Channel_Name(e.consent().channel()) +
                      (e.consent().opted_in() ? " in" : " out")];
  }
  EXPECT_EQ(zones, (std::set<std::string>{"", "America/New_York", "America/Los_Angeles",
                                          "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo"}));
  for (const auto& [customer, theirs] : zones_of) EXPECT_EQ(theirs.size(), 1u) << customer;
  for (const char* change : {"CHANNEL_SMS in", "CHANNEL_WHATSAPP in", "CHANNEL_PUSH out",
                             "CHANNEL_EMAIL out", "CHANNEL_IN_APP out"}) {
    EXPECT_GT(consent_changes[change], 0) << change;
  }
  EXPECT_EQ(consent_changes.count("CHANNEL_PUSH in"), 0u);
  EXPECT_EQ(consent_changes.count("CHANNEL_WHATSAPP out"), 0u);
}

// The share of customers (each counted once) whose local time is in quiet hours 21:00-08:00, at
// every quarter hour of a day: {lowest, highest}.
std::pair<double, double> QuietShareOverADay(JourneyOptions::Zones zones) {
  JourneyOptions options;
  options.consent_and_time_zones = true;
  options.zones = zones;
  options.customers = 20'000;
  options.journeys_per_second = 200;
  std::map<std::string, std::string> zone_of;
  for (const auto& e : Generate(options, 120)) zone_of[e.customer_id()] = e.timezone();
  std::map<std::string, size_t> customers_in;
  for (const auto& [customer, zone] : zone_of) ++customers_in[zone];
  const QuietHours quiet{true, 21 * 60, 8 * 60};
  double lowest = 1;
  double highest = 0;
  for (TimeMs t = testing::kT0 + 60'000; t < testing::kT0 + kDayMs; t += 15 * 60'000) {
    size_t quiet_now = 0;
    for (const auto& [zone, customers] : customers_in) {
      const auto loaded = TimeZoneCatalog::System().Find(zone.empty() ? "UTC" : zone);
      EXPECT_TRUE(loaded.has_value()) << zone;
      if (loaded && InQuietHours(t, quiet, *loaded)) quiet_now += customers;
    }
    const double share = static_cast<double>(quiet_now) / static_cast<double>(zone_of.size());
    lowest = std::min(lowest, share);
    highest = std::max(highest, share);
  }
  return {lowest, highest};
}

// loadgen's zones: whatever the hour a benchmark runs at, the policy stage (deciding on the wall
// clock) holds back about 11 of every 24 customers' triggers for quiet hours. The named zones
// of the demo swing between a third and two thirds.
TEST(JourneyGeneratorTest, EveryHourZonesHoldTheSameShareInQuietHoursAtEveryHour) {
  const auto [low, high] = QuietShareOverADay(JourneyOptions::Zones::kEveryHour);
  EXPECT_NEAR(low, 11.0 / 24, 0.02);
  EXPECT_NEAR(high, 11.0 / 24, 0.02);
  const auto [named_low, named_high] = QuietShareOverADay(JourneyOptions::Zones::kNamed);
  EXPECT_GT(named_high - named_low, 0.2);
}

TEST(JourneyGeneratorTest, WithoutProfilesTheJourneysAreUnchanged) {
  JourneyOptions with;
  with.consent_and_time_zones = true;
  JourneyOptions without;
  std::vector<std::string> plain;
  for (const auto& e : Generate(without, 60)) {
    EXPECT_EQ(e.timezone(), "");
    EXPECT_NE(e.type(), v1::EVENT_TYPE_CONSENT_CHANGE);
    plain.push_back(Describe(e));
  }
  // The same journeys, the profiles' events aside: stating consent draws no random numbers.
  std::vector<std::string> profiled;
  for (const auto& e : Generate(with, 60)) {
    if (e.type() == v1::EVENT_TYPE_CONSENT_CHANGE) continue;
    profiled.push_back(Describe(e));
  }
  // Events of one instant may come in another order (the generator's queue holds more).
  std::sort(plain.begin(), plain.end());
  std::sort(profiled.begin(), profiled.end());
  EXPECT_EQ(profiled, plain);
}

TEST(JourneyGeneratorTest, FirstVisitsNameEachCustomerOfThePoolAndLeaveTheJourneysAlone) {
  JourneyOptions options;
  options.consent_and_time_zones = true;
  options.customers = 50;
  JourneyGenerator generator(options);
  std::set<std::string> customers;
  std::set<std::string> ids;
  for (int n = 1; n <= options.customers; ++n) {
    const v1::TouchpointEvent visit = generator.FirstVisit(n, testing::kT0);
    EXPECT_EQ(visit.type(), v1::EVENT_TYPE_PAGE_VIEW);
    EXPECT_EQ(ToTimeMs(visit.event_time()), testing::kT0);
    EXPECT_FALSE(visit.timezone().empty());
    customers.insert(visit.customer_id());
    ids.insert(visit.event_id());
  }
  EXPECT_EQ(customers.size(), 50u);  // every customer of the pool, once
  EXPECT_EQ(ids.size(), 50u);
  // The journeys' customers are the pool's, with the zone each visit carried.
  std::map<std::string, std::string> zone_of;
  for (int n = 1; n <= options.customers; ++n) {
    const v1::TouchpointEvent visit = generator.FirstVisit(n, testing::kT0);
    zone_of[visit.customer_id()] = visit.timezone();
  }
  std::vector<std::string> after_visits;
  for (TimeMs now = testing::kT0; now <= testing::kT0 + 30'000; now += 1000) {
    for (const auto& e : generator.Poll(now)) {
      ASSERT_TRUE(zone_of.count(e.customer_id())) << e.customer_id();
      EXPECT_EQ(e.timezone(), zone_of[e.customer_id()]);
      after_visits.push_back(Describe(e));
    }
  }
  // The visits drew nothing from the journeys' random sequence.
  std::vector<std::string> alone;
  for (const auto& e : Generate(options, 30)) alone.push_back(Describe(e));
  std::sort(after_visits.begin(), after_visits.end());
  std::sort(alone.begin(), alone.end());
  EXPECT_EQ(after_visits, alone);
}

}  // namespace
}  // namespace touchstream
