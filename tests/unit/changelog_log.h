// A changelog partition written as the outbox writes it, for the changelog tests: records in
// log order, what the log cleaner leaves of it, and what a replay restores from it.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "state/changelog.h"

namespace touchstream::changelog {

using v1::state::ChangelogMarker;
using v1::state::CustomerState;
using v1::state::OutboxRecord;
using v1::state::PartitionCheckpoint;

// `r` (stamps as headers, WithStampHeaders) as the restorer reads a consumed record: no offsets,
// a null value as nullopt. The views point into `r`.
inline Record RecordView(const OutboxRecord& r) {
  Record out;
  out.key = r.key();
  if (!r.null_value()) out.value = r.value();
  for (const auto& h : r.headers()) {
    if (h.key() == kOwnerHeader) out.owner = h.value();
    if (h.key() == kEpochHeader) out.epoch = h.value();
    if (h.key() == kSeqHeader) out.seq = h.value();
  }
  return out;
}

// A state record of commit `seq` of `writer`; `state` == nullptr: a tombstone.
inline OutboxRecord StateRecord(const std::string& topic, int32_t partition, const Writer& writer,
                                int64_t seq, const std::string& customer_id,
                                const CustomerState* state) {
  if (state == nullptr) {
    return SerializedStateRecord(topic, partition, writer, seq, customer_id, nullptr);
  }
  const std::string value = state->SerializeAsString();
  return SerializedStateRecord(topic, partition, writer, seq, customer_id, &value);
}

// What a replay restores: customer -> first_seen_ms, and the checkpoint.
struct Restored {
  std::map<std::string, int64_t> customers;
  std::optional<PartitionCheckpoint> latest;
};

// A changelog partition as a consumer reads it (stamps as headers), in log order.
class Log {
 public:
  // `owner` took the partition over after a restore that ended at `prev_owner`'s commit
  // `prev_seq` and saw fences up to epoch `epoch` - 1.
  // `incomplete`: the owner writes its whole local state as its first commit
  // (changelog_incomplete).
  void Fence(const std::string& owner, int64_t epoch, const std::string& prev_owner,
             int64_t prev_seq, int64_t next_offset, bool incomplete = false) {
    epochs_[owner] = epoch;
    ChangelogMarker m;
    m.mutable_checkpoint()->set_owner(owner);
    m.mutable_checkpoint()->set_next_offset(next_offset);
    m.mutable_checkpoint()->set_changelog_incomplete(incomplete);
    m.set_epoch(epoch);
    m.set_prev_owner(prev_owner);
    m.set_prev_seq(prev_seq);
    records_.push_back(WithStampHeaders(FenceRecord("cl", 0, m)));
  }
  void State(const std::string& owner, int64_t seq, const std::string& customer,
             int64_t first_seen) {
    CustomerState state;
    state.set_customer_id(customer);
    state.set_first_seen_ms(first_seen);
    records_.push_back(
        WithStampHeaders(StateRecord("cl", 0, WriterOf(owner), seq, customer, &state)));
  }
  void Erased(const std::string& owner, int64_t seq, const std::string& customer) {
    records_.push_back(
        WithStampHeaders(StateRecord("cl", 0, WriterOf(owner), seq, customer, nullptr)));
  }
  void Commit(const std::string& owner, int64_t seq, int64_t next_offset) {
    ChangelogMarker m;
    m.mutable_checkpoint()->set_owner(owner);
    m.mutable_checkpoint()->set_commit_seq(seq);
    m.mutable_checkpoint()->set_next_offset(next_offset);
    records_.push_back(WithStampHeaders(CommitRecord("cl", 0, WriterOf(owner), m)));
  }
  // Commit `seq` of `owner` up to `next_offset`: the states of `customers` (id, first seen) in
  // order, then the commit marker.
  void Committed(const std::string& owner, int64_t seq, int64_t next_offset,
                 const std::vector<std::pair<std::string, int64_t>>& customers) {
    for (const auto& [customer, first_seen] : customers) State(owner, seq, customer, first_seen);
    Commit(owner, seq, next_offset);
  }
  size_t size() const { return records_.size(); }
  // Record `i` as the restorer reads it.
  Record View(size_t i) const { return View(records_[i]); }

