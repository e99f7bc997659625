#include "state/state_db.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "processor/core/erasure_memory.h"
#include "processor/core/partition_name.h"
#include "processor/diagnostics/fault_points.h"
#include "state/keys.h"
#include "state/restore_ingest.h"
#include "state/rocks_status.h"

namespace touchstream {

StatusOr<std::unique_ptr<StateDb>> StateDb::Open(const std::string& dir, bool sync,
                                                 const StoreMemory& memory) {
  return OpenImpl(dir, sync, false, memory);
}

StatusOr<std::unique_ptr<StateDb>> StateDb::OpenReadOnly(const std::string& dir) {
  return OpenImpl(dir, false, true, StoreMemory{});
}

StatusOr<std::unique_ptr<StateDb>> StateDb::OpenImpl(const std::string& dir, bool sync,
                                                     bool read_only, const StoreMemory& memory) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  // Memory bounded in bytes for the whole database: RocksDB's defaults tuned for level-style
  // compaction give each of the five column families up to 6 memtables of 128 MiB (a soak
  // over 1M customers grew past 700 MiB RSS, benchmarks/RESULTS.md) and a block cache each.
  options.OptimizeLevelStyleCompaction(memory.write_buffer_bytes);
  options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(memory.write_buffer_bytes);
  options.write_buffer_size = MemtableBytes(memory.write_buffer_bytes);
  options.max_write_buffer_number = kMaxMemtables;
  options.min_write_buffer_number_to_merge = 1;
  // Level 0 is compacted into level 1 once it holds four flushed files, not two: each such
  // compaction rewrites the whole of level 1 (a flush's customers are spread over every key
  // range) with zstd when it is the bottommost, so merging twice as many flushes at once halves
  // that work. At steady state over a million customers (two pairs of 10-minute soaks) the
  // customers' compactions took 4.9-5.6 CPU-seconds instead of 11.5-12.1, and RocksDB's
  // background threads 5.7-6.4 % of the run's CPU instead of 9.7-10.7 % (benchmarks/RESULTS.md,
  // thirty-ninth session). A read that misses the memtables checks up to four level-0 files,
  // each with its filter pinned in the cache.
  options.level0_file_num_compaction_trigger = 4;
  // Size on disk: the bottommost level (where a compacted store's customers live; levels 0 and 1
  // are otherwise uncompressed) is zstd-compressed with a dictionary per file, which catches what
  // repeats across customers' states (rule ids, zone names, sku and event-id prefixes): on the
  // e2e run's store after a full compaction, 279 bytes per customer uncompressed, 152 with zstd
  // alone, 123-128 with this dictionary (benchmarks/RESULTS.md); 110-115 since input dedup's ids
  // are 48-bit hashes, the part of a state no compression shrinks (forty-ninth session).
  // The dictionary is raw content (the file's sampled blocks as they are: zstd_max_train_bytes 0,
  // so neither trained nor finalized), because of how Debian's RocksDB reads: built without zstd's
  // digested dictionaries (ROCKSDB_ZSTD_DDICT), it hands zstd the dictionary again for every block
  // it decompresses. A finalized dictionary's entropy tables were then rebuilt each time: zstd was
  // a fifth of BM_PipelineScaling's CPU at 1M customers (most reads miss the block cache), three
  // quarters of it that rebuilding. A raw dictionary is only referenced. What the entropy tables
  // saved on disk, a larger dictionary and zstd level 6 win back (as 124-128 bytes per customer
  // with the finalized 16 KiB one at level 3); the compactions then cost about what they did
  // (their compression more, their reads of the input less: benchmarks/RESULTS.md, forty-first
  // session). Setting zstd_max_train_bytes again would train each file's dictionary
  // (use_zstd_dict_trainer defaults to true): that took about half of the compactions' CPU at
  // steady state (thirty-eighth session).
  options.bottommost_compression = rocksdb::kZSTD;
  options.bottommost_compression_opts.enabled = true;
  options.bottommost_compression_opts.level = 6;
  options.bottommost_compression_opts.max_dict_bytes = 32 << 10;
  options.bottommost_compression_opts.zstd_max_train_bytes = 0;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(memory.block_cache_bytes, -1, false,
                                           /*high_pri_pool_ratio=*/0.5);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Index and filter blocks partitioned, their top level pinned, and kept in the cache's high
  // priority pool: whole-file filter blocks (hundreds of KB for a file of tens of MiB) were evicted by
  // data blocks and read back, checksummed, for nearly every lookup once the customers outgrew
  // the cache (BM_PipelineScaling: 1M customers did not finish 500,000 events in 3 minutes).
  table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.pin_top_level_index_and_filter = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  // A customer lookup of an id not stored (a new customer) mostly skips every file.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions cf_options(options);
  // A customer read that misses the write-back cache looks in the memtables first; most such
  // reads are of customers not written since the last flush. A whole-key bloom filter per
  // memtable (1 % of its size, allocated with it: ~30 bits per customer of ~350 bytes) answers
  // those without a skip-list search, which took a quarter of a read at 1M customers
  // (benchmarks/RESULTS.md).
  rocksdb::ColumnFamilyOptions customer_options(cf_options);
  customer_options.memtable_whole_key_filtering = true;
  customer_options.memtable_prefix_bloom_size_ratio = 0.01;
  // The customers' memtables take most of the writes (state/huge_pages.h); only theirs, so that
  // what they may take is bounded (MemtableHugePagesWanted).
  customer_options.memtable_huge_page_size = memory.memtable_huge_page_bytes;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {"customers", customer_options},
      {"timers", cf_options},
      {"checkpoints", cf_options},
      {"outbox", cf_options},
  };
  std::unique_ptr<StateDb> state(new StateDb());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &state->handles_, &raw)
                : rocksdb::DB::Open(options, dir, descriptors, &state->handles_, &raw);
  if (!s.ok()) return FromRocksOpen(s, "cannot open state store in " + dir);
  state->db_.reset(raw);
  state->write_options_.sync = sync;
  state->dir_ = dir;
  if (!read_only) RestoreIngest::RemoveLeftovers(dir);

  std::unique_ptr<rocksdb::Iterator> it(
      state->db_->NewIterator(rocksdb::ReadOptions(), state->outbox()));
  it->SeekToLast();
  if (it->Valid()) state->next_outbox_seq_ = keys::DecodeOutbox(it->key().ToStringView()) + 1;
  return state;
}

