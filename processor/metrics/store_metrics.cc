#include "processor/metrics/store_metrics.h"

#include "state/disk_space.h"
#include "state/state_db.h"

namespace touchstream {

namespace {

constexpr const char* kFamilies[] = {"customers", "timers", "checkpoints", "outbox"};

}  // namespace

StoreMetrics::StoreMetrics(prometheus::Registry& registry) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  auto& keys = BuildGauge()
                   .Name("touchstream_rocksdb_estimated_keys")
                   .Help(
                       "RocksDB estimate of live keys, by column family "
                       "(timers: pending "
                       "timers)")
                   .Register(registry);
  auto& live = BuildGauge()
                   .Name("touchstream_rocksdb_live_data_size_bytes")
                   .Help("RocksDB estimate of live data size, by column family")
                   .Register(registry);
  for (const char* family : kFamilies) {
    families_[family] = {&keys.Add({{"column_family", family}}),
                         &live.Add({{"column_family", family}})};
  }
  pending_compaction_bytes_ = &BuildGauge()
                                   .Name("touchstream_rocksdb_pending_compaction_bytes")
                                   .Help("Bytes RocksDB estimates compaction must rewrite")
                                   .Register(registry)
                                   .Add({});
  block_cache_usage_bytes_ = &BuildGauge()
                                  .Name("touchstream_rocksdb_block_cache_usage_bytes")
                                  .Help("Memory used by the RocksDB block cache")
                                  .Register(registry)
                                  .Add({});
  memtable_bytes_ = &BuildGauge()
                         .Name("touchstream_rocksdb_memtable_bytes")
                         .Help(
                             "Memory of RocksDB's memtables, mutable and immutable, every "
                             "column family (state.write_buffer_bytes bounds the mutable ones)")
                         .Register(registry)
                         .Add({});
  table_readers_bytes_ = &BuildGauge()
                              .Name("touchstream_rocksdb_table_readers_bytes")
                              .Help("Memory of RocksDB's open table readers outside the block cache")
                              .Register(registry)
                              .Add({});
  background_errors_ = &BuildCounter()
                            .Name("touchstream_rocksdb_background_errors_total")
                            .Help("RocksDB background (flush/compaction) errors")
                            .Register(registry)
                            .Add({});
  write_stopped_ = &BuildGauge()
                        .Name("touchstream_rocksdb_write_stopped")
                        .Help("1 while RocksDB stops writes (write stall), else 0")
                        .Register(registry)
                        .Add({});
  delayed_write_rate_ = &BuildGauge()
                             .Name("touchstream_rocksdb_delayed_write_rate_bytes_per_second")
                             .Help(
                                 "Write rate RocksDB throttles to while slowing writes; 0 "
                                 "when not slowed")
                             .Register(registry)
                             .Add({});
  disk_available_bytes_ = &BuildGauge()
                               .Name("touchstream_state_disk_available_bytes")
                               .Help("Free bytes on the state directory's filesystem")
                               .Register(registry)
                               .Add({});
  disk_size_bytes_ = &BuildGauge()
                          .Name("touchstream_state_disk_size_bytes")
                          .Help("Size of the state directory's filesystem")
                          .Register(registry)
                          .Add({});
}

StoreSample StoreMetrics::Sample(StateDb& db) {
  StoreSample sample;
  const StateDb::Stats stats = db.ReadStats();
  uint64_t pending_compaction = 0;
  for (const StateDb::FamilyStats& family : stats.families) {
    auto it = families_.find(family.name);
    if (it == families_.end()) continue;
    it->second.estimated_keys->Set(static_cast<double>(family.estimated_keys));
    it->second.live_data_bytes->Set(static_cast<double>(family.live_data_bytes));
    pending_compaction += family.pending_compaction_bytes;
  }
  pending_compaction_bytes_->Set(static_cast<double>(pending_compaction));
  block_cache_usage_bytes_->Set(static_cast<double>(stats.block_cache_usage_bytes));
  memtable_bytes_->Set(static_cast<double>(stats.memtable_bytes));
  table_readers_bytes_->Set(static_cast<double>(stats.table_readers_bytes));
  write_stopped_->Set(static_cast<double>(stats.write_stopped));
  delayed_write_rate_->Set(static_cast<double>(stats.delayed_write_rate));
  sample.background_errors = stats.background_errors;
  if (sample.background_errors > background_errors_seen_) {
    background_errors_->Increment(
        static_cast<double>(sample.background_errors - background_errors_seen_));
    background_errors_seen_ = sample.background_errors;
  }

  if (auto space = ReadDiskSpace(db.dir()); space.ok()) {
    sample.disk_available_bytes = space->available_bytes;
    sample.disk_size_bytes = space->size_bytes;
    disk_available_bytes_->Set(static_cast<double>(sample.disk_available_bytes));
    disk_size_bytes_->Set(static_cast<double>(sample.disk_size_bytes));
  }
  return sample;
}

}  // namespace touchstream
