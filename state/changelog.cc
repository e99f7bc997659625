#include "state/changelog.h"

#include <charconv>
#include <set>

namespace touchstream::changelog {

namespace {

v1::state::OutboxRecord Written(const std::string& topic, int32_t partition, const Writer& writer,
                                int64_t seq) {
  v1::state::OutboxRecord record;
  record.set_topic(topic);
  record.set_partition(partition);
  v1::state::ChangelogStamp* stamp = record.mutable_changelog_stamp();
  stamp->set_owner(writer.owner);
  stamp->set_epoch(writer.epoch);
  stamp->set_seq(seq);
  return record;
}

std::string Where(const Record& record) {
  return record.offset >= 0 ? "changelog record at offset " + std::to_string(record.offset)
                            : "changelog record";
}

// A non-negative decimal header value.
std::optional<int64_t> ParseCount(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

bool IsMarkerKey(std::string_view key) { return !key.empty() && key[0] == '\xFF'; }

}  // namespace

StampText::StampText(const v1::state::ChangelogStamp& stamp) : owner(stamp.owner()) {
  auto decimal = [](int64_t n, char (&digits)[24]) {
    const char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    return std::string_view(digits, static_cast<size_t>(end - digits));
  };
  epoch = decimal(stamp.epoch(), epoch_digits_);
  seq = decimal(stamp.seq(), seq_digits_);
}

void ForEachStampHeader(
    const v1::state::OutboxRecord& record,
    const std::function<void(const std::string& name, std::string_view value)>& fn) {
  if (!record.has_changelog_stamp()) return;
  static const std::string owner(kOwnerHeader), epoch(kEpochHeader), seq(kSeqHeader);
  const StampText text(record.changelog_stamp());
  fn(owner, text.owner);
  fn(epoch, text.epoch);
  fn(seq, text.seq);
}

v1::state::OutboxRecord WithStampHeaders(v1::state::OutboxRecord record) {
  ForEachStampHeader(record, [&](const std::string& name, std::string_view value) {
    v1::state::RecordHeader* h = record.add_headers();
    h->set_key(name);
    h->set_value(std::string(value));
  });
  record.clear_changelog_stamp();
  return record;
}

v1::state::OutboxRecord SerializedStateRecord(const std::string& topic, int32_t partition,
                                              const Writer& writer, int64_t seq,
                                              const std::string& customer_id,
                                              const std::string* value) {
  v1::state::OutboxRecord record = Written(topic, partition, writer, seq);
  record.set_key(customer_id);
  if (value != nullptr) {
    record.set_value(*value);
  } else {
    record.set_null_value(true);
  }
  return record;
}

v1::state::OutboxRecord CommitRecord(const std::string& topic, int32_t partition,
                                     const Writer& writer,
                                     const v1::state::ChangelogMarker& marker) {
  v1::state::OutboxRecord record =
      Written(topic, partition, writer, marker.checkpoint().commit_seq());
  record.set_key(std::string(kCommitKeyPrefix) + writer.owner);
  record.set_value(marker.SerializeAsString());
  record.set_barrier(true);
  return record;
}

v1::state::OutboxRecord FenceRecord(const std::string& topic, int32_t partition,
                                    const v1::state::ChangelogMarker& marker) {
  const Writer writer{marker.checkpoint().owner(), marker.epoch()};
  v1::state::OutboxRecord record = Written(topic, partition, writer, 0);
  record.set_key(std::string(kFenceKeyPrefix) + writer.owner);
  record.set_value(marker.SerializeAsString());
  record.set_barrier(true);
  return record;
}

Status Replay::Scan(const Record& record) {
  if (record.owner.empty() || !ParseCount(record.seq)) {
    return Status::Internal(Where(record) +
                            " has no touchstream.owner or touchstream.seq header (written "
                            "before this changelog format? recreate the changelog topic)");
  }
  if (!IsMarkerKey(record.key)) return Status::Ok();
  const bool fence = record.key.starts_with(kFenceKeyPrefix);
  if (!fence && !record.key.starts_with(kCommitKeyPrefix)) {
    return Status::Internal(Where(record) + " has an unknown marker key");
  }
  v1::state::ChangelogMarker marker;
  if (!record.value ||
      !marker.ParseFromArray(record.value->data(), static_cast<int>(record.value->size()))) {
    return Status::Internal(Where(record) + ": a marker that does not parse");
  }
  const auto it = owners_.try_emplace(std::string(record.owner)).first;
  Owner& owner = it->second;
  if (fence) {
    // A fence is written once per owner; a duplicate (a re-sent record) changes nothing.
    if (!owner.fenced) {
      owner.fenced = true;
      owner.epoch = marker.epoch();
      owner.prev_owner = marker.prev_owner();
      owner.prev_seq = marker.prev_seq();
      max_epoch_ = std::max(max_epoch_, owner.epoch);
      if (head_ == nullptr || owner.epoch >= head_->epoch) {  // a tie: the later fence
        if (head_ != nullptr) head_->latest_checkpoint.reset();
        head_ = &owner;
        head_id_ = it->first;
        head_fence_checkpoint_ = marker.checkpoint();
      } else {
        owner.latest_checkpoint.reset();
      }
    }
  } else if (marker.checkpoint().commit_seq() >= owner.latest_seq) {
    owner.latest_seq = marker.checkpoint().commit_seq();
    if (!owner.fenced || &owner == head_) owner.latest_checkpoint = marker.checkpoint();
  }
  decided_ = false;
  return Status::Ok();
}

void Replay::Decide() const {
  if (decided_) return;
  decided_ = true;
  latest_.reset();
  valid_up_to_.clear();
  const Owner* head = head_;
  const std::string_view head_id = head_id_;
  if (head == nullptr) return;
  const bool committed = head->latest_seq > 0 && head->latest_checkpoint;
  // A fence promising the whole state in its first commit proves nothing before that commit.
  if (!committed && head_fence_checkpoint_.changelog_incomplete()) return;
  latest_ = committed ? *head->latest_checkpoint : head_fence_checkpoint_;
  valid_up_to_[std::string(head_id)] = head->latest_seq;
  // Walk back through the prev pointers; an owner seen twice ends the walk (a cycle can only
  // come from corrupt data).
  std::set<std::string_view> seen{head_id};
  for (const Owner* successor = head; !successor->prev_owner.empty();) {
    const std::string& prev_id = successor->prev_owner;
    if (!seen.insert(prev_id).second) break;
    auto prev = owners_.find(prev_id);
    const int64_t latest = prev == owners_.end() ? 0 : prev->second.latest_seq;
    valid_up_to_[prev_id] = std::min(successor->prev_seq, latest);
    if (prev == owners_.end() || !prev->second.fenced) break;
    successor = &prev->second;
  }
}

std::optional<v1::state::PartitionCheckpoint> Replay::Latest() const {
  Decide();
  return latest_;
}

v1::state::ChangelogSummary Replay::Summarize() const {
  v1::state::ChangelogSummary summary;
  summary.set_max_epoch(max_epoch_);
  if (head_ != nullptr) {
    summary.set_head_owner(std::string(head_id_));
    summary.set_head_epoch(head_->epoch);
    summary.set_head_seq(head_->latest_seq);
  }
  return summary;
}

int64_t Replay::LatestSeqOf(std::string_view owner) const {
  auto it = owners_.find(owner);
  return it == owners_.end() ? 0 : it->second.latest_seq;
}

bool Replay::Counts(const Record& record) const {
  Decide();
  if (IsMarkerKey(record.key)) return false;
  const std::optional<int64_t> seq = ParseCount(record.seq);
  if (!seq || *seq < 1) return false;
  auto valid = valid_up_to_.find(record.owner);
  return valid != valid_up_to_.end() && *seq <= valid->second;
}

Status Replay::Apply(const Record& record, const ApplyFn& apply) {
  if (IsMarkerKey(record.key)) return Status::Ok();
  if (!ParseCount(record.seq)) {
    return Status::Internal(Where(record) + " has no valid touchstream.seq header");
  }
  if (!Counts(record)) return Status::Ok();
  if (!record.value) return apply(record.key, nullptr, nullptr);
  const std::string_view value = *record.value;
  // The changelog is what local corruption is rebuilt from: a state in it that does not parse
  // cannot be repaired here (never Status::Corruption, which would mean "rebuild").
  v1::state::CustomerState state;
  if (!state.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::Internal(Where(record) + ": a customer state that does not parse");
  }
  return apply(record.key, &value, &state);
}

}  // namespace touchstream::changelog
