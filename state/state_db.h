// The RocksDB database of one processor instance. Column families:
//   customers   - CustomerState per (partition, customer id)
//   timers      - the time-ordered timer index, derived from the states' due times
//   checkpoints - PartitionCheckpoint per input (topic, partition): where input resumes; and
//                 the restore hint of each changelog partition (state/changelog_tail.h)
//   outbox      - OutboxRecord per sequence number: produced records awaiting delivery
// Everything one commit changes goes into one WriteBatch, built by CommitBatch
// (state/commit_batch.h). Nothing outside state/ sees RocksDB handles or raw keys.
// Errors: Status::Corruption when stored data does not parse or RocksDB reports it corrupt (or,
// on open, a file the database names is missing): local damage that the changelog can repair
// (state/corrupt_store.h, README "Corrupt local state"); any other RocksDB error is IoError.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "processor/core/status.h"
#include "state.pb.h"

namespace touchstream {

// RocksDB's memory, bounded in bytes for the whole database (every column family shares both).
struct StoreMemory {
  // The LRU block cache: data blocks, and the index and bloom filter blocks of the files.
  uint64_t block_cache_bytes = 64ull << 20;
  // Memtables (a WriteBufferManager): past this, the largest is flushed.
  uint64_t write_buffer_bytes = 128ull << 20;
  // The customers' memtables (their arena blocks and bloom filters) in explicit huge pages of
  // this size (state/huge_pages.h), ordinary memory for a block when none is free; 0: ordinary
  // memory.
  uint64_t memtable_huge_page_bytes = 0;
};

// How large each memtable grows before it is switched for a new one (RocksDB's
// write_buffer_size): a quarter of the write buffer, at least 4 MiB.
inline uint64_t MemtableBytes(uint64_t write_buffer_bytes) {
  return std::max<uint64_t>(4ull << 20, write_buffer_bytes / 4);
}
// How many memtables a column family keeps at most (RocksDB's max_write_buffer_number): the one
// written and those waiting for their flush; RocksDB stops writes until a flush frees one.
inline constexpr int kMaxMemtables = 3;

// Safe for concurrent use (RocksDB is); the outbox sequence belongs to the commit thread.
class StateDb {
 public:
  // Opens or creates the database in `dir`. `sync` makes every commit fsync its WAL.
  // Corruption: the database cannot be opened as it is (OpenOrMoveAside); IoError: anything else,
  // e.g. its LOCK held by another process, a permission error, a full disk.
  static StatusOr<std::unique_ptr<StateDb>> Open(const std::string& dir, bool sync,
                                                 const StoreMemory& memory = {});
  // Opens an existing database read-only (allowed while a processor has it open).
  static StatusOr<std::unique_ptr<StateDb>> OpenReadOnly(const std::string& dir);
  ~StateDb();

  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  // nullopt if the partition has no checkpoint yet; Corruption if the stored one does not parse.
  StatusOr<std::optional<v1::state::PartitionCheckpoint>> ReadCheckpoint(const std::string& topic,
                                                                         int32_t partition);
  // The hint the last restore of `changelog_topic`/`partition` left (state/changelog_tail.h);
  // nullopt if none; Corruption if the stored one does not parse.
  StatusOr<std::optional<v1::state::RestoreHint>> ReadRestoreHint(
      const std::string& changelog_topic, int32_t partition);
  // Partitions whose local copy this instance no longer owns (state/released_partitions.h), with
  // the wall-clock time each was released.
  StatusOr<std::map<int32_t, int64_t>> ReleasedPartitions();
  // Marks `partitions` released at `at_ms` (a revocation, a lost assignment).
  Status MarkReleased(const std::vector<int32_t>& partitions, int64_t at_ms);
  // The partitions that hold customers or timers here, in order (one seek per partition).
  StatusOr<std::vector<int32_t>> StoredPartitions();

  // Calls `fn` for every pending outbox record in sequence order (used on start-up).
  Status ForEachOutbox(const std::function<void(uint64_t, v1::state::OutboxRecord)>& fn);
  // The same for the records in [from, to) only.
  Status ForEachOutboxIn(uint64_t from, uint64_t to,
                         const std::function<void(uint64_t, v1::state::OutboxRecord)>& fn);
  // Deletes the records `seqs` (any order); a run of consecutive seqs is one range deletion.
  Status DeleteOutbox(const std::vector<uint64_t>& seqs);
  // Deletes every record in [from, to), as one range deletion.
  Status DeleteOutboxRange(uint64_t from, uint64_t to);
  // Deletes every pending outbox record for `topic`; returns how many.
  StatusOr<size_t> DeleteOutboxOf(const std::string& topic);

