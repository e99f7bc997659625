#include "state/changelog.h"

namespace touchstream::changelog {

namespace {

void AddHeader(v1::state::OutboxRecord& record, const char* key, const std::string& value) {
  v1::state::RecordHeader* h = record.add_headers();
  h->set_key(key);
  h->set_value(value);
}

}  // namespace

v1::state::OutboxRecord StateRecord(const std::string& topic, int32_t partition,
                                    const std::string& owner, const std::string& customer_id,
                                    const v1::state::CustomerState* state) {
  v1::state::OutboxRecord record;
  record.set_topic(topic);
  record.set_partition(partition);
  record.set_key(customer_id);
  if (state != nullptr) record.set_value(state->SerializeAsString());
  AddHeader(record, kOwnerHeader, owner);
  return record;
}

v1::state::OutboxRecord MarkerRecord(const std::string& topic, int32_t partition,
                                     const v1::state::ChangelogMarker& marker, bool fence) {
  v1::state::OutboxRecord record;
  record.set_topic(topic);
  record.set_partition(partition);
  // One key per partition and kind: compaction keeps the latest of each.
  record.set_key(std::string("\0touchstream.", 13) + (fence ? kFence : kCommit));
  record.set_value(marker.SerializeAsString());
  record.set_barrier(true);
  AddHeader(record, kOwnerHeader, marker.checkpoint().owner());
  AddHeader(record, kMarkerHeader, fence ? kFence : kCommit);
  return record;
}

Status Replay::Scan(const Record& record) {
  if (record.marker.empty()) return Status::Ok();
  v1::state::ChangelogMarker marker;
  if (!marker.ParseFromArray(record.value.data(), static_cast<int>(record.value.size()))) {
    return Status::Internal("changelog marker at offset " + std::to_string(record.offset) +
                              " does not parse");
  }
  const std::string owner(record.owner);
  if (record.marker == kFence) {
    // Effective unless its restore missed a takeover: an effective fence of another owner in
    // [base_offset, offset).
    for (auto it = fences_.rbegin(); it != fences_.rend() && it->offset >= marker.base_offset();
         ++it) {
      if (it->owner != owner) return Status::Ok();
    }
    fences_.push_back({record.offset, marker.base_offset(), owner, marker.checkpoint()});
  } else if (record.marker == kCommit) {
    commits_.push_back({record.offset, owner, marker.checkpoint()});
  }
  decided_ = false;
  return Status::Ok();
}

void Replay::Decide() const {
  if (decided_) return;
  valid_commits_.clear();
  latest_.reset();
  int64_t latest_offset = -1;
  size_t next_fence = 0;  // first fence after the commit being decided
  for (const Commit& commit : commits_) {
    while (next_fence < fences_.size() && fences_[next_fence].offset < commit.offset) {
      ++next_fence;
    }
    if (next_fence == 0 || fences_[next_fence - 1].owner != commit.owner) continue;
    bool blind = false;
    for (size_t f = next_fence; f < fences_.size() && !blind; ++f) {
      blind = fences_[f].owner != commit.owner && fences_[f].base_offset <= commit.offset;
    }
    if (blind) continue;
    valid_commits_.insert(commit.offset);
    latest_ = commit.checkpoint;
    latest_offset = commit.offset;
  }
  if (!fences_.empty() && fences_.back().offset > latest_offset) {
    latest_ = fences_.back().checkpoint;
  }
  decided_ = true;
}

std::optional<v1::state::PartitionCheckpoint> Replay::Latest() const {
  Decide();
  return latest_;
}

Status Replay::Apply(const Record& record, const ApplyFn& apply) {
  Decide();
  auto pending = pending_.find(record.owner);
  if (record.marker.empty()) {
    if (pending == pending_.end()) {
      pending = pending_.emplace(std::string(record.owner), decltype(pending_)::mapped_type())
                    .first;
    }
    std::optional<std::string> value;
    if (!record.value.empty()) value.emplace(record.value);
    pending->second.emplace_back(std::string(record.key), std::move(value));
    return Status::Ok();
  }
  if (pending == pending_.end()) return Status::Ok();
  if (record.marker == kCommit && valid_commits_.count(record.offset) > 0) {
    for (const auto& [customer_id, value] : pending->second) {
      if (Status s = apply(customer_id, value ? &*value : nullptr); !s.ok()) return s;
    }
  }
  // A fence starts its owner afresh; an invalid commit's records are dropped.
  pending->second.clear();
  return Status::Ok();
}

}  // namespace touchstream::changelog