StateDb::~StateDb() {
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  handles_.clear();
  db_->Close().PermitUncheckedError();
}

Status StateDb::Write(rocksdb::WriteBatch& batch) {
  Status s = FromRocks(db_->Write(write_options_, &batch), "state commit failed");
  if (s.ok() && write_recorder_) write_recorder_(batch.Data());
  return s;
}

Status StateDb::Replay(const std::string& batch_data) {
  rocksdb::WriteBatch batch(batch_data);
  return FromRocks(db_->Write(write_options_, &batch), "replayed write failed");
}

Status StateDb::CompactAll() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (Status s = FromRocks(db_->Flush(flush, handles_), "flush failed"); !s.ok()) return s;
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* family : handles_) {
    if (Status s =
            FromRocks(db_->CompactRange(compact, family, nullptr, nullptr), "compaction failed");
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

StatusOr<std::optional<v1::state::PartitionCheckpoint>> StateDb::ReadCheckpoint(
    const std::string& topic, int32_t partition) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), checkpoints(), keys::Checkpoint(topic, partition), &value);
  if (s.IsNotFound()) return std::optional<v1::state::PartitionCheckpoint>();
  if (!s.ok()) return FromRocksRead(s, "cannot read checkpoint");
  v1::state::PartitionCheckpoint checkpoint;
  if (!checkpoint.ParseFromString(value)) {
    return Status::Corruption("corrupt checkpoint for " + PartitionName(topic, partition));
  }
  return std::optional<v1::state::PartitionCheckpoint>(std::move(checkpoint));
}

