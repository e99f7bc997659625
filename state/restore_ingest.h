// The writes of a cold restore that holds every record of the changelog partition
// (processor/kafka/changelog_restorer.h, the read-once path): each customer's final value, in
// customer id order, and the timer index entries of those states, written as two SST files (one
// per column family) and ingested into the store at once (RocksDB's IngestExternalFiles),
// instead of through the WAL and the memtables as RestoreWriter does (state/restore_writer.h,
// kept for the read-twice path, which sees customers in log order).
//
// Contract. The partition's customers and timers were wiped, committed, before the first Put
// (the ingested files are newer than those deletions and need no deletions of their own: an
// erased customer is simply not written). Nothing is visible until Finish, and then both files
// at once; a crash before it leaves the partition wiped and without checkpoint, so it is
// restored again. Files not ingested are removed by the destructor, and those a crash left by
// the next StateDb::Open (RemoveLeftovers).
//
// The files are written uncompressed: they land above the wipe's deletions (level 0), and
// compaction compresses them as it does the memtables' flushes.
#pragma once

#include <rocksdb/sst_file_writer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "processor/core/status.h"
#include "processor/core/time.h"
#include "state.pb.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by one restoring thread; one per partition restore.
class RestoreIngest {
 public:
  // `watermark_ms`: the restored commit's (TimersOfEntry).
  RestoreIngest(StateDb& db, int32_t partition, TimeMs watermark_ms);
  ~RestoreIngest();
  RestoreIngest(const RestoreIngest&) = delete;
  RestoreIngest& operator=(const RestoreIngest&) = delete;

  // One customer's final value (nullptr: erased, nothing to write) and, with `state` (the value
  // parsed), its timer index entries. Customer ids must come in strictly ascending bytewise
  // order: Internal otherwise. IoError: the file cannot be written.
  Status Put(std::string_view customer_id, const std::string_view* value,
             const v1::state::CustomerState* state);
  // Writes the timer index file and ingests both (nothing to ingest: nothing happens).
  Status Finish();
  // Whether Finish ingested a file.
  bool ingested() const { return ingested_; }

  // Removes the files of restores a crash interrupted from the store's directory `dir`.
  static void RemoveLeftovers(const std::string& dir);

 private:
  // A writer of `family`'s keys on `path` (a file left there is removed first), uncompressed.
  StatusOr<std::unique_ptr<rocksdb::SstFileWriter>> OpenWriter(
      const std::string& path, rocksdb::ColumnFamilyHandle* family);
  void RemoveFiles();

  StateDb& db_;
  const int32_t partition_;
  const TimeMs watermark_ms_;
  const std::string customers_path_;
  const std::string timers_path_;
  std::unique_ptr<rocksdb::SstFileWriter> customers_;  // opened at the first value
  std::string last_key_;
  // Encoded, sorted at Finish. Held for the whole partition (~60 bytes a timer), outside
  // state.restore_memory_bytes, which bounds the changelog records kept.
  std::vector<std::string> timer_keys_;
  bool ingested_ = false;
};

}  // namespace touchstream
