#include "tests/integration/policy_load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

#include "audit.pb.h"
#include "processor/json/json_lines.h"
#include "state.pb.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {

namespace {

// "HH:MM" of `t` in UTC.
std::string ClockOf(TimeMs t) {
  const int64_t minute = (t % kDayMs) / 60'000;
  char text[8];
  std::snprintf(text, sizeof(text), "%02d:%02d", static_cast<int>(minute / 60),
                static_cast<int>(minute % 60));
  return text;
}

// FNV-1a: a customer's dress does not depend on the standard library's std::hash.
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

std::string PolicySections(TimeMs quiet_start_ms, TimeMs quiet_end_ms) {
  return "policies:\n"
         "  quiet_hours: {start: \"" +
         ClockOf(quiet_start_ms) + "\", end: \"" + ClockOf(quiet_end_ms) +
         "\"}\n"
         "  timezone: UTC\n"
         "  caps: [{max: 1, per: 3m, rules: [cart_2m]}, {max: 3, per: 15m}]\n";
}

std::pair<TimeMs, TimeMs> EventTimeSpan(
    const std::vector<std::pair<std::string, std::string>>& load) {
  TimeMs first = std::numeric_limits<TimeMs>::max(), last = std::numeric_limits<TimeMs>::min();
  for (const auto& [key, value] : load) {
    v1::TouchpointEvent e;
    if (!e.ParseFromString(value)) continue;
    first = std::min(first, ToTimeMs(e.event_time()));
    last = std::max(last, ToTimeMs(e.event_time()));
  }
  return {first, last};
}

std::vector<v1::TouchpointEvent> PolicyInput::Dress(v1::TouchpointEvent e) {
  const std::string customer = e.customer_id();
  const uint64_t h = Fnv1a(customer);
  const int seen = ++events_seen_[customer];
  static const char* const kZones[] = {
      "", "Europe/London", "Africa/Abidjan", "America/New_York", "Asia/Tokyo", "Nowhere/Atlantis"};
  const uint64_t zone = h % 7;
  if (zone < 6) {
    e.set_timezone(kZones[zone]);
  } else {  // moves: quiet hours apply only once they are in London
    e.set_timezone(seen < 3 ? "America/New_York" : "Europe/London");
  }
  const TimeMs t = ToTimeMs(e.event_time());
  std::vector<v1::TouchpointEvent> out = {e};
  auto consent = [&](v1::Channel channel, bool opted_in, TimeMs at) {
    v1::TouchpointEvent c = Event("consent-" + std::to_string(++consent_events_), customer, at,
                                  v1::EVENT_TYPE_CONSENT_CHANGE, channel);
    c.mutable_consent()->set_channel(channel);
    c.mutable_consent()->set_opted_in(opted_in);
    out.push_back(std::move(c));
  };
  switch ((h / 7) % 5) {
    case 0:  // opts out of every channel that needs no opt-in: nothing is permitted
      if (seen == 2) {
        for (v1::Channel channel : {v1::CHANNEL_EMAIL, v1::CHANNEL_PUSH, v1::CHANNEL_IN_APP}) {
          consent(channel, false, t);
        }
      }
      break;
    case 1:  // SMS opt-in, withdrawn later
      if (seen == 2) consent(v1::CHANNEL_SMS, true, t);
      if (seen == 4) consent(v1::CHANNEL_SMS, false, t);
      break;
    case 2:  // push opt-out; then an opt-in that arrives late, dated before the opt-out
      if (seen == 2) {
        consent(v1::CHANNEL_PUSH, false, t);
        push_opt_out_ms_[customer] = t;
      }
      if (seen == 4) consent(v1::CHANNEL_PUSH, true, push_opt_out_ms_[customer] - 1000);
      break;
    default:
      break;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> WithPolicyInput(
    const std::vector<std::pair<std::string, std::string>>& load) {
  PolicyInput input;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : load) {
    v1::TouchpointEvent e;
    if (!e.ParseFromString(value)) {
      out.emplace_back(key, value);
      continue;
    }
    for (const v1::TouchpointEvent& dressed : input.Dress(std::move(e))) {
      out.emplace_back(dressed.customer_id(), dressed.SerializeAsString());
    }
  }
  return out;
}

void ExpectEveryPolicyDecides(const Oracle& oracle) {
  std::map<std::string, size_t> counts;  // "DECISION reason" -> audit records
  for (const std::string& bytes : oracle.audits) {
    v1::AuditRecord a;
    EXPECT_TRUE(a.ParseFromString(bytes));
    counts[v1::AuditDecision_Name(a.decision()).substr(15) + " " + a.reason()]++;
  }
  std::cout << "oracle audit:";
  for (const auto& [kind, count] : counts) std::cout << " [" << kind << "] " << count;
  std::cout << "\n";
  for (const char* kind : {"DEFERRED quiet_hours", "DEFERRED frequency_cap", "RELEASED ",
                           "SUPPRESSED no_consent", "HOLDOUT holdout"}) {
    EXPECT_GT(counts[kind], 0u) << "the load makes no " << kind << " decision";
  }
}

size_t PendingDeferrals(const std::string& dumped) {
  std::istringstream lines(dumped);
  size_t pending = 0;
  for (std::string line; std::getline(lines, line);) {
    v1::state::CustomerState state;
    if (ParseJsonLine(line, &state).ok()) pending += state.policy().deferred_size();
  }
  return pending;
}

void ExpectPolicyInvariants(const Oracle& oracle, const std::vector<Record>& triggers,
                            const std::vector<Record>& audits) {
  const AuditCheck check = CheckAudits(oracle, audits);
  EXPECT_EQ(check.missing, 0u) << "I4: oracle audit records missing from the audit topic";
  EXPECT_EQ(check.unknown, 0u) << "I4: audit records the oracle does not write";
  std::map<std::string, std::string> delivered;  // trigger id -> bytes
  for (const Record& r : triggers) {
    v1::Trigger t;
    if (t.ParseFromString(r.value)) delivered[t.trigger_id()] = r.value;
  }
  size_t withheld_delivered = 0, released = 0, released_wrong = 0;
  for (const std::string& bytes : oracle.audits) {
    v1::AuditRecord a;
    if (!a.ParseFromString(bytes)) continue;
    auto it = delivered.find(a.trigger().trigger_id());
    switch (a.decision()) {
      case v1::AUDIT_DECISION_SUPPRESSED:
      case v1::AUDIT_DECISION_HOLDOUT:
        withheld_delivered += it != delivered.end();
        break;
      case v1::AUDIT_DECISION_RELEASED:
        ++released;
        released_wrong += it == delivered.end() || it->second != a.trigger().SerializeAsString();
        break;
      default:
        break;
    }
  }
  EXPECT_EQ(withheld_delivered, 0u) << "triggers the oracle suppressed or held out were delivered";
  EXPECT_EQ(released_wrong, 0u) << "released deferrals not delivered as released";
  std::cout << "audit: oracle=" << oracle.audits.size() << " delivered=" << check.delivered
            << " (duplicates " << check.delivered - check.distinct << "), released=" << released
            << "\n";
}

}  // namespace touchstream::testing
