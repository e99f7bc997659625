// One atomic commit of the state store (DESIGN.md, principle 4): customer states, their timer
// index, input checkpoints and outbox records, assembled in one RocksDB WriteBatch and written at
// once. Processing, the ownership fence and the changelog restore all commit through this class:
// nothing outside state/ builds a WriteBatch or sees a column family or a raw key.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <string>

#include "processor/core/status.h"
#include "state.pb.h"
#include "state/partition_state.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by one thread. The outbox sequence AddOutbox and DrawOutboxSeq draw from belongs to the
// commit (consume) thread: only it may call them. Restore threads (changelog restore, several at
// once) build batches of their own with the other methods.
class CommitBatch {
 public:
  // `db` must outlive the batch.
  explicit CommitBatch(StateDb& db) : db_(db) {}

  // Every customer and timer change of `store` since its last commit; `on_change` is called for
  // each changed customer (its new state, or nullptr when it is gone). After Commit() succeeds,
  // call store.OnCommitted().
  void AddChanges(PartitionState& store, const PartitionState::ChangeFn& on_change = nullptr);

  // Where input `topic`/`partition` resumes, and the partition's changelog position.
  void PutCheckpoint(const std::string& topic, int32_t partition,
                     const v1::state::PartitionCheckpoint& checkpoint);

  // Changelog restore: the hint for the next restore of `changelog_topic`/`partition`
  // (state/changelog_tail.h). Not deleted by WipePartition: it describes the changelog.
  void PutRestoreHint(const std::string& changelog_topic, int32_t partition,
                      const v1::state::RestoreHint& hint);

  // Adds a record to the outbox; returns its sequence number (the relay deletes it once Kafka has
  // it and every record before it: processor/kafka/outbox_relay.h).
  uint64_t AddOutbox(const v1::state::OutboxRecord& record);
  // A sequence number in the outbox's order for a record the relay holds in memory only (a
  // changelog record, or any record under exactly_once, Relay::resends_stored_outbox: a restart
  // drops those undelivered anyway and restores from the changelog's last commit instead);
  // nothing is written.
  uint64_t DrawOutboxSeq() { return db_.next_outbox_seq_++; }

  // Changelog restore: deletes every customer, timer and the checkpoint of `partition`.
  void WipePartition(const std::string& topic, int32_t partition);
  // This instance owns `partition` (again): its local copy is no longer a released one.
  void ClearReleased(int32_t partition);
  // Changelog restore: one customer's serialized CustomerState as the changelog holds it; nullptr
  // deletes the customer. Timers are derived separately (PutRestoredTimers, PutTimer).
  void PutCustomerValue(int32_t partition, const std::string& customer_id,
                        const std::string* value);
  // Changelog restore: the timer index entries of a stored entry under `key` (a customer's rule
  // states and deferrals, or an erasure memory's forget timer) of a commit whose watermark was
  // `watermark_ms`.
  void PutRestoredTimers(int32_t partition, TimeMs watermark_ms, const std::string& key,
                         const v1::state::CustomerState& state);
  // Changelog restore: one timer index entry (RestoreWriter puts them in key order).
  void PutTimer(int32_t partition, const TimerKey& timer);

  // Drops everything added since the last Commit (keeping the buffer's capacity).
  void Clear() { batch_.Clear(); }

  // Writes (key) operations in the batch.
  int size() const { return batch_.Count(); }
  bool empty() const { return batch_.Count() == 0; }

  // Writes everything atomically (WAL on; fsync if the store was opened with sync). The batch is
  // empty afterwards whatever the result. An empty batch is Ok without a write.
  [[nodiscard]] Status Commit();

 private:
  StateDb& db_;
  rocksdb::WriteBatch batch_;
  std::string key_scratch_;  // PutCustomerValue's and PutTimer's keys, reused
};

}  // namespace touchstream
