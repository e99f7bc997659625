// The whole per-partition path in process (make bench): decode, the e2e workload's rules and
// policies, the TaskManager's commit (RocksDB write, checkpoint, changelog records) and the
// outbox, through the test driver with an in-memory relay instead of Kafka. 2,500 events per
// commit, what `run` commits at ~25K events/s with the default 100 ms interval. One iteration
// is what `loadgen` gives the e2e run: 200,000 events of the journey generator with consent
// changes and time zones, their times starting 30 days before the wall clock, on one
// partition; then, as when `run` has read everything, the partition is caught up and its
// clock moves to the wall clock: the timers still pending fire (in chunks, each committed).
// BM_StateEncoding (below) measures what encoding a state costs cold and warm.
// The end-to-end run (benchmarks/e2e.sh) adds Kafka and is noisy on a shared machine; this is
// the stable measure for changes to the commit path. stored_outbox:1 is at_least_once's commit
// (triggers and audit records stored in the outbox, deleted once delivered), stored_outbox:0
// exactly_once's (Relay::resends_stored_outbox: nothing stored).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "processor/demo/journey_generator.h"
#include "tests/driver/test_driver.h"

namespace touchstream {
namespace {

// The e2e workload's rules and policies (benchmarks/lib.sh, workload_rules 1).
std::string Workload() {
  std::ifstream in(TOUCHSTREAM_WORKLOAD_PATH);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr size_t kEvents = 200'000;
constexpr size_t kEventsPerCommit = 2'500;
constexpr TimeMs kStartMs = 1767225600000;

std::vector<std::vector<v1::TouchpointEvent>> Batches() {
  JourneyOptions options;
  options.journeys_per_second = 200;
  options.customers = 100'000;
  options.consent_and_time_zones = true;
  JourneyGenerator generator(options);
  std::vector<std::vector<v1::TouchpointEvent>> batches(1);
  size_t total = 0;
  TimeMs now = kStartMs;
  while (total < kEvents) {
    now += 100;
    for (auto& e : generator.Poll(now)) {
      if (total == kEvents) break;
      if (batches.back().size() == kEventsPerCommit) batches.emplace_back();
      batches.back().push_back(std::move(e));
      ++total;
    }
  }
  return batches;
}

// The driver's options for the workload: the wall clock 30 days after the events' start,
// delivered records released as Kafka's acknowledgement does, no settled-state check (a test's).
testing::DriverOptions WorkloadOptions() {
  testing::DriverOptions options;
  options.wall_ms = kStartMs + 30 * kDayMs;
  options.keep_delivered = false;
  options.verify_settled = false;
  return options;
}

void BM_CommitPath(benchmark::State& state) {
  const auto batches = Batches();
  const std::string workload = Workload();
  if (workload.empty()) {
    state.SkipWithError("cannot read " TOUCHSTREAM_WORKLOAD_PATH);
    return;
  }
  size_t triggers = 0;
  uint64_t popped = 0;
  uint64_t rearmed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::DriverOptions options = WorkloadOptions();
    options.resends_stored_outbox = state.range(0) != 0;
    auto driver = testing::TestDriver::FromYaml(workload, options);
    state.ResumeTiming();
    for (const auto& batch : batches) triggers += driver->PipeBatch(batch).size();
    triggers += driver->AdvanceWallClock(1).size();
    if (!driver->status().ok()) state.SkipWithError(driver->status().ToString().c_str());
    state.PauseTiming();
    popped += driver->task()->timers_popped();
    rearmed += driver->task()->timers_rearmed();
    driver.reset();  // its store's directory goes too
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
  const auto per_pass = [&](double n) { return n / static_cast<double>(state.iterations()); };
  state.counters["triggers_per_pass"] = per_pass(static_cast<double>(triggers));
  // Timer index entries popped, and of them re-armed at a later due time (not fired).
  state.counters["timers_popped_per_pass"] = per_pass(static_cast<double>(popped));
  state.counters["timers_rearmed_per_pass"] = per_pass(static_cast<double>(rearmed));
}
BENCHMARK(BM_CommitPath)
    ->ArgName("stored_outbox")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// What encoding a customer's state costs when its message was last touched long ago (as at a
// commit that encodes every state changed in the batch) against while it is in the CPU's cache
// (as when the pipeline settles it right after an event: PartitionStore::Settle), and what
// parsing it back from its bytes costs. The states are those the e2e workload leaves (one
// BM_CommitPath pass, ~33,000 customers), parsed in random order with other allocations in
// between, as a cache filled over time holds them. Arg: how many of them are picked from at
// random (64: they stay in the CPU's cache; all: most reads miss it).
struct WorkloadStates {
  std::vector<std::string> encoded;
  std::vector<std::unique_ptr<v1::state::CustomerState>> parsed;
  std::vector<std::string> spacers;  // allocated between the parsed states' nodes
};

const WorkloadStates& States() {
  static const WorkloadStates* states = [] {
    auto* out = new WorkloadStates;
    auto driver = testing::TestDriver::FromYaml(Workload(), WorkloadOptions());
    std::set<std::string> customers;
    for (const auto& batch : Batches()) {
      for (const auto& e : batch) customers.insert(e.customer_id());
      driver->PipeBatch(batch);
    }
    driver->AdvanceWallClock(1);
    for (const std::string& id : customers) {
      if (auto state = driver->ReadState(id)) out->encoded.push_back(state->SerializeAsString());
    }
    std::mt19937_64 random(1);
    std::vector<size_t> order(out->encoded.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), random);
    out->parsed.resize(order.size());
    for (size_t i : order) {
      out->parsed[i] = std::make_unique<v1::state::CustomerState>();
      out->parsed[i]->ParseFromString(out->encoded[i]);
      for (int k = 0; k < 8; ++k) out->spacers.emplace_back(16 + random() % 200, 'x');
    }
    return out;
  }();
  return *states;
}

void BM_StateEncoding(benchmark::State& state, bool parse) {
  const WorkloadStates& states = States();
  if (states.encoded.empty()) {
    state.SkipWithError("the workload left no customer states");
    return;
  }
  const size_t n = std::min<size_t>(static_cast<size_t>(state.range(0)), states.encoded.size());
  std::mt19937_64 random(2);
  std::string out;
  v1::state::CustomerState scratch;
  for (auto _ : state) {
    const size_t i = random() % n;
    const v1::state::CustomerState* message = states.parsed[i].get();
    if (parse) {
      scratch.ParseFromString(states.encoded[i]);
      message = &scratch;
    }
    out.clear();
    message->AppendToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["states"] = static_cast<double>(states.encoded.size());
}
// Encoding the parsed message (ByteSizeLong and serializing).
BENCHMARK_CAPTURE(BM_StateEncoding, encode, false)->Arg(64)->Arg(1 << 30);
// Parsing the bytes into a reused message, then encoding it: what a cache of encoded states
// would pay per change instead.
BENCHMARK_CAPTURE(BM_StateEncoding, parse_and_encode, true)->Arg(64)->Arg(1 << 30);

}  // namespace
}  // namespace touchstream
