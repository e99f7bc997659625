// A Relay that "delivers" each committed record at once, in memory: the test driver's Kafka.
// Records leave the outbox (if stored: `resends`) as they would on Kafka's acknowledgement; as
// at_least_once's relay (`resends`), it reports the acknowledgement of each changelog record (what
// the task manager follows: Relay::AcknowledgedFn) with an offset counted from 0 per partition
// (the changelog records are all of one topic; other records' are not reported).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "processor/kafka/relay.h"
#include "state/changelog.h"
#include "state/state_db.h"

namespace touchstream::testing {

// Owned by the test's thread.
class MemoryRelay final : public Relay {
 public:
  // `db` must outlive the relay.
  // `keep` false: Publish does not record the stored outbox's topics (stored_topics stays empty)
  // and the owner drops what it has read with Forget.
  // `resends` false: as exactly_once's relay, a restart would not send what the outbox holds.
  explicit MemoryRelay(StateDb& db, bool keep = true, bool resends = true)
      : db_(db), keep_(keep), resends_(resends) {}

  Status Recover() override { return Status::Ok(); }
  Status Publish(std::vector<OutboxEntry> entries,
                 const std::vector<SourceOffset>& offsets) override {
    // What the commit stored (a restart would send it) before it "leaves".
    if (Status s = keep_ ? db_.ForEachOutbox([&](uint64_t, const v1::state::OutboxRecord& r) {
          stored_topics_.insert(r.topic());
        })
                         : Status::Ok();
        !s.ok()) {
      return s;
    }
    std::vector<uint64_t> seqs;
    for (OutboxEntry& entry : entries) {
      seqs.push_back(entry.seq);
      if (resends_ && on_acknowledged_ && entry.record.has_changelog_stamp()) {
        on_acknowledged_(entry.record, next_offsets_[entry.record.partition()]++);
      }
      // As a consumer reads it: a changelog record's stamp is its headers.
      v1::state::OutboxRecord record = changelog::WithStampHeaders(std::move(entry.record));
      if (on_delivered_) on_delivered_(record);
      delivered_.push_back(std::move(record));
    }
    for (const SourceOffset& o : offsets) committed_offsets_.push_back(o);
    return resends_ ? db_.DeleteOutbox(seqs) : Status::Ok();  // else nothing was stored
  }
  Status Poll(int timeout_ms) override { return Status::Ok(); }
  Status Flush(int timeout_ms) override { return Status::Ok(); }
  size_t in_flight() const override { return 0; }
  bool commits_offsets() const override { return false; }
  bool resends_stored_outbox() const override { return resends_; }

  // Drops every record delivered so far (delivered() is empty afterwards).
  void Forget() { delivered_.clear(); }

  // Every record delivered so far (since the last Forget), in delivery order.
  const std::vector<v1::state::OutboxRecord>& delivered() const { return delivered_; }
  const std::vector<SourceOffset>& committed_offsets() const { return committed_offsets_; }
  // The topics of every record a commit wrote to the stored outbox so far.
  const std::set<std::string>& stored_topics() const { return stored_topics_; }

 private:
  StateDb& db_;
  const bool keep_;
  const bool resends_;
  std::vector<v1::state::OutboxRecord> delivered_;
  std::vector<SourceOffset> committed_offsets_;
  std::set<std::string> stored_topics_;
  std::map<int32_t, int64_t> next_offsets_;  // of the changelog, per partition
};

}  // namespace touchstream::testing
