// The write side of a cold restore that holds the whole changelog partition (the read-once
// path of processor/kafka/changelog_restorer.cc), in process: N customers' final values and
// their timer index entries, arriving in log (random) order, written into a partition just
// wiped; the time until they are written. Two ways:
//   batch  - RestoreWriter (state/restore_writer.h): 1,000 customers at a time, sorted, through
//            the WAL and the memtables (flushed and compacted later, in the background);
//   ingest - RestoreIngest (state/restore_ingest.h): all customers sorted, two SST files,
//            ingested at once (the wipe's memtable flushed first).
// Real time is what the restore waits for; CPU is the process's (background flushes and
// compactions during the write included, not those that come after).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "benchmarks/store_memory.h"
#include "processor/core/event_dedup.h"
#include "state/commit_batch.h"
#include "state/restore_ingest.h"
#include "state/restore_writer.h"
#include "state/state_db.h"

namespace touchstream {
namespace {

constexpr int32_t kPartition = 3;
constexpr int64_t kDayMs = 86'400'000;

// A customer with a cart rule and a win-back rule armed: two timers (~280 bytes encoded, about
// the e2e store's median).
v1::state::CustomerState Customer(int64_t n) {
  v1::state::CustomerState c;
  c.set_customer_id("cust-" + std::to_string(n * 7919 % 10'000'019));
  c.set_first_seen_ms(1767225600000 + n);
  c.set_last_activity_ms(c.first_seen_ms() + 3 * kDayMs);
  c.set_last_channel(1);
  for (int k : {0, 4, 2, 1}) c.add_events_by_channel(k);
  c.set_lifetime_value_minor(8999);
  auto* line = c.mutable_cart()->add_lines();
  line->set_sku("sku-sneaker-" + std::to_string(n % 500));
  line->set_quantity(1);
  line->set_unit_price_minor(8999);
  for (int i = 0; i < 6; ++i) {
    // A 48-bit id hash, as EventIdHash gives.
    AppendRecentId(c, (0x9E3779B97F4A7C15ull * (n + i + 1)) >> 16, c.first_seen_ms() + i * 1000);
  }
  for (const char* rule : {"cart_1h", "win_back_30d"}) {
    auto* slot = c.add_rules();
    slot->set_rule_id(rule);
    slot->mutable_state()->set_due_ms(c.last_activity_ms() + (n % 97) * 60'000);
  }
  c.mutable_policy()->set_timezone("America/New_York");
  return c;
}

struct Input {
  std::vector<std::string> ids;
  std::vector<std::string> values;
  std::vector<v1::state::CustomerState> states;
};

Input Customers(int64_t count) {
  Input in;
  for (int64_t n = 0; n < count; ++n) {
    in.states.push_back(Customer(n));
    in.ids.push_back(in.states.back().customer_id());
    in.values.push_back(in.states.back().SerializeAsString());
  }
  return in;  // in the (random) order of the ids' hash, as a log would have them
}

void BM_RestoreWrite(benchmark::State& state) {
  const bool ingest = state.range(0) == 1;
  const Input in = Customers(state.range(1));
  const auto dir = std::filesystem::temp_directory_path() / "touchstream_bench_restore_write";
  const StoreMemory memory = BenchStoreMemory(state);
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto db = StateDb::Open(dir.string(), false, memory);
    if (!db.ok()) {
      state.SkipWithError(db.status().message().c_str());
      break;
    }
    CommitBatch batch(**db);
    batch.WipePartition("touchpoints", kPartition);
    state.ResumeTiming();
    Status s = Status::Ok();
    if (ingest) {
      s = batch.Commit();
      std::vector<size_t> order(in.ids.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return in.ids[a] < in.ids[b]; });
      RestoreIngest writer(**db, kPartition, /*watermark_ms=*/0);
      for (size_t i : order) {
        if (!s.ok()) break;
        const std::string_view value = in.values[i];
        s = writer.Put(in.ids[i], &value, &in.states[i]);
      }
      if (s.ok()) s = writer.Finish();
    } else {
      RestoreWriter writer(batch, kPartition, /*watermark_ms=*/0);
      for (size_t i = 0; i < in.ids.size() && s.ok(); ++i) {
        const std::string_view value = in.values[i];
        s = writer.Put(in.ids[i], &value, &in.states[i]);
      }
      if (s.ok()) s = writer.Flush();
    }
    state.PauseTiming();
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    db->reset();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * state.range(1));
  state.SetLabel(ingest ? "ingest" : "batch");
}
BENCHMARK(BM_RestoreWrite)
    ->ArgsProduct({{0, 1}, {4'000, 10'000, 20'000, 40'000, 400'000}})
    ->ArgNames({"ingest", "customers"})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace touchstream
