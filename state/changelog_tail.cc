#include "state/changelog_tail.h"

#include <algorithm>
#include <string>

#include "processor/core/sha256.h"

namespace touchstream::changelog {

namespace {
// The hint names the record's key by its SHA-256, never the key itself: a customer id in a local
// file would outlive the customer's erasure (README "Privacy").
std::string KeyDigest(std::string_view key) {
  const Sha256Digest digest = Sha256(key);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}
}  // namespace

void NoteLastRecord(const Record& record, v1::state::RestoreHint& hint) {
  LastRecord last;
  last.Note(record);
  last.WriteTo(hint);
}

void LastRecord::Note(const Record& record) {
  key_.assign(record.key);
  owner_.assign(record.owner);
  epoch_.assign(record.epoch);
  seq_.assign(record.seq);
  value_size_ = record.value ? static_cast<int64_t>(record.value->size()) : -1;
  offset_ = record.offset;
}

void LastRecord::WriteTo(v1::state::RestoreHint& hint) const {
  if (empty()) return;
  hint.set_last_offset(offset_);
  hint.set_last_key_sha256(KeyDigest(key_));
  hint.set_last_owner(owner_);
  hint.set_last_epoch(epoch_);
  hint.set_last_seq(seq_);
  hint.set_last_value_size(value_size_);
}

bool IsLastRecord(const v1::state::RestoreHint& hint, const Record& record) {
  const int64_t value_size = record.value ? static_cast<int64_t>(record.value->size()) : -1;
  return record.offset == hint.last_offset() && KeyDigest(record.key) == hint.last_key_sha256() &&
         record.owner == hint.last_owner() && record.epoch == hint.last_epoch() &&
         record.seq == hint.last_seq() && value_size == hint.last_value_size();
}

std::optional<v1::state::ChangelogSummary> ProveCurrent(
    const v1::state::ChangelogSummary& before, const Replay& tail,
    const v1::state::PartitionCheckpoint& local) {
  const std::string& owner = local.owner();
  if (owner.empty()) return std::nullopt;
  const v1::state::ChangelogSummary after = tail.Summarize();
  v1::state::ChangelogSummary whole;
  whole.set_max_epoch(std::max(before.max_epoch(), after.max_epoch()));
  whole.set_head_owner(owner);
  // Every tail fence is later in the log than every fence before it: the tail's head heads the
  // whole log when its epoch is at least the earlier head's.
  if (!after.head_owner().empty() && after.head_epoch() >= before.head_epoch()) {
    if (after.head_owner() != owner) return std::nullopt;
    // The owner's first fence is in the tail if its epoch beats every earlier fence; if it
    // equals the earlier head's, it is a re-sent copy of that fence and the owner leads only if
    // the earlier head is its own. (A re-sent copy of another earlier fence in the tail can make
    // another owner the tail's head: then this says no, which only costs the whole read.)
    if (after.head_epoch() <= before.max_epoch() && before.head_owner() != owner) {
      return std::nullopt;
    }
    whole.set_head_epoch(after.head_epoch());
  } else {
    // No tail fence outranks the earlier head (tail fences of a lower epoch never lead).
    if (before.head_owner() != owner) return std::nullopt;
    whole.set_head_epoch(before.head_epoch());
  }
  int64_t seq = tail.LatestSeqOf(owner);
  if (before.head_owner() == owner) seq = std::max(seq, before.head_seq());
  if (seq != local.commit_seq()) return std::nullopt;
  whole.set_head_seq(seq);
  return whole;
}

}  // namespace touchstream::changelog