StatusOr<std::optional<v1::state::RestoreHint>> StateDb::ReadRestoreHint(
    const std::string& changelog_topic, int32_t partition) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), checkpoints(),
                               keys::RestoreHint(changelog_topic, partition), &value);
  if (s.IsNotFound()) return std::optional<v1::state::RestoreHint>();
  if (!s.ok()) return FromRocksRead(s, "cannot read restore hint");
  v1::state::RestoreHint hint;
  if (!hint.ParseFromString(value)) {
    return Status::Corruption("corrupt restore hint for " +
                              PartitionName(changelog_topic, partition));
  }
  return std::optional<v1::state::RestoreHint>(std::move(hint));
}

StatusOr<std::map<int32_t, int64_t>> StateDb::ReleasedPartitions() {
  std::map<int32_t, int64_t> released;
  const std::string prefix = keys::ReleasedPrefix();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::optional<int32_t> partition = keys::DecodeReleased(it->key().ToStringView());
    if (!partition || it->value().size() != 8) return Status::Corruption("corrupt release mark");
    int64_t at_ms = 0;
    std::memcpy(&at_ms, it->value().data(), 8);
    released[*partition] = at_ms;
  }
  if (!it->status().ok()) return FromRocksRead(it->status(), "cannot read release marks");
  return released;
}

StatusOr<std::vector<int32_t>> StateDb::StoredPartitions() {
  std::set<int32_t> partitions;
  for (rocksdb::ColumnFamilyHandle* family : {customers(), timers()}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid();) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() < 4) return Status::Corruption("corrupt customer or timer key");
      uint32_t partition = 0;
      for (int i = 0; i < 4; ++i) partition = (partition << 8) | static_cast<uint8_t>(key[i]);
      partitions.insert(static_cast<int32_t>(partition));
      if (partition == UINT32_MAX) break;
      it->Seek(keys::PartitionPrefix(static_cast<int32_t>(partition + 1)));
    }
    if (!it->status().ok()) return FromRocksRead(it->status(), "cannot list stored partitions");
  }
  return std::vector<int32_t>(partitions.begin(), partitions.end());
}

Status StateDb::MarkReleased(const std::vector<int32_t>& partitions, int64_t at_ms) {
  rocksdb::WriteBatch batch;
  const std::string value(reinterpret_cast<const char*>(&at_ms), sizeof(at_ms));
  for (int32_t p : partitions)
    batch.Put(checkpoints(), keys::Released(p), value).PermitUncheckedError();
  return Write(batch);
}

Status StateDb::ForEachOutbox(const std::function<void(uint64_t, v1::state::OutboxRecord)>& fn) {
  return ForEachOutboxIn(0, UINT64_MAX, fn);
}

Status StateDb::ForEachOutboxIn(uint64_t from, uint64_t to,
                                const std::function<void(uint64_t, v1::state::OutboxRecord)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), outbox()));
  for (it->Seek(keys::Outbox(from)); it->Valid(); it->Next()) {
    const uint64_t seq = keys::DecodeOutbox(it->key().ToStringView());
    if (seq >= to) break;
    v1::state::OutboxRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Internal("corrupt outbox record");
    }
    fn(seq, std::move(record));
  }
  return FromRocks(it->status(), "cannot read outbox");
}

StatusOr<size_t> StateDb::DeleteOutboxOf(const std::string& topic) {
  std::vector<uint64_t> seqs;
  if (Status s = ForEachOutbox([&](uint64_t seq, const v1::state::OutboxRecord& record) {
        if (record.topic() == topic) seqs.push_back(seq);
      });
      !s.ok()) {
    return s;
  }
  if (Status s = DeleteOutbox(seqs); !s.ok()) return s;
  return seqs.size();
}

