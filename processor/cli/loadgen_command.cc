// `touchstream loadgen`: synthetic customer journeys (the demo's generator) produced as
// protobuf touchpoint records, as fast as the producer takes them or at a set rate. For load
// tests and the end-to-end benchmark (benchmarks/e2e.sh).
#include <chrono>
#include <iostream>
#include <thread>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/demo/journey_generator.h"
#include "processor/kafka/kafka_conf.h"

namespace touchstream {

namespace {

struct LoadgenOptions {
  std::string brokers;
  std::string topic = "touchpoints";
  uint64_t events = 100'000;
  int customers = 100'000;
  uint64_t seed = 42;
  double rate = 0;             // events per second; 0: as fast as possible
  bool profiles = false;       // consent changes and time zones (the policy stage's inputs)
  double unkeyed_percent = 0;  // share of records produced without a key (random partition)
  bool first_visits = false;   // one page view by each customer of the pool before the journeys
  std::vector<std::string> x;
};

int Loadgen(const LoadgenOptions& opts) {
  KafkaProperties props{{"bootstrap.servers", opts.brokers},
                        {"linger.ms", "20"},
                        {"batch.num.messages", "10000"},
                        {"queue.buffering.max.messages", "500000"},
                        // the owner partition of each customer, as `produce`
                        {"partitioner", "murmur2_random"}};
  if (Status s = AddPropertyItems(opts.x, props); !s.ok()) {
    std::cerr << "touchstream loadgen: " << s.message() << "\n";
    return kExitUsage;
  }
  auto conf = MakeKafkaConf(props);
  if (!conf.ok()) {
    std::cerr << "touchstream loadgen: " << conf.status().message() << "\n";
    return kExitUsage;
  }
  std::string errstr;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), errstr));
  if (!producer) {
    std::cerr << "touchstream loadgen: cannot create producer: " << errstr << "\n";
    return kExitFailure;
  }

  // Journeys in generator time, 200 journeys per generator second, starting 30 days ago: the
  // event times are compressed into the past (a billion events take under 10 days of them),
  // so every event is valid and absence timers fire as the watermark passes them.
  JourneyOptions journey;
  journey.seed = opts.seed;
  journey.customers = opts.customers;
  journey.journeys_per_second = 200;
  journey.consent_and_time_zones = opts.profiles;
  journey.zones = JourneyOptions::Zones::kEveryHour;  // the same policy load at every hour
  JourneyGenerator generator(journey);
  const SystemClock clock;
  TimeMs generator_now = clock.NowMs() - 30 * kDayMs;

  using Steady = std::chrono::steady_clock;
  const auto started = Steady::now();
  auto last_report = started;
  uint64_t produced = 0;
  std::string bytes;
  // That share of the records goes without a key, spread evenly, so the partitioner places them
  // at random and the owner's repartition hop has work.
  double unkeyed_credit = 0;
  // Produces one event (waiting while the producer's queue is full, then for the rate); false
  // on an error, reported.
  auto produce = [&](const v1::TouchpointEvent& event) {
    event.SerializeToString(&bytes);
    unkeyed_credit += opts.unkeyed_percent;
    const bool keyed = unkeyed_credit < 100;
    if (!keyed) unkeyed_credit -= 100;
    while (true) {
      const RdKafka::ErrorCode err = producer->produce(
          opts.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, bytes.data(),
          bytes.size(), keyed ? event.customer_id().data() : nullptr,
          keyed ? event.customer_id().size() : 0, 0, nullptr);
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err != RdKafka::ERR__QUEUE_FULL) {
        std::cerr << "touchstream loadgen: " << RdKafka::err2str(err) << "\n";
        return false;
      }
      producer->poll(10);
    }
    ++produced;
    if (opts.rate > 0) {
      const auto due = started + std::chrono::duration<double>(produced / opts.rate);
      if (due > Steady::now()) std::this_thread::sleep_until(due);
    }
    return true;
  };
  auto report = [&] {
    producer->poll(0);
    if (Steady::now() - last_report < std::chrono::seconds(1)) return;
    last_report = Steady::now();
    const double seconds = std::chrono::duration<double>(last_report - started).count();
    std::cerr << "loadgen: " << produced << " events in " << seconds << " s ("
              << static_cast<uint64_t>(produced / seconds) << "/s)\n";
  };
  for (int n = 1; opts.first_visits && n <= opts.customers && produced < opts.events; ++n) {
    if (!produce(generator.FirstVisit(n, generator_now))) return kExitFailure;
    if (n % 1000 == 0) report();
  }
  std::vector<v1::TouchpointEvent> batch;
  while (produced < opts.events) {
    batch = generator.Poll(generator_now);
    generator_now += 100;
    for (const v1::TouchpointEvent& event : batch) {
      if (produced == opts.events) break;
      if (!produce(event)) return kExitFailure;
    }
    report();
  }
  if (producer->flush(60'000) != RdKafka::ERR_NO_ERROR || producer->outq_len() > 0) {
    std::cerr << "touchstream loadgen: " << producer->outq_len()
              << " records not delivered within 60 s\n";
    return kExitFailure;
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - started).count();
  std::cerr << "loadgen: produced " << produced << " events in " << seconds << " s ("
            << static_cast<uint64_t>(produced / seconds) << "/s)\n";
  return kExitOk;
}

}  // namespace

void AddLoadgenCommand(CLI::App& app, Action* run) {
  auto opts = std::make_shared<LoadgenOptions>();
  CLI::App* cmd = app.add_subcommand(
      "loadgen",
      "Produce synthetic customer journeys (web, app, email, SMS, in-store, ...) as protobuf "
      "touchpoint records keyed by customer_id, as fast as possible or at --rate. Progress "
      "once a second on stderr.");
  cmd->add_option("--brokers", opts->brokers, "bootstrap servers host:port[,...]")->required();
  cmd->add_option("--topic", opts->topic, "topic to produce to")->capture_default_str();
  cmd->add_option("--events", opts->events, "how many events")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
  cmd->add_option("--customers", opts->customers, "size of the customer pool")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000'000));
  cmd->add_option("--seed", opts->seed, "generator seed (same seed, same events)")
      ->capture_default_str();
  cmd->add_option("--rate", opts->rate, "events per second; 0 = as fast as possible")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_flag("--profiles", opts->profiles,
                "customers change consent and carry time zones, 24 an hour apart (the policy "
                "stage's inputs; quiet hours then hold the same share of customers at any hour)");
  cmd->add_flag("--first-visits", opts->first_visits,
                "first one page view by each customer of the pool in turn (a warm-up that puts "
                "the whole pool in the store), then the journeys; --events counts the page views "
                "too (fewer events than customers visit only the first of the pool)");
  cmd->add_option("--unkeyed-percent", opts->unkeyed_percent,
                  "share of records produced without a key, placed on a random partition and "
                  "forwarded to their owner by `run`")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("-X", opts->x, "librdkafka property key=value (repeatable)");
  cmd->callback([opts, run] { *run = [opts] { return Loadgen(*opts); }; });
}

}  // namespace touchstream
