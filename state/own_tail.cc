#include "state/own_tail.h"

#include "state/changelog_tail.h"

namespace touchstream::changelog {

OwnTail::OwnTail(TailStart start)
    : start_(start.end), summary_(std::move(start.summary)), next_offset_(start.end) {
  tail_.emplace();
}

std::optional<v1::state::RestoreHint> OwnTail::Acknowledged(const v1::state::OutboxRecord& record,
                                                            int64_t offset) {
  if (!following_) return std::nullopt;
  if (offset >= 0 && offset < start_) return std::nullopt;  // read by the restore
  if (offset != next_offset_ || !record.has_changelog_stamp()) {
    following_ = false;  // next_offset_ stays: the offset that was missed
    return std::nullopt;
  }
  ++next_offset_;
  // The record as a read of the log would see it (the headers ProduceRecord wrote).
  const v1::state::ChangelogStamp& stamp = record.changelog_stamp();
  const StampText text(stamp);
  Record read;
  read.key = record.key();
  if (!record.null_value()) read.value = record.value();
  read.owner = text.owner;
  read.epoch = text.epoch;
  read.seq = text.seq;
  read.offset = offset;
  if (!tail_->Scan(read).ok()) {
    following_ = false;
    return std::nullopt;
  }
  if (!read.key.starts_with(kCommitKeyPrefix)) return std::nullopt;
  v1::state::PartitionCheckpoint marked;
  marked.set_owner(stamp.owner());
  marked.set_commit_seq(stamp.seq());
  std::optional<v1::state::ChangelogSummary> whole = ProveCurrent(summary_, *tail_, marked);
  // Not proven (e.g. a re-sent copy of an older fence in the tail): a later marker may be.
  if (!whole) return std::nullopt;
  v1::state::RestoreHint hint;
  NoteLastRecord(read, hint);
  *hint.mutable_summary() = *whole;
  summary_ = std::move(*whole);
  tail_.emplace();
  return hint;
}

}  // namespace touchstream::changelog