  // Calls `fn` for every stored entry of one partition, in key order: customer states (key = the
  // customer id) and erasure memories (core/erasure_memory.h); stops at the first error `fn`
  // returns. An entry that does not parse is Corruption, unless `on_corrupt` is given: then it is
  // reported there (its key) and skipped.
  Status ForEachEntryOf(
      int32_t partition,
      const std::function<Status(const std::string& key, v1::state::CustomerState)>& fn,
      const std::function<void(const std::string& key)>& on_corrupt = nullptr);

  // Calls `fn` for every stored customer state (not erasure memories, nor the copies of released
  // partitions), in (partition, customer id) order.
  Status ForEachCustomer(
      const std::function<void(int32_t partition, v1::state::CustomerState)>& fn);

  // RocksDB's own estimates, for gauges. Cheap (property reads), not free.
  struct FamilyStats {
    std::string name;  // customers, timers, checkpoints, outbox
    uint64_t estimated_keys = 0;
    uint64_t live_data_bytes = 0;
    uint64_t pending_compaction_bytes = 0;
    uint64_t sst_bytes = 0;  // the family's SST files, exactly (after a full compaction: its size)
    uint64_t memtable_deletions = 0;  // point deletions in its memtables (range deletions apart)
  };
  struct Stats {
    std::vector<FamilyStats> families;
    uint64_t block_cache_usage_bytes = 0;
    uint64_t memtable_bytes = 0;       // every family's memtables, mutable and immutable
    uint64_t table_readers_bytes = 0;  // open SST files' readers outside the block cache
    uint64_t write_stopped = 0;  // 1 while RocksDB stops writes
    uint64_t delayed_write_rate = 0;
    uint64_t background_errors = 0;
  };
  Stats ReadStats();

  // Read-only: the committed state of one customer, nullopt if none is stored, Corruption if it
  // does not parse. Safe from any thread while the consume thread commits (reads see the last
  // committed batch).
  StatusOr<std::optional<v1::state::CustomerState>> ReadCustomer(int32_t partition,
                                                                 const std::string& customer_id);
  // The same, parsed into `into` (cleared first; left empty if none is stored): the stored
  // bytes' size, nullopt if none is stored.
  StatusOr<std::optional<size_t>> ReadCustomerInto(int32_t partition,
                                                   const std::string& customer_id,
                                                   v1::state::CustomerState& into);
  // The same as stored bytes, unparsed: false (and `into` empty) if none is stored.
  StatusOr<bool> ReadCustomerBytes(int32_t partition, const std::string& customer_id,
                                   std::string& into);
  // Read-only, any thread: finds the customer in whichever stored partition holds it (one
  // seek and one lookup per stored partition that is not released). nullopt if no partition
  // does (or `customer_id` names an erasure memory).
  StatusOr<std::optional<std::pair<int32_t, v1::state::CustomerState>>> FindCustomer(
      const std::string& customer_id);

  // Flushes every column family and rewrites its files with a forced bottommost compaction, so
  // that no file holds a deleted key any more (an erasure, on disk: README "Privacy"). The
  // files it replaces are deleted once no reader holds them; the next open writes a fresh
  // MANIFEST. Slow (it rewrites everything): for maintenance and tests.
  Status CompactAll();

  // The directory the database lives in.
  const std::string& dir() const { return dir_; }

  // For benchmarks that measure RocksDB's part of the commit path alone (BM_CommitWrites in
  // benchmarks/commit_path_bench.cc): `recorder` receives every batch this database writes, once
  // written, as RocksDB's serialized batch (WriteBatch::Data); null (the default) records
  // nothing. Replay writes such a batch to a database opened the same way (the column families'
  // ids are the same in every StateDb).
  using WriteRecorder = std::function<void(const std::string& batch_data)>;
  void set_write_recorder(WriteRecorder recorder) { write_recorder_ = std::move(recorder); }
  Status Replay(const std::string& batch_data);

 private:
  friend class CommitBatch;
  friend class PartitionState;
  friend class RestoreIngest;

  StateDb() = default;
  rocksdb::ColumnFamilyHandle* customers() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* timers() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* checkpoints() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* outbox() { return handles_[4]; }
  // Atomically applies `batch` (WAL on; fsync if opened with sync).
  Status Write(rocksdb::WriteBatch& batch);
  // A RocksDB integer property of one column family; DB-wide properties (background errors,
  // block cache usage, write stops) are read on the default family. 0 if unknown.
  uint64_t IntProperty(rocksdb::ColumnFamilyHandle* family, const std::string& name);

  static StatusOr<std::unique_ptr<StateDb>> OpenImpl(const std::string& dir, bool sync,
                                                     bool read_only, const StoreMemory& memory);

  // Destruction order: handles before the DB (see ~StateDb).
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  uint64_t next_outbox_seq_ = 1;
  std::string dir_;
  WriteRecorder write_recorder_;
};

}  // namespace touchstream
