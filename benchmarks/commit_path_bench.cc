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
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "benchmarks/store_memory.h"
#include "processor/demo/journey_generator.h"
#include "state/state_db.h"
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
  const StoreMemory memory = BenchStoreMemory(state);
  for (auto _ : state) {
    state.PauseTiming();
    testing::DriverOptions options = WorkloadOptions();
    options.resends_stored_outbox = state.range(0) != 0;
    options.memory = memory;
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

// RocksDB's part of BM_CommitPath alone: every batch one pass of it writes (stored_outbox:1:
// its commits, and the test driver's deletions of delivered outbox records), recorded once and
// replayed into a fresh store opened as the driver opens its own, in the same order, with
// nothing else around them. No reads: the pass's lookups of customers and timers are not in
// it. What it costs per event is a floor for any change above RocksDB that keeps these writes.
struct RecordedWrites {
  std::vector<std::string> batches;  // WriteBatch::Data, in write order
  size_t bytes = 0;
};

// The operations of `batch_data` on the column families whose ids are set in `families` (a bit
// per id: StateDb's customers 1, timers 2, checkpoints 3, outbox 4).
class FamilyFilter : public rocksdb::WriteBatch::Handler {
 public:
  explicit FamilyFilter(uint32_t families) : families_(families) {}
  rocksdb::Status PutCF(uint32_t id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return Keep(id) ? out.Put(Handle(id), key, value) : rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t id, const rocksdb::Slice& key) override {
    return Keep(id) ? out.Delete(Handle(id), key) : rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t id, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    return Keep(id) ? out.DeleteRange(Handle(id), begin, end) : rocksdb::Status::OK();
  }
  rocksdb::WriteBatch out;

 private:
  // A stand-in handle: WriteBatch records only its id.
  struct Id : rocksdb::ColumnFamilyHandle {
    uint32_t id = 0;
    const std::string& GetName() const override { return name; }
    uint32_t GetID() const override { return id; }
    rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
      return rocksdb::Status::NotSupported();
    }
    const rocksdb::Comparator* GetComparator() const override { return nullptr; }
    std::string name;
  };
  bool Keep(uint32_t id) const { return (families_ >> id) & 1; }
  rocksdb::ColumnFamilyHandle* Handle(uint32_t id) {
    handle_.id = id;
    return &handle_;
  }
  const uint32_t families_;
  Id handle_;
};

const RecordedWrites& Writes() {
  static const RecordedWrites* writes = [] {
    auto* out = new RecordedWrites;
    auto driver = testing::TestDriver::FromYaml(Workload(), WorkloadOptions());
    driver->db().set_write_recorder([out](const std::string& data) {
      out->batches.push_back(data);
      out->bytes += data.size();
    });
    for (const auto& batch : Batches()) driver->PipeBatch(batch);
    driver->AdvanceWallClock(1);
    driver->db().set_write_recorder(nullptr);
    return out;
  }();
  return *writes;
}

void BM_CommitWrites(benchmark::State& state) {
  RecordedWrites writes = Writes();
  if (writes.batches.empty()) {
    state.SkipWithError("the workload wrote nothing");
    return;
  }
  if (const auto families = static_cast<uint32_t>(state.range(0)); families != 0) {
    RecordedWrites kept;
    for (const std::string& data : writes.batches) {
      FamilyFilter filter(families);
      rocksdb::WriteBatch(data).Iterate(&filter).PermitUncheckedError();
      if (filter.out.Count() == 0) continue;
      kept.bytes += filter.out.Data().size();
      kept.batches.push_back(filter.out.Data());
    }
    writes = std::move(kept);
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("touchstream-bench-writes-" + std::to_string(getpid()));
  const StoreMemory memory = BenchStoreMemory(state);
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto db = StateDb::Open(dir.string(), /*sync=*/false, memory);
    if (!db.ok()) {
      state.SkipWithError(db.status().ToString().c_str());
      break;
    }
    state.ResumeTiming();
    for (const std::string& batch : writes.batches) {
      if (Status s = (*db)->Replay(batch); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        break;
      }
    }
    state.PauseTiming();
    db->reset();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
  state.counters["batches_per_pass"] = static_cast<double>(writes.batches.size());
  state.counters["bytes_per_pass"] = static_cast<double>(writes.bytes);
}
// Arg: the column families replayed, a bit per id (0: every one; 2: customers, 4: timers, 8:
// checkpoints, 16: outbox).
BENCHMARK(BM_CommitWrites)
    ->ArgName("families")
    ->Arg(0)
    ->Arg(2)
    ->Arg(4)
    ->Arg(16)
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
