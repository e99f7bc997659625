// Synthetic multi-channel customer journeys for the demo and the load generator: browsing
// (product views without a quantity, some left without adding the product to a cart), carts
// (some abandoned), online purchases, in-store purchases that settle an online cart, offers
// opened from email/SMS, and customers who lapse. Optionally (consent_and_time_zones), customers
// live in time zones (their events carry it; `zones`) and state their consent: on their first
// journey some opt in to SMS or WhatsApp, some opt out of push or email, and a few unsubscribe
// from every channel messaged without an opt-in (the policy stage's no_consent). Deterministic
// for a given seed and sequence of Poll times.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "processor/core/time.h"
#include "touchpoint.pb.h"

namespace touchstream {

struct JourneyOptions {
  uint64_t seed = 42;
  double journeys_per_second = 20;
  int customers = 5000;       // size of the customer pool (customers come back)
  DurationMs step_ms = 2000;  // typical gap between two steps of one journey
  // Time zones on events and consent changes (above). Off by default: the tests and
  // benchmarks that replay the generator keep their inputs; the demo turns it on.
  bool consent_and_time_zones = false;
  // Which zones, with consent_and_time_zones. kNamed: five named zones and the default
  // (policies.timezone), as a demo shows them. kEveryHour: 24 zones an hour apart (UTC-12 to
  // UTC+11), customers spread evenly over them, so that a daily window of whole hours (quiet
  // hours) holds the same share of them at every instant: the policy stage's decisions, made on
  // the wall clock, then do not depend on the hour a benchmark runs (loadgen).
  enum class Zones { kNamed, kEveryHour };
  Zones zones = Zones::kNamed;
};

// Not thread-safe.
class JourneyGenerator {
 public:
  explicit JourneyGenerator(JourneyOptions options);

  // Starts the journeys due since the last call and returns every event with event time at
  // or before `now_ms`, in time order.
  std::vector<v1::TouchpointEvent> Poll(TimeMs now_ms);

  // Customer number `n`'s first visit at `t` (1 <= n <= customers): one page view on the web,
  // carrying their zone with consent_and_time_zones. Independent of Poll (it draws nothing from
  // the journeys' random sequence, only an event id): a warm-up that puts every customer of the
  // pool in the store before the journeys (benchmarks/soak.sh).
  v1::TouchpointEvent FirstVisit(int n, TimeMs t);

  uint64_t journeys_started() const { return journeys_started_; }

 private:
  struct Pending {
    TimeMs at;
    v1::TouchpointEvent event;
  };
  void StartJourney(TimeMs start);
  // Customer number `n`'s id.
  static std::string CustomerId(int n);
  // The consent changes of customer number `n` on their first journey, at `t`, made `via` a
  // channel (the app or website's settings).
  void StateConsent(int n, const std::string& customer, TimeMs t, v1::Channel via);
  // Queues `e` at `t`, carrying `zone` unless it is empty.
  void Push(TimeMs t, v1::TouchpointEvent e, const std::string& zone);
  v1::TouchpointEvent Make(const std::string& customer, TimeMs t, v1::EventType type,
                           v1::Channel channel);

  const JourneyOptions options_;
  std::mt19937_64 rng_;
  std::vector<Pending> pending_;            // min-heap by time
  std::unordered_set<int> consent_stated_;  // customer numbers whose consent was generated
  TimeMs last_poll_ms_ = 0;
  double journey_credit_ = 0;
  uint64_t next_event_ = 0;
  uint64_t journeys_started_ = 0;
};

}  // namespace touchstream