Status StateDb::DeleteOutbox(const std::vector<uint64_t>& seqs) {
  if (seqs.empty()) return Status::Ok();
  // The records given up (Recall, Abandon, a topic's records dropped at start-up) come mostly
  // in runs: one range tombstone for each long run instead of a tombstone per record. Short
  // runs stay point deletions, which keeps the range tombstones few (the outbox is read only at
  // start-up and by an erasure).
  constexpr size_t kMinRange = 16;
  std::vector<uint64_t> sorted(seqs);
  std::sort(sorted.begin(), sorted.end());
  rocksdb::WriteBatch batch;
  for (size_t begin = 0; begin < sorted.size();) {
    size_t end = begin + 1;
    while (end < sorted.size() && sorted[end] <= sorted[end - 1] + 1) ++end;
    if (end - begin >= kMinRange) {
      batch.DeleteRange(outbox(), keys::Outbox(sorted[begin]), keys::Outbox(sorted[end - 1] + 1))
          .PermitUncheckedError();
    } else {
      for (size_t i = begin; i < end; ++i) {
        batch.Delete(outbox(), keys::Outbox(sorted[i])).PermitUncheckedError();
      }
    }
    begin = end;
  }
  return Write(batch);
}

Status StateDb::DeleteOutboxRange(uint64_t from, uint64_t to) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(outbox(), keys::Outbox(from), keys::Outbox(to)).PermitUncheckedError();
  return Write(batch);
}

Status StateDb::ForEachCustomer(const std::function<void(int32_t, v1::state::CustomerState)>& fn) {
  StatusOr<std::map<int32_t, int64_t>> released = ReleasedPartitions();
  if (!released.ok()) return released.status();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), customers()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() < 4) return Status::Corruption("corrupt customer key");
    int32_t partition = 0;
    for (int i = 0; i < 4; ++i) partition = (partition << 8) | static_cast<uint8_t>(key[i]);
    if (released->count(partition) != 0) continue;
    if (IsErasureMemoryKey(key.substr(4))) continue;
    v1::state::CustomerState state;
    if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Corruption("corrupt stored state for a customer in partition " +
                                std::to_string(partition));
    }
    fn(partition, std::move(state));
  }
  return FromRocksRead(it->status(), "cannot read customers");
}

Status StateDb::ForEachEntryOf(
    int32_t partition,
    const std::function<Status(const std::string& key, v1::state::CustomerState)>& fn,
    const std::function<void(const std::string& key)>& on_corrupt) {
  const std::string prefix = keys::PartitionPrefix(partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), customers()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string key(it->key().ToStringView().substr(prefix.size()));
    v1::state::CustomerState state;
    if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      if (!on_corrupt) {
        return Status::Corruption("corrupt stored state for a customer in partition " +
                                  std::to_string(partition));
      }
      on_corrupt(key);
      continue;
    }
    if (Status s = fn(key, std::move(state)); !s.ok()) return s;
  }
  return FromRocksRead(it->status(), "cannot read customers");
}

StateDb::Stats StateDb::ReadStats() {
  static constexpr const char* kNames[] = {"customers", "timers", "checkpoints", "outbox"};
  Stats stats;
  for (size_t i = 0; i < 4; ++i) {
    rocksdb::ColumnFamilyHandle* family = handles_[i + 1];
    stats.families.push_back({kNames[i], IntProperty(family, "rocksdb.estimate-num-keys"),
                              IntProperty(family, "rocksdb.estimate-live-data-size"),
                              IntProperty(family, "rocksdb.estimate-pending-compaction-bytes"),
                              IntProperty(family, "rocksdb.total-sst-files-size"),
                              IntProperty(family, "rocksdb.num-deletes-active-mem-table") +
                                  IntProperty(family, "rocksdb.num-deletes-imm-mem-tables")});
  }
  for (rocksdb::ColumnFamilyHandle* family : handles_) {
    stats.memtable_bytes += IntProperty(family, "rocksdb.size-all-mem-tables");
    stats.table_readers_bytes += IntProperty(family, "rocksdb.estimate-table-readers-mem");
  }
  // DB-wide properties: read once, on the default family (the block cache is
  // shared).
  rocksdb::ColumnFamilyHandle* all = handles_[0];
  stats.block_cache_usage_bytes = IntProperty(all, "rocksdb.block-cache-usage");
  stats.write_stopped = IntProperty(all, "rocksdb.is-write-stopped");
  stats.delayed_write_rate = IntProperty(all, "rocksdb.actual-delayed-write-rate");
  stats.background_errors = IntProperty(all, "rocksdb.background-errors");
  return stats;
}

