#include "state/commit_batch.h"

#include "processor/core/erasure_memory.h"
#include "state/keys.h"

namespace touchstream {

void CommitBatch::AddChanges(PartitionState& store, const PartitionState::ChangeFn& on_change) {
  store.AddToBatch(batch_, on_change);
}

void CommitBatch::PutCheckpoint(const std::string& topic, int32_t partition,
                                const v1::state::PartitionCheckpoint& checkpoint) {
  batch_.Put(db_.checkpoints(), keys::Checkpoint(topic, partition), checkpoint.SerializeAsString())
      .PermitUncheckedError();
}

void CommitBatch::PutRestoreHint(const std::string& changelog_topic, int32_t partition,
                                 const v1::state::RestoreHint& hint) {
  batch_
      .Put(db_.checkpoints(), keys::RestoreHint(changelog_topic, partition),
           hint.SerializeAsString())
      .PermitUncheckedError();
}

uint64_t CommitBatch::AddOutbox(const v1::state::OutboxRecord& record) {
  const uint64_t seq = db_.next_outbox_seq_++;
  batch_.Put(db_.outbox(), keys::Outbox(seq), record.SerializeAsString()).PermitUncheckedError();
  return seq;
}

void CommitBatch::WipePartition(const std::string& topic, int32_t partition) {
  const std::string begin = keys::PartitionPrefix(partition);
  // The first key of the next partition; UINT32_MAX's keys all start with 0xFF bytes.
  const std::string end =
      partition == INT32_MAX ? std::string(5, '\xff') : keys::PartitionPrefix(partition + 1);
  batch_.DeleteRange(db_.customers(), begin, end).PermitUncheckedError();
  batch_.DeleteRange(db_.timers(), begin, end).PermitUncheckedError();
  batch_.Delete(db_.checkpoints(), keys::Checkpoint(topic, partition)).PermitUncheckedError();
}

void CommitBatch::ClearReleased(int32_t partition) {
  batch_.Delete(db_.checkpoints(), keys::Released(partition)).PermitUncheckedError();
}

void CommitBatch::PutCustomerValue(int32_t partition, const std::string& customer_id,
                                   const std::string* value) {
  keys::AssignCustomer(key_scratch_, partition, customer_id);
  if (value == nullptr) {
    batch_.Delete(db_.customers(), key_scratch_).PermitUncheckedError();
  } else {
    batch_.Put(db_.customers(), key_scratch_, *value).PermitUncheckedError();
  }
}

void CommitBatch::PutRestoredTimers(int32_t partition, TimeMs watermark_ms,
                                    const std::string& key,
                                    const v1::state::CustomerState& state) {
  for (const TimerKey& timer : TimersOfEntry(key, state, watermark_ms)) PutTimer(partition, timer);
}

void CommitBatch::PutTimer(int32_t partition, const TimerKey& timer) {
  keys::AssignTimer(key_scratch_, partition, timer);
  batch_.Put(db_.timers(), key_scratch_, "").PermitUncheckedError();
}

Status CommitBatch::Commit() {
  if (batch_.Count() == 0) return Status::Ok();
  Status s = db_.Write(batch_);
  batch_.Clear();
  return s;
}

}  // namespace touchstream
