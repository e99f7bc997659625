// Micro benchmarks of the hot path: decode + validate, and the pipeline over the in-memory and
// the RocksDB store (with a commit every 5000 events, as `run` does). Results: RESULTS.md.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "benchmarks/store_memory.h"
#include "processor/core/event_dedup.h"
#include "processor/core/event_validator.h"
#include "processor/core/memory_store.h"
#include "processor/core/pipeline.h"
#include "processor/demo/journey_generator.h"
#include "processor/rules/cart_abandonment_rule.h"
#include "state/commit_batch.h"
#include "state/partition_state.h"

namespace touchstream {
namespace {

std::vector<v1::TouchpointEvent> Journeys(size_t count) {
  JourneyOptions options;
  options.journeys_per_second = 200;
  options.customers = 100'000;
  JourneyGenerator generator(options);
  std::vector<v1::TouchpointEvent> events;
  TimeMs now = 1767225600000;
  while (events.size() < count) {
    now += 100;
    for (auto& e : generator.Poll(now)) events.push_back(std::move(e));
  }
  events.resize(count);
  return events;
}

RuleSet CartRules() {
  RuleSet rules;
  rules.push_back(std::make_unique<CartAbandonmentRule>("cart_1h", CartAbandonmentParams{}));
  rules.push_back(
      std::make_unique<CartAbandonmentRule>("cart_10m", CartAbandonmentParams{10 * kMinuteMs, 0}));
  return rules;
}

void BM_DecodeAndValidate(benchmark::State& state) {
  const auto events = Journeys(10'000);
  std::vector<std::string> bytes;
  for (const auto& e : events) bytes.push_back(e.SerializeAsString());
  const EventValidator validator{ValidationLimits{}};
  v1::TouchpointEvent scratch;
  size_t i = 0;
  for (auto _ : state) {
    Verdict v =
        validator.DecodeAndValidate(bytes[i++ % bytes.size()], 1767225600000 + kDayMs, &scratch);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeAndValidate);

void BM_PipelineInMemory(benchmark::State& state) {
  const auto events = Journeys(200'000);
  const RuleSet rules = CartRules();
  auto store = std::make_unique<MemoryStore>();
  auto pipeline = std::make_unique<PartitionPipeline>(rules, *store, 0);
  std::vector<v1::Trigger> out;
  size_t i = 0;
  for (auto _ : state) {
    if (i == events.size()) {  // start over: event time must not go backwards
      state.PauseTiming();
      pipeline.reset();
      store = std::make_unique<MemoryStore>();
      pipeline = std::make_unique<PartitionPipeline>(rules, *store, 0);
      i = 0;
      state.ResumeTiming();
    }
    (void)pipeline->Process(events[i++], out);
    out.clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PipelineInMemory);

void BM_PipelineOnRocksDb(benchmark::State& state) {
  const auto events = Journeys(200'000);
  const RuleSet rules = CartRules();
  const auto dir = std::filesystem::temp_directory_path() / "touchstream_bench_rocksdb";
  std::filesystem::remove_all(dir);
  auto db = StateDb::Open(dir.string(), false, BenchStoreMemory(state));
  {
    // The store (its timer iterator) goes before the database.
    PartitionState store(**db, 0);
    PartitionPipeline pipeline(rules, store, 0);
    std::vector<v1::Trigger> out;
    size_t i = 0;
    for (auto _ : state) {
      // Past the end the events repeat with old times: late events, still realistic work.
      (void)pipeline.Process(events[i++ % events.size()], out);
      out.clear();
      if (i % 5000 == 0) {
        CommitBatch batch(**db);
        batch.AddChanges(store);
        (void)batch.Commit();
        store.OnCommitted();
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  db->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PipelineOnRocksDb);

// Scaling with the customers stored (make bench-full): the store is first filled with N
// customers (a typical state each, ~250 bytes encoded), then 500,000 journey events are applied
// to customers drawn uniformly from the N (each event's customer replaced), committing every
// 5,000 as `run` does, with the write-back cache at one partition's default share (32 MiB). At
// 100K customers the working set fits the cache; at 1M and 10M most reads go to RocksDB (bloom
// filters, the 64 MiB block cache). Only applying and committing is timed, not the fill.
v1::state::CustomerState TypicalState() {
  v1::state::CustomerState c;
  c.set_first_seen_ms(1767225600000);
  c.set_last_activity_ms(1767225600000 + 3 * kDayMs);
  c.set_last_channel(v1::CHANNEL_WEB);
  for (int n : {0, 4, 2}) c.add_events_by_channel(n);
  c.set_purchases_online(1);
  c.set_lifetime_value_minor(8999);
  auto* line = c.mutable_cart()->add_lines();
  line->set_sku("sku-sneaker-42");
  line->set_quantity(1);
  line->set_unit_price_minor(8999);
  c.mutable_cart()->set_last_change_ms(c.last_activity_ms());
  c.mutable_cart()->set_last_change_event_id("ev-42-26162");
  for (int i = 0; i < 6; ++i) {
    // A 48-bit id hash, as EventIdHash gives.
    AppendRecentId(c, (0x9E3779B97F4A7C15ull * (i + 1)) >> 16, c.first_seen_ms() + i * 1000);
  }
  auto* consent = c.mutable_policy()->add_consent();
  consent->set_channel(v1::CHANNEL_EMAIL);
  consent->set_opted_in(true);
  consent->set_time_ms(c.first_seen_ms());
  c.mutable_policy()->set_timezone("America/New_York");
  c.mutable_policy()->set_timezone_ms(c.last_activity_ms());
  return c;
}

std::string ScalingCustomer(int64_t n) { return "scale-" + std::to_string(n); }

void BM_PipelineScaling(benchmark::State& state) {
  const int64_t customers = state.range(0);
  auto events = Journeys(500'000);
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> pick(0, customers - 1);
  for (auto& e : events) e.set_customer_id(ScalingCustomer(pick(random)));
  const RuleSet rules = CartRules();
  const auto dir = std::filesystem::temp_directory_path() / "touchstream_bench_scaling";
  std::filesystem::remove_all(dir);
  auto db = StateDb::Open(dir.string(), false, BenchStoreMemory(state));
  {
    v1::state::CustomerState typical = TypicalState();
    std::string value;
    CommitBatch fill(**db);
    for (int64_t n = 0; n < customers; ++n) {
      typical.set_customer_id(ScalingCustomer(n));
      typical.SerializeToString(&value);
      fill.PutCustomerValue(0, typical.customer_id(), &value);
      if (fill.size() >= 10'000) (void)fill.Commit();
    }
    (void)fill.Commit();
  }
  // The store as a running instance's would be: compacted, no compaction of the fill left to
  // compete with the timed part for the machine's two cores (at 10M customers it took half of
  // the timed part's samples: the rows before the thirty-fourth session include it).
  (void)(*db)->CompactAll();
  for (auto _ : state) {
    // The store (its timer iterator) goes before the database.
    PartitionState store(**db, 0, 32ull << 20);
    PartitionPipeline pipeline(rules, store, 0);
    std::vector<v1::Trigger> out;
    const auto started = std::chrono::steady_clock::now();
    for (size_t i = 0; i < events.size(); ++i) {
      (void)pipeline.Process(events[i], out);
      out.clear();
      if ((i + 1) % 5000 == 0) {
        CommitBatch batch(**db);
        batch.AddChanges(store);
        (void)batch.Commit();
        store.OnCommitted();
      }
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
  state.counters["customers"] = static_cast<double>(customers);
  db->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PipelineScaling)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);

}  // namespace
}  // namespace touchstream
