// `touchstream demo`: embedded Kafka + synthetic journeys + the processor, in one process.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/demo/decision_tally.h"
#include "processor/demo/journey_generator.h"
#include "processor/diagnostics/log.h"
#include "processor/embedded/embedded_kafka.h"
#include "processor/http/http_server.h"
#include "processor/json/json_lines.h"
#include "processor/rules/rule_registry.h"
#include "processor/run/service.h"
#include "processor/run/shutdown.h"

namespace touchstream {

namespace {

struct DemoOptions {
  std::string duration = "60s";
  double rate = 20;
  std::string cart_delay = "20s";
  std::string listen = "127.0.0.1:9464";
  std::string config;
  bool json = false;
  uint64_t seed = 42;
};

std::string Money(int64_t minor) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld.%02lld", static_cast<long long>(minor / 100),
                static_cast<long long>(minor % 100));
  return buf;
}

std::string DescribeTrigger(const v1::Trigger& t) {
  std::string type = v1::TriggerType_Name(t.type()).substr(13);
  std::string line = "TRIGGER " + type + " rule=" + t.rule_id() + " customer=" + t.customer_id() +
                     " fire_time=" + FormatTime(ToTimeMs(t.fire_time()));
  if (t.has_cart()) {
    line += " items=" + std::to_string(t.cart().items_size()) +
            " total=" + Money(t.cart().total_minor());
  }
  if (t.has_browse()) {
    std::string skus;
    for (const auto& item : t.browse().items()) skus += (skus.empty() ? "" : ",") + item.sku();
    line += " viewed=" + skus;
  }
  if (t.has_win_back()) line += " tier=" + std::to_string(t.win_back().tier());
  if (t.has_reactivated()) {
    line += " back_via=" + v1::Channel_Name(t.reactivated().channel()).substr(8);
  }
  if (t.has_reward()) {
    line += " window=" + t.reward().window_id() +
            " purchases=" + std::to_string(t.reward().purchases()) +
            " amount=" + Money(t.reward().amount_minor());
    if (t.reward().bonus_points() > 0) {
      line += " bonus_points=" + std::to_string(t.reward().bonus_points());
    }
  }
  line += " channel=" + v1::Channel_Name(t.suggested_channel()).substr(8) + " id=" + t.trigger_id();
  return line;
}

// A policy decision other than an immediate send (an audit record), e.g. "AUDIT DEFERRED
// quiet_hours CART_ABANDONED rule=cart_20s customer=cust-000042 until=2026-12-02T07:00:00Z
// id=t-…".
std::string DescribeAudit(const v1::AuditRecord& audit) {
  const v1::Trigger& t = audit.trigger();
  std::string line = "AUDIT " + v1::AuditDecision_Name(audit.decision()).substr(15);
  if (!audit.reason().empty()) line += " " + audit.reason();
  line += " " + v1::TriggerType_Name(t.type()).substr(13) + " rule=" + t.rule_id() +
          " customer=" + t.customer_id();
  if (audit.has_until()) line += " until=" + FormatTime(ToTimeMs(audit.until()));
  return line + " id=" + t.trigger_id();
}

// The built-in demo rules: every rule kind, on demo time scales (seconds, not days), and the
// policies on the same scales: quiet hours 21:00-08:00 in each customer's zone (the reward
// window's messages answer what the customer just did, so they ignore quiet hours), one product
// reminder (browse or cart) a minute (a cart reminder waits for the window; a browse reminder
// is dropped), at most three messages a minute, and a 10% holdout of the cart reminder.
Config DemoConfig(DurationMs cart_delay_ms) {
  std::string yaml = R"(rules:
  cart_DELAY:
    kind: cart_abandonment
    delay: DELAY
    holdout_percent: 10
    on_cap: defer
  browse_10s:
    kind: browse_abandonment
    delay: 10s
    max_items: 3
  win_back_demo:
    kind: win_back
    tiers: [30s, 45s]
  spring_offer:
    kind: reward_window
    opener: {event_type: OFFER_ACCEPTED, campaign_id: spring-offer}
    duration: 30s
    goal: {purchases: 1, min_amount_minor: 2000}
    reminder_before: 10s
    points_per_unit: 10
    quiet_hours: ignore
policies:
  quiet_hours: {start: "21:00", end: "08:00"}
  caps:
    - {max: 1, per: 1m, rules: [browse_10s, cart_DELAY]}
    - {max: 3, per: 1m}
)";
  const std::string delay = FormatDuration(cart_delay_ms);
  for (size_t at = yaml.find("DELAY"); at != std::string::npos;
       at = yaml.find("DELAY", at + delay.size())) {
    yaml.replace(at, 5, delay);
  }
  return ParseConfig(yaml, "built-in demo rules");
}

