// Brings a partition's local state up to its changelog (see state/changelog.h) when the
// partition is assigned. What it reads, up to the changelog partition's end at the start:
//  1. With a local checkpoint and the hint the previous restore left (state/changelog_tail.h):
//     only the tail, from the last record that restore read. If the tail proves the local state
//     is the latest valid commit, that is all (Result::tail_only).
//  2. Otherwise the whole partition once, to find the latest valid commit; if the local state is
//     not that commit, it wipes the partition's local customers, timers and checkpoint and
//     replays the valid records: from the first read's copies when they fit in
//     `replay_memory_bytes` (state.restore_memory_bytes), else in a second read.
// Either way it leaves a new hint (the last record read, the summary of the log through it) and
// tells the new owner what its fence must say (its epoch; the commit it resumes from is the
// returned checkpoint). Memory: the tail's or the whole log's owners (Replay, about 100 bytes
// each), at most 1,000 customer values per RocksDB batch (state/restore_writer.h), and during a
// replay the log's records up to `replay_memory_bytes`, copied into 1 MiB blocks (a larger
// partition is read twice instead).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "processor/kafka/kafka_conf.h"
#include "state/changelog.h"
#include "state/own_tail.h"
#include "state/state_db.h"

namespace touchstream {

// Used by one thread at a time (GroupMembership runs one per restore thread, each with its own
// Kafka consumer); several restore different partitions into one StateDb at once.
class ChangelogRestorer {
 public:
  // `props`: the consumer's librdkafka properties (it reads with assign(), never joins a group).
  static StatusOr<std::unique_ptr<ChangelogRestorer>> Create(const KafkaProperties& props,
                                                             std::string changelog_topic,
                                                             std::string input_topic);
  ~ChangelogRestorer();

  struct Result {
    // The partition's checkpoint now stored locally (nullopt: none, a fresh partition); when the
    // changelog held no valid commit, with changelog_incomplete set (not stored: the new owner
    // writes the local state to the changelog, TaskManager::Assign).
    std::optional<v1::state::PartitionCheckpoint> checkpoint;
    // The epoch of the new owner's fence: 1 + the highest epoch of any fence read.
    int64_t fence_epoch = 1;
    bool replayed = false;   // the local state was replaced from the changelog
    bool tail_only = false;  // only the tail was read: it proved the local state current
    bool ingested = false;   // replayed into files ingested at once (state/restore_ingest.h)
    // Why the partition's local data was dropped first (its checkpoint did not parse); empty
    // when it was not. The partition is then restored as on a new instance.
    std::string dropped_corrupt;
    uint64_t records = 0;    // changelog records read from Kafka (the tail, or each read)
    // Records were read but none of them is a commit the restore can prove: no fence of their
    // writer (a changelog recreated under a running owner, records deleted, a topic that is not
    // compacted, cleanup.policy=delete, whose retention took the fence), or the head is the fence
    // of another owner that stopped while writing its whole local state there (before that
    // commit's marker). What only they held is not restored.
    bool unproven = false;
    uint64_t customers = 0;  // customer states written
    // Where the changelog stood at the end of what the restore read (its end offset, and the
    // summary of the log before it): where the owner's own acknowledged records take the hint on
    // from (state/own_tail.h).
    changelog::TailStart tail_start;
  };
  // Called, on the restoring thread, with (records read, end offset) at each step forward:
  // every kProgressRecords records read, the first record after a wait for Kafka, and every
  // kProgressRecords customers written (the records read unchanged). Its caller marks the
  // instance alive with it (processor/health/health_state.h), logs from it, and checks the
  // state disk's reserve: an error it returns ends the restore with that error (what was
  // written stays without a checkpoint: the next restore starts again).
  using ProgressFn = std::function<Status(uint64_t records, int64_t end_offset)>;
  static constexpr uint64_t kProgressRecords = 1'000;

  // A local checkpoint that does not parse is local damage, not an error: the partition's local
  // data is wiped and it is restored as a fresh one (Result::dropped_corrupt).
  // Errors: the changelog cannot be read within `timeout_ms` without progress, a corrupt
  // changelog record (Internal, naming the topic, partition and offset: fatal), or a RocksDB
  // write failure (the local state is then unchanged or wiped, never half-restored with a
  // checkpoint).
  // `replay_memory_bytes`: how much of the partition's changelog a cold restore may keep
  // between its two passes (0: always read twice). `ingest_min_customers`: a cold restore that
  // kept every record writes a partition of at least this many customers as SST files ingested
  // at once (state/restore_ingest.h), a smaller one through the memtables (0: always ingest).
  StatusOr<Result> Restore(int32_t partition, StateDb& db, uint64_t replay_memory_bytes,
                           uint64_t ingest_min_customers, const ProgressFn& progress,
                           int timeout_ms = 30'000);

 private:
  ChangelogRestorer() = default;
  // Step 1: whether the tail after `hint`'s record proves `local` current; on yes, the new
  // hint and the fence epoch go into `result`. Errors as Restore's; a mismatched hint is no
  // error (false).
  StatusOr<bool> RestoreFromTail(int32_t partition, int64_t end, const v1::state::RestoreHint& hint,
                                 const v1::state::PartitionCheckpoint& local, int timeout_ms,
                                 StateDb& db, Result& result, const ProgressFn& progress);
  // Reads [begin, end) of the partition in offset order.
  Status Read(int32_t partition, int64_t begin, int64_t end, int timeout_ms,
              const std::function<Status(const changelog::Record&)>& fn, uint64_t& records,
              const ProgressFn& progress);

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string changelog_topic_;
  std::string input_topic_;
};

}  // namespace touchstream