uint64_t StateDb::IntProperty(rocksdb::ColumnFamilyHandle* family, const std::string& name) {
  uint64_t value = 0;
  return db_->GetIntProperty(family, name, &value) ? value : 0;
}

StatusOr<std::optional<v1::state::CustomerState>> StateDb::ReadCustomer(
    int32_t partition, const std::string& customer_id) {
  v1::state::CustomerState state;
  StatusOr<std::optional<size_t>> stored = ReadCustomerInto(partition, customer_id, state);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<v1::state::CustomerState>();
  return std::optional<v1::state::CustomerState>(std::move(state));
}

StatusOr<std::optional<size_t>> StateDb::ReadCustomerInto(int32_t partition,
                                                         const std::string& customer_id,
                                                         v1::state::CustomerState& into) {
  into.Clear();
  std::string value;
  StatusOr<bool> found = ReadCustomerBytes(partition, customer_id, value);
  if (!found.ok()) return found.status();
  if (!*found) return std::optional<size_t>();
  if (!into.ParseFromString(value)) {
    into.Clear();
    return Status::Corruption("corrupt stored state for a customer in partition " +
                              std::to_string(partition));
  }
  return std::optional<size_t>(value.size());
}

StatusOr<bool> StateDb::ReadCustomerBytes(int32_t partition, const std::string& customer_id,
                                          std::string& into) {
  into.clear();
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), customers(), keys::Customer(partition, customer_id), &into);
  if (FailPoint("state_read")) s = rocksdb::Status::IOError("TOUCHSTREAM_FAIL_AT=state_read");
  if (s.IsNotFound()) {
    into.clear();
    return false;
  }
  if (!s.ok()) return FromRocksRead(s, "cannot read customer");
  return true;
}

StatusOr<std::optional<std::pair<int32_t, v1::state::CustomerState>>> StateDb::FindCustomer(
    const std::string& customer_id) {
  using Found = std::optional<std::pair<int32_t, v1::state::CustomerState>>;
  if (IsErasureMemoryKey(customer_id)) return Found();
  StatusOr<std::map<int32_t, int64_t>> released = ReleasedPartitions();
  if (!released.ok()) return released.status();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), customers()));
  for (it->SeekToFirst(); it->Valid();) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() < 4) return Status::Corruption("corrupt customer key");
    uint32_t partition = 0;
    for (int i = 0; i < 4; ++i) partition = (partition << 8) | static_cast<uint8_t>(key[i]);
    if (released->count(static_cast<int32_t>(partition)) != 0) {
      if (partition == UINT32_MAX) break;
      it->Seek(keys::PartitionPrefix(static_cast<int32_t>(partition + 1)));
      continue;
    }
    auto state = ReadCustomer(static_cast<int32_t>(partition), customer_id);
    if (!state.ok()) return state.status();
    if (state->has_value()) {
      return Found(std::make_pair(static_cast<int32_t>(partition), std::move(**state)));
    }
    if (partition == UINT32_MAX) break;
    it->Seek(keys::PartitionPrefix(static_cast<int32_t>(partition + 1)));
  }
  if (!it->status().ok()) return FromRocksRead(it->status(), "cannot read customers");
  return Found();
}

}  // namespace touchstream