// Produces generated journeys (and an occasional bad record) until `stop`.
void Generate(const std::string& brokers, const Config& config, const DemoOptions& opts,
              const std::atomic<bool>& stop, std::atomic<uint64_t>& produced) {
  // The owner partition of each customer (murmur2), as `produce`.
  auto conf = MakeKafkaConf(
      {{"bootstrap.servers", brokers}, {"linger.ms", "5"}, {"partitioner", "murmur2_random"}});
  std::string errstr;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), errstr));
  if (!producer) {
    LogError("demo generator: " + errstr);
    return;
  }
  JourneyOptions journey_options;
  journey_options.seed = opts.seed;
  journey_options.journeys_per_second = opts.rate;
  journey_options.consent_and_time_zones = true;  // for the policy stage
  JourneyGenerator generator(journey_options);
  const SystemClock clock;
  std::string bytes;
  TimeMs next_bad = clock.NowMs() + 7000;
  auto send = [&](const std::string& key, const std::string& value) {
    while (producer->produce(config.touchpoints.name, RdKafka::Topic::PARTITION_UA,
                             RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                             value.size(), key.data(), key.size(), 0,
                             nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(10);
    }
    produced.fetch_add(1);
  };
  while (!stop.load()) {
    const TimeMs now = clock.NowMs();
    for (const auto& event : generator.Poll(now)) {
      event.SerializeToString(&bytes);
      send(event.customer_id(), bytes);
    }
    if (now >= next_bad) {  // upstream bugs happen: these go to the dead-letter topic
      send("cust-broken", "\x08\x96\x01 not a protobuf event");
      v1::TouchpointEvent missing;  // no customer_id
      missing.set_event_id("ev-no-customer-" + std::to_string(now));
      *missing.mutable_event_time() = ToTimestamp(now);
      missing.set_type(v1::EVENT_TYPE_PAGE_VIEW);
      missing.set_channel(v1::CHANNEL_WEB);
      missing.SerializeToString(&bytes);
      send("", bytes);
      next_bad = now + 15000;
    }
    producer->poll(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  producer->flush(5000);
}

int Demo(const DemoOptions& opts) {
  std::optional<DurationMs> duration = ParseDuration(opts.duration);
  std::optional<DurationMs> cart_delay = ParseDuration(opts.cart_delay);
  if (!duration || !cart_delay || *cart_delay <= 0) {
    std::cerr << "touchstream demo: --duration and --cart-delay take durations like 60s, 5m\n";
    return kExitUsage;
  }
  Config config;
  if (!opts.config.empty()) {
    config = LoadConfigFile(opts.config);
  } else {
    config = DemoConfig(*cart_delay);
  }
  const RuleSet rules = BuildRuleSet(config.rules);
  config.metrics_listen = opts.listen;
  config.commit_interval_ms = 200;
  char dir_template[] = "/tmp/touchstream-demo-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::cerr << "touchstream demo: cannot create a state directory in /tmp\n";
    return kExitFailure;
  }
  config.state_dir = dir_template;

  std::atomic<bool>& stop = InstallStopSignals();
  auto kafka = EmbeddedKafka::Start(3);
  if (!kafka.ok()) {
    LogError(kafka.status().message());
    return kExitFailure;
  }
  if (Status s = (*kafka)->CreateTopics(config); !s.ok()) {
    LogError(s.message());
    return kExitFailure;
  }
  const std::string brokers = (*kafka)->bootstrap_servers();
  config.kafka["bootstrap.servers"] = brokers;
  config.kafka_consumer["fetch.wait.max.ms"] = "50";
  config.kafka_consumer["session.timeout.ms"] = "6000";
  LogInfo("demo: embedded Kafka at " + brokers + ", state in " + config.state_dir +
          ", running for " + FormatDuration(*duration) + " (Ctrl-C stops)");

  std::vector<std::string> rule_ids;
  for (const auto& rule : rules) rule_ids.push_back(rule->id());
  Metrics metrics(config.touchpoints.name, rule_ids, config.policy.channels.messageable);
  HealthState health;
  // The same HTTP server as `run`: /metrics, /healthz, /readyz.
  auto http = HttpServer::Start({config.metrics_listen, config.healthz_max_poll_age_ms, false},
                                metrics, health);
  if (http.ok()) {
    LogInfo("demo: metrics on http://" + config.metrics_listen + "/metrics");
  } else {
    LogWarn("demo: cannot serve metrics on " + config.metrics_listen + ": " +
            http.status().message() + " (continuing without; use --metrics-listen)");
  }

  auto service = Service::Create(config, rules, metrics, &health);
  if (!service.ok()) {
    LogError(service.status().message());
    return kExitFailure;
  }
  std::mutex print_mutex;
  DecisionTally tally;  // counted on the consume thread, read after Run returns
  (*service)->relay().set_on_delivered([&](const v1::state::OutboxRecord& record) {
    if (record.topic() == config.triggers.name) {
      v1::Trigger t;
      if (!t.ParseFromString(record.value())) return;
      tally.CountSent(t);
      std::lock_guard<std::mutex> lock(print_mutex);
      std::cout << (opts.json ? ToJsonLine(t) : DescribeTrigger(t)) << std::endl;
    } else if (record.topic() == config.audit.name) {
      v1::AuditRecord audit;
      if (!audit.ParseFromString(record.value())) return;
      tally.CountAudit(audit);
      if (opts.json) return;  // --json prints triggers only
      std::lock_guard<std::mutex> lock(print_mutex);
      std::cout << DescribeAudit(audit) << std::endl;
    }
  });

  std::atomic<uint64_t> produced{0};
  std::atomic<bool> generator_stop{false};
  std::thread generator([&] { Generate(brokers, config, opts, generator_stop, produced); });
  const auto started = std::chrono::steady_clock::now();
  ConsumeLoop& loop = (*service)->loop();
  std::thread progress([&] {
    auto next = started + std::chrono::seconds(5);
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto now = std::chrono::steady_clock::now();
      if (*duration > 0 && now - started >= std::chrono::milliseconds(*duration)) {
        stop.store(true);
      }
      if (now < next) continue;
      next += std::chrono::seconds(5);
      const TaskManager::Progress p = loop.progress();
      const long elapsed = static_cast<long>(
          std::chrono::duration_cast<std::chrono::seconds>(now - started).count());
      std::lock_guard<std::mutex> lock(print_mutex);
      std::cerr << "progress: " << elapsed << "s produced=" << produced.load()
                << " consumed=" << p.consumed << " dead-lettered=" << p.invalid
                << " triggers=" << p.triggers << "\n";
    }
  });
  Status s = (*service)->Run(stop);
  generator_stop.store(true);
  stop.store(true);
  generator.join();
  progress.join();
  const TaskManager::Progress p = loop.progress();
  service->reset();
  std::error_code ignored;
  std::filesystem::remove_all(config.state_dir, ignored);
  std::cerr << "demo finished: produced=" << produced.load() << " consumed=" << p.consumed
            << " dead-lettered=" << p.invalid << " triggers=" << p.triggers << "\n"
            << "decisions: " << tally.Summary() << "\n";
  return s.ok() ? kExitOk : kExitFailure;
}

}  // namespace

