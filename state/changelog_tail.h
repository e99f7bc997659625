// Restoring from the changelog's tail: proving that a partition's local state is still the
// latest valid commit (state/changelog.h) from the records written since the previous restore,
// instead of reading the whole changelog partition again.
//
// A restore leaves a hint in the local store (RestoreHint): the last record it read (its offset
// and what identifies it) and the summary of the log through that record (the highest fence
// epoch; the head fence's owner, epoch and latest commit seq). The next restore of a partition
// with a local checkpoint reads from that offset; the first record there must be the one the
// hint names, then it scans the rest (the tail) and asks ProveCurrent. Proven: nothing is
// replayed, only the tail was read. Anything else (no hint, the offset out of the log, another
// record there, the tail not proving it) falls back to reading the whole log, as a restore
// without a hint does.
//
// Why a wrong hint costs only time. Kafka's cleaner keeps offsets, and never removes a fence
// (one key per owner, written once) or an owner's latest commit marker, so a summary of the
// records up to an offset stays true of the same log compacted; a summary of another log (the
// topic recreated, a renumbered copy) is not used unless the record at the hint's offset is the
// one the hint names (same key, owner, epoch, seq and value size: a record of one commit of
// one owner). ProveCurrent is exact when it says yes and may say no when it cannot tell (e.g.
// a re-sent copy of an older fence in the tail): a no only costs the whole read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "state.pb.h"
#include "state/changelog.h"

namespace touchstream::changelog {

// Makes `hint` name `record` as the last record read (not its summary).
void NoteLastRecord(const Record& record, v1::state::RestoreHint& hint);

// The last record of a read, as a restore goes: each Note copies what names the record (reusing
// its buffers), so that the hint's digest of the key is taken once, for the record that stays
// last, not for every record read.
class LastRecord {
 public:
  void Note(const Record& record);
  bool empty() const { return offset_ < 0; }
  // Makes `hint` name the record noted last, as NoteLastRecord would; nothing when none was.
  void WriteTo(v1::state::RestoreHint& hint) const;

 private:
  std::string key_;
  std::string owner_;
  std::string epoch_;
  std::string seq_;
  int64_t value_size_ = -1;  // -1: a null value
  int64_t offset_ = -1;
};
// Whether `record` is the last record `hint` names: the same offset, key, headers and value
// size.
bool IsLastRecord(const v1::state::RestoreHint& hint, const Record& record);

// `before`: the summary of the log through the hint's record; `tail`: a Replay that scanned
// every record after it (in log order). Returns the summary of the whole log when it proves
// that `local` (its owner and commit_seq) is the whole log's latest valid commit, that is: the
// head fence is `local`'s owner's and its latest commit marker is `local`'s commit (the fence,
// when commit_seq is 0); nullopt when it does not prove it.
std::optional<v1::state::ChangelogSummary> ProveCurrent(
    const v1::state::ChangelogSummary& before, const Replay& tail,
    const v1::state::PartitionCheckpoint& local);

}  // namespace touchstream::changelog
