// The writes of a cold restore (processor/kafka/changelog_restorer.h): customer values as the
// changelog holds them, and the timer index entries of their states, gathered up to
// kCustomersPerWrite customers and written in key order. RocksDB's memtable is a skip list
// searched from its top for each insert (7.8 skips the search only for a key directly after the
// previous insert); keys in order search along much the same path, which stays in the CPU
// cache, where random keys (the changelog's order, or timers by due time) made those searches
// the restore's top cost.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "processor/core/partition_store.h"
#include "processor/core/status.h"
#include "state.pb.h"
#include "state/commit_batch.h"

namespace touchstream {

// Owned by the restoring thread, like the batch it writes through.
class RestoreWriter {
 public:
  static constexpr size_t kCustomersPerWrite = 1000;

  // `batch` (which may already hold the restore's other writes, committed with the first
  // customers) must outlive the writer. `watermark_ms`: the restored commit's (TimersOfEntry).
  RestoreWriter(CommitBatch& batch, int32_t partition, TimeMs watermark_ms)
      : batch_(batch), partition_(partition), watermark_ms_(watermark_ms) {}

  // One customer's value (nullptr: erased); a later Put of the same customer before the write
  // replaces it. With `state` (the value parsed; only for a customer's final value) its timer
  // index entries are written too. Copies what it needs. Writes when kCustomersPerWrite
  // customers are gathered: errors are the write's.
  Status Put(std::string_view customer_id, const std::string_view* value,
             const v1::state::CustomerState* state);
  // Writes everything gathered (and the rest of the batch).
  Status Flush();

 private:
  CommitBatch& batch_;
  const int32_t partition_;
  const TimeMs watermark_ms_;
  std::map<std::string, std::optional<std::string>, std::less<>> values_;
  std::vector<TimerKey> timers_;
};

}  // namespace touchstream