void AddDemoCommand(CLI::App& app, Action* run) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Run everything in one process: embedded Kafka, a generator of realistic multi-channel "
      "customer journeys, and the processor. Prints triggers as they fire, the policy stage's "
      "other decisions (AUDIT lines: deferred, released, suppressed, holdout, with the reason), "
      "a progress line every 5s and a summary of the decisions at the end; serves /metrics.");
  cmd->add_option("--duration", opts->duration, "how long to run; 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_option("--rate", opts->rate, "new customer journeys per second")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  cmd->add_option("--cart-delay", opts->cart_delay,
                  "cart abandonment delay of the built-in cart rule")
      ->capture_default_str();
  cmd->add_option("--metrics-listen", opts->listen, "host:port for /metrics")
      ->capture_default_str();
  cmd->add_option("--config", opts->config,
                  "use this config's rules and topics instead of the built-in demo rules (a cart "
                  "rule, browse abandonment after 10s, win-back after 30s and 45s, a 30s reward "
                  "window for the spring-offer campaign; quiet hours 21:00-08:00, one product "
                  "reminder and three messages a minute, a 10% holdout of the cart rule)");
  cmd->add_option("--seed", opts->seed, "random seed of the journey generator")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "print triggers as JSON lines (and no AUDIT lines)");
  cmd->callback([opts, run] { *run = [opts] { return Demo(*opts); }; });
}

}  // namespace touchstream
