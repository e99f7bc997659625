#include "processor/demo/journey_generator.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace touchstream {

namespace {

struct Product {
  const char* sku;
  int64_t price_minor;
};

constexpr std::array<Product, 12> kCatalog{{
    {"sku-sneaker-42", 8999},
    {"sku-hoodie-m", 5499},
    {"sku-socks-3pk", 1299},
    {"sku-jacket-l", 14999},
    {"sku-cap", 2499},
    {"sku-backpack", 6999},
    {"sku-tee-s", 1999},
    {"sku-jeans-32", 7999},
    {"sku-scarf", 2999},
    {"sku-watch", 19999},
    {"sku-bottle", 1599},
    {"sku-gloves", 2299},
}};

bool Later(const auto& a, const auto& b) { return a.at > b.at; }

// Where customers live (the IANA zone on their events). With quiet hours 21:00-08:00 at least
// one of these zones is in quiet hours at every instant of the year; "" = events carry no zone
// (the policies.timezone default applies).
constexpr std::array<const char*, 6> kNamedZones{
    {"America/New_York", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", ""}};
// UTC-12 to UTC+11, an hour apart (an Etc/GMT zone's sign is POSIX's: Etc/GMT+5 is UTC-5).
constexpr std::array<const char*, 24> kEveryHourZones{
    {"Etc/GMT+12", "Etc/GMT+11", "Etc/GMT+10", "Etc/GMT+9", "Etc/GMT+8",  "Etc/GMT+7",
     "Etc/GMT+6",  "Etc/GMT+5",  "Etc/GMT+4",  "Etc/GMT+3", "Etc/GMT+2",  "Etc/GMT+1",
     "Etc/UTC",    "Etc/GMT-1",  "Etc/GMT-2",  "Etc/GMT-3", "Etc/GMT-4",  "Etc/GMT-5",
     "Etc/GMT-6",  "Etc/GMT-7",  "Etc/GMT-8",  "Etc/GMT-9", "Etc/GMT-10", "Etc/GMT-11"}};

// Customer number `n`'s zone; independent of their consent (n % 20 in StateConsent).
const char* ZoneOf(int n, JourneyOptions::Zones zones) {
  if (zones == JourneyOptions::Zones::kEveryHour) {
    return kEveryHourZones[(n / 20) % kEveryHourZones.size()];
  }
  return kNamedZones[(n / 20) % kNamedZones.size()];
}

}  // namespace

JourneyGenerator::JourneyGenerator(JourneyOptions options)
    : options_(options), rng_(options.seed) {}

v1::TouchpointEvent JourneyGenerator::Make(const std::string& customer, TimeMs t,
                                           v1::EventType type, v1::Channel channel) {
  v1::TouchpointEvent e;
  char id[48];
  std::snprintf(id, sizeof(id), "ev-%llu-%llu", static_cast<unsigned long long>(options_.seed),
                static_cast<unsigned long long>(next_event_++));
  e.set_event_id(id);
  e.set_customer_id(customer);
  *e.mutable_event_time() = ToTimestamp(t);
  e.set_type(type);
  e.set_channel(channel);
  e.set_currency("EUR");
  return e;
}

void JourneyGenerator::StateConsent(int n, const std::string& customer, TimeMs t, v1::Channel via) {
  if (!consent_stated_.insert(n).second) return;
  auto change = [&](v1::Channel channel, bool opted_in) {
    v1::TouchpointEvent e = Make(customer, t, v1::EVENT_TYPE_CONSENT_CHANGE, via);
    e.mutable_consent()->set_channel(channel);
    e.mutable_consent()->set_opted_in(opted_in);
    Push(t, std::move(e), ZoneOf(n, options_.zones));
  };
  const int profile = n % 20;
  if (profile == 0) {  // unsubscribes from everything messaged without an opt-in
    change(v1::CHANNEL_PUSH, false);
    change(v1::CHANNEL_EMAIL, false);
    change(v1::CHANNEL_IN_APP, false);
  } else if (profile <= 2) {
    change(v1::CHANNEL_PUSH, false);
  } else if (profile == 3) {
    change(v1::CHANNEL_EMAIL, false);
  } else if (profile <= 7) {
    change(v1::CHANNEL_WHATSAPP, true);
  } else if (profile <= 11) {
    change(v1::CHANNEL_SMS, true);
  }
}

void JourneyGenerator::Push(TimeMs t, v1::TouchpointEvent e, const std::string& zone) {
  if (!zone.empty()) e.set_timezone(zone);
  pending_.push_back({t, std::move(e)});
  std::push_heap(pending_.begin(), pending_.end(), [](auto& a, auto& b) { return Later(a, b); });
}

std::string JourneyGenerator::CustomerId(int n) {
  char customer[32];
  std::snprintf(customer, sizeof(customer), "cust-%06d", n);
  return customer;
}

v1::TouchpointEvent JourneyGenerator::FirstVisit(int n, TimeMs t) {
  v1::TouchpointEvent e = Make(CustomerId(n), t, v1::EVENT_TYPE_PAGE_VIEW, v1::CHANNEL_WEB);
  if (options_.consent_and_time_zones) e.set_timezone(ZoneOf(n, options_.zones));
  return e;
}

void JourneyGenerator::StartJourney(TimeMs start) {
  ++journeys_started_;
  std::uniform_int_distribution<int> customer_dist(1, options_.customers);
  const int n = customer_dist(rng_);
  const std::string customer = CustomerId(n);
  const bool profiles = options_.consent_and_time_zones;
  const std::string zone = profiles ? ZoneOf(n, options_.zones) : "";
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  std::uniform_int_distribution<size_t> product_dist(0, kCatalog.size() - 1);
  std::uniform_int_distribution<int> pct(1, 100);

  TimeMs t = start;
  auto step = [&] { t += static_cast<TimeMs>(options_.step_ms * jitter(rng_)); };
  auto push = [&](v1::TouchpointEvent e) { Push(t, std::move(e), zone); };
  const v1::Channel online = pct(rng_) <= 55 ? v1::CHANNEL_MOBILE_APP : v1::CHANNEL_WEB;
  if (profiles) StateConsent(n, customer, t, online);
  auto with_item = [&](v1::TouchpointEvent e, const Product& p, int qty) {
    auto* item = e.add_items();
    item->set_sku(p.sku);
    item->set_quantity(qty);
    item->set_unit_price_minor(p.price_minor);
    return e;
  };

  // A short browse precedes most journeys.
  push(Make(customer, t,
            online == v1::CHANNEL_MOBILE_APP ? v1::EVENT_TYPE_APP_OPEN : v1::EVENT_TYPE_PAGE_VIEW,
            online));
  const Product& first = kCatalog[product_dist(rng_)];
  const Product& second = kCatalog[product_dist(rng_)];
  step();
  // Product views carry no quantity.
  push(with_item(Make(customer, t, v1::EVENT_TYPE_PRODUCT_VIEW, online), first, 0));

  const int kind = pct(rng_);
  if (pct(rng_) <= 40) {  // compares with a second product, left behind unless added below
    step();
    push(with_item(Make(customer, t, v1::EVENT_TYPE_PRODUCT_VIEW, online), second, 0));
  }
  if (kind <= 25) return;  // browsed only: the views are abandoned
  step();
  push(with_item(Make(customer, t, v1::EVENT_TYPE_ADD_TO_CART, online), first, 1));
  if (pct(rng_) <= 40) {
    step();
    push(with_item(Make(customer, t, v1::EVENT_TYPE_ADD_TO_CART, online), second, 1));
  }
  if (kind <= 55) {  // abandons the cart (sometimes trims it first)
    if (pct(rng_) <= 20) {
      step();
      push(with_item(Make(customer, t, v1::EVENT_TYPE_REMOVE_FROM_CART, online), first, 1));
    }
    return;
  }
  if (kind <= 75) {  // buys online
    step();
    push(Make(customer, t, v1::EVENT_TYPE_CHECKOUT_STARTED, online));
    step();
    auto purchase = Make(customer, t, v1::EVENT_TYPE_PURCHASE, online);
    purchase.set_amount_minor(first.price_minor);
    push(with_item(std::move(purchase), first, 1));
    return;
  }
  if (kind <= 90) {  // settles the online cart in a store: no reminder must follow
    step();
    auto visit = Make(customer, t, v1::EVENT_TYPE_STORE_VISIT, v1::CHANNEL_STORE_WIFI);
    visit.set_store_id("store-berlin-01");
    push(std::move(visit));
    step();
    auto purchase = Make(customer, t, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE);
    purchase.set_store_id("store-berlin-01");
    push(std::move(purchase));  // no items: the whole cart is bought
    return;
  }
  // Comes back through an offer message, accepts it and buys (online or in a store)...
  const v1::Channel message = pct(rng_) <= 50 ? v1::CHANNEL_EMAIL : v1::CHANNEL_SMS;
  if (profiles && message == v1::CHANNEL_SMS) {  // texted offers go only to those who opted in
    auto opt_in = Make(customer, start, v1::EVENT_TYPE_CONSENT_CHANGE, v1::CHANNEL_SMS);
    opt_in.mutable_consent()->set_channel(v1::CHANNEL_SMS);
    opt_in.mutable_consent()->set_opted_in(true);
    Push(start, std::move(opt_in), zone);
  }
  step();
  auto open = Make(customer, t, v1::EVENT_TYPE_MESSAGE_OPEN, message);
  open.set_campaign_id("spring-offer");
  push(std::move(open));
  step();
  auto accepted = Make(customer, t, v1::EVENT_TYPE_OFFER_ACCEPTED, message);
  accepted.set_campaign_id("spring-offer");
  push(std::move(accepted));
  if (pct(rng_) <= 35) return;                                    // ...or lets the offer lapse
  t += static_cast<TimeMs>(options_.step_ms * 4 * jitter(rng_));  // thinks it over
  auto purchase =
      Make(customer, t, v1::EVENT_TYPE_PURCHASE, pct(rng_) <= 30 ? v1::CHANNEL_IN_STORE : online);
  if (purchase.channel() == v1::CHANNEL_IN_STORE) purchase.set_store_id("store-berlin-01");
  purchase.set_amount_minor(first.price_minor);
  push(with_item(std::move(purchase), first, 1));
}

std::vector<v1::TouchpointEvent> JourneyGenerator::Poll(TimeMs now_ms) {
  if (last_poll_ms_ == 0) last_poll_ms_ = now_ms;
  journey_credit_ += options_.journeys_per_second * (now_ms - last_poll_ms_) / 1000.0;
  std::uniform_int_distribution<TimeMs> offset(0, std::max<TimeMs>(0, now_ms - last_poll_ms_));
  while (journey_credit_ >= 1) {
    journey_credit_ -= 1;
    StartJourney(last_poll_ms_ + offset(rng_));
  }
  last_poll_ms_ = now_ms;

  std::vector<v1::TouchpointEvent> due;
  auto later = [](auto& a, auto& b) { return Later(a, b); };
  while (!pending_.empty() && pending_.front().at <= now_ms) {
    std::pop_heap(pending_.begin(), pending_.end(), later);
    due.push_back(std::move(pending_.back().event));
    pending_.pop_back();
  }
  return due;
}

}  // namespace touchstream