  // What the log cleaner leaves: of the records before `k`, only the latest of each key (and,
  // with `drop_tombstones`, no tombstone: what it does after delete.retention.ms); the records
  // from `k` on (younger than min.compaction.lag.ms) unchanged.
  Log Compacted(size_t k, bool drop_tombstones) const {
    std::map<std::string, size_t> latest;
    for (size_t i = 0; i < k; ++i) latest[records_[i].key()] = i;
    Log out;
    out.epochs_ = epochs_;
    for (size_t i = 0; i < records_.size(); ++i) {
      const bool cleaned = i < k;
      if (cleaned && latest[records_[i].key()] != i) continue;
      if (cleaned && drop_tombstones && records_[i].null_value()) continue;
      out.records_.push_back(records_[i]);
    }
    return out;
  }

  Restored Replayed() const {
    Replay replay;
    for (const auto& r : records_) EXPECT_TRUE(replay.Scan(View(r)).ok());
    Restored out;
    out.latest = replay.Latest();
    for (const auto& r : records_) {
      EXPECT_TRUE(replay
                      .Apply(View(r),
                             [&](std::string_view id, const std::string_view* value,
                                 const CustomerState* state) {
                               EXPECT_EQ(value == nullptr, state == nullptr);
                               if (value == nullptr) {
                                 out.customers.erase(std::string(id));
                               } else {
                                 CustomerState s;
                                 EXPECT_TRUE(s.ParseFromString(std::string(*value)));
                                 EXPECT_EQ(s.SerializeAsString(), state->SerializeAsString());
                                 out.customers[std::string(id)] = s.first_seen_ms();
                               }
                               return Status::Ok();
                             })
                      .ok());
    }
    return out;
  }

 private:
  Writer WriterOf(const std::string& owner) const {
    auto it = epochs_.find(owner);
    return {owner, it == epochs_.end() ? 1 : it->second};
  }
  static Record View(const OutboxRecord& r) { return RecordView(r); }

  std::vector<OutboxRecord> records_;
  std::map<std::string, int64_t> epochs_;
};

// Scans records [begin, end) of `log` into `replay`, as the restorer reads them.
inline void ScanRange(const Log& log, size_t begin, size_t end, Replay& replay) {
  for (size_t i = begin; i < end; ++i) EXPECT_TRUE(replay.Scan(log.View(i)).ok());
}

// Several owner changes, a zombie writing after the takeover, an erasure, an uncommitted tail.
// Returns the index of the first record that does not count (the zombie's first write).
inline size_t BuildHistory(Log& log) {
  log.Fence("a", 1, "", 0, 0);
  log.Committed("a", 1, 10, {{"ann", 1}, {"bob", 1}, {"cy", 1}});
  log.Committed("a", 2, 20, {{"ann", 2}, {"dan", 2}});
  log.State("a", 3, "bob", 3);
  log.Erased("a", 3, "dan");
  log.Commit("a", 3, 30);
  log.Fence("b", 2, "a", 3, 30);  // a rebalance: b restored a's commit 3
  log.State("b", 1, "ann", 4);
  log.State("b", 1, "dan", 4);  // back after the erasure
  log.Commit("b", 1, 40);
  log.State("b", 2, "eve", 5);
  log.Erased("b", 2, "ann");
  log.Commit("b", 2, 50);
  log.Committed("b", 3, 60, {{"bob", 6}});
  log.Fence("c", 3, "b", 3, 60);  // b froze past its session timeout; c took over
  const size_t first_late = log.size();
  // b, thawed, a zombie: its in-flight commit arrives.
  log.Committed("b", 4, 70, {{"cy", 99}, {"bob", 99}});
  log.Committed("c", 1, 70, {{"bob", 7}, {"fay", 7}});
  log.State("c", 2, "fay", 8);  // c crashed before this commit's marker went out
  log.State("c", 2, "eve", 8);
  return first_late;
}

}  // namespace touchstream::changelog
