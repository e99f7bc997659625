// Micro benchmarks of the hot path: decode + validate, and the pipeline over the in-memory and
// the RocksDB store (with a commit every 5000 events, as `run` does). Results: RESULTS.md.
#include <benchmark/benchmark.h>

#include <filesystem>

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
  auto db = StateDb::Open(dir.string(), false);
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

}  // namespace
}  // namespace touchstream
