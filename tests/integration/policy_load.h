// The fault tests with every policy on (issue 12, README "Policies"): the journey load dressed
// with time zones and consent changes, a config with quiet hours, caps (one of them deferring),
// a holdout and priorities, and the checks on what the triggers and audit topics then hold.
// The quiet hours are placed inside the load's event time so that deferrals are pending while
// the run works and are released before its input ends.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "processor/core/time.h"
#include "tests/integration/harness.h"
#include "tests/integration/oracle.h"
#include "touchpoint.pb.h"

namespace touchstream::testing {

// cart_2m defers when capped and goes first among same-instant triggers; offer holds out 25%.
// Goes with PolicySections (its caps name cart_2m).
inline constexpr char kPolicyCartOfferRules[] = R"(
rules:
  cart_2m: {kind: cart_abandonment, delay: 2m, on_cap: defer, priority: 1}
  offer: {kind: reward_window, opener: {event_type: OFFER_ACCEPTED}, duration: 5m,
          reminder_before: 2m, holdout_percent: 25}
)";
// The kill test's: cart_10m holds out 30% and drops what falls in quiet hours.
inline constexpr char kPolicyCartRules[] = R"(
rules:
  cart_2m: {kind: cart_abandonment, delay: 2m, on_cap: defer, priority: 1}
  cart_10m: {kind: cart_abandonment, delay: 10m, holdout_percent: 30, quiet_hours: drop}
)";

// The `policies:` section: quiet hours from the minute of `quiet_start_ms` to that of
// `quiet_end_ms` (times of kT0's UTC day: customers whose zone is UTC+0 in January are quiet
// then, the others are not), default zone UTC, caps {1 per 3m of cart_2m} and {3 per 15m}.
std::string PolicySections(TimeMs quiet_start_ms, TimeMs quiet_end_ms);

// The earliest and latest event time of a load of (customer id, serialized event) pairs.
std::pair<TimeMs, TimeMs> EventTimeSpan(
    const std::vector<std::pair<std::string, std::string>>& load);

// Dresses a stream of journey events, customer by customer (fixed by a hash of the id): a
// time zone on every event (none, UTC+0 zones, America/New_York, Asia/Tokyo, an unknown name,
// or one that moves from New York to London), and after a customer's second and fourth event
// consent changes at that event's time: an opt-out of every channel not needing an opt-in
// (no_consent), an SMS opt-in later withdrawn, or a push opt-out followed by a late opt-in
// dated before it (which must not count). Not thread-safe.
class PolicyInput {
 public:
  // `e` with its time zone, followed by the consent changes due after it.
  std::vector<v1::TouchpointEvent> Dress(v1::TouchpointEvent e);

 private:
  std::map<std::string, int> events_seen_;         // customer id -> events dressed so far
  std::map<std::string, TimeMs> push_opt_out_ms_;  // customer id -> their push opt-out
  uint64_t consent_events_ = 0;
};

// PolicyInput over a whole load.
std::vector<std::pair<std::string, std::string>> WithPolicyInput(
    const std::vector<std::pair<std::string, std::string>>& load);

// Expects that the oracle's audit holds each kind of decision the config can make: deferrals
// for quiet hours and for the cap, releases, no_consent, holdout; prints the counts.
void ExpectEveryPolicyDecides(const Oracle& oracle);

// How many deferred triggers a state-dump holds.
size_t PendingDeferrals(const std::string& dumped);

// I4 (oracle.h) on the audit topic's `audits`, and against the trigger topic's `triggers`: no
// trigger the oracle suppressed or held out is delivered, and each trigger the oracle released
// is delivered as released (same trigger_id, same bytes: send time = release time).
void ExpectPolicyInvariants(const Oracle& oracle, const std::vector<Record>& triggers,
                            const std::vector<Record>& audits);

}  // namespace touchstream::testing
