#include "state/released_partitions.h"

#include "state/commit_batch.h"

namespace touchstream {

StatusOr<std::vector<int32_t>> DeleteReleasedCopies(StateDb& db, const std::string& input_topic,
                                                    int64_t now_ms, int64_t delay_ms,
                                                    const std::function<bool(int32_t)>& owned) {
  StatusOr<std::map<int32_t, int64_t>> released = db.ReleasedPartitions();
  if (!released.ok()) return released.status();
  std::vector<int32_t> deleted;
  CommitBatch batch(db);
  for (const auto& [partition, at_ms] : *released) {
    if (owned(partition) || now_ms - at_ms < delay_ms) continue;
    batch.WipePartition(input_topic, partition);
    batch.ClearReleased(partition);
    deleted.push_back(partition);
  }
  if (Status s = batch.Commit(); !s.ok()) return s;
  return deleted;
}

}  // namespace touchstream
