#include "processor/demo/journey_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

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

}  // namespace
}  // namespace touchstream
