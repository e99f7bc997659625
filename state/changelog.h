// The changelog of the customers store, and how to replay it.
//
// Format. Every commit of a partition also goes, through the outbox relay (in memory only, not
// the stored outbox: a restart drops undelivered changelog records), to the changelog topic's
// partition of the same number: one state record per changed customer, then a commit marker.
// Every record names its writer in three headers:
//   touchstream.owner  the owner id: one per assignment of the partition to an instance;
//   touchstream.epoch  the owner's epoch (decimal, see fences);
//   touchstream.seq    the sequence number of the owner's commit the record belongs to
//                      (decimal; 1, 2, ... per owner; 0 for the fence).
//  - A state record: key = customer id, value = CustomerState bytes, or a null value (a
//    tombstone) when the customer was erased.
//  - A commit marker: key = "\xFF" "touchstream.commit." + owner, value = ChangelogMarker with
//    the partition's checkpoint after that commit.
//  - A fence, the first record of a new owner after it took the partition over and restored
//    it: key = "\xFF" "touchstream.fence." + owner, value = ChangelogMarker with its epoch (1 +
//    the highest epoch of any fence its restore saw; 1 when there was none), the commit its
//    state is (prev_owner, prev_seq: the latest valid commit its restore found, empty / 0 when
//    none) and its checkpoint.
// Marker keys start with the byte 0xFF, which never occurs in valid UTF-8; a customer id is a
// proto3 string, which protobuf verifies to be UTF-8 when it parses an event, so no customer
// id can equal a marker key. Compaction (cleanup.policy=compact) therefore keeps, per owner,
// its fence and its latest commit marker (= its highest committed seq), and per customer the
// latest state record.
//
// Which records count. At-least-once delivery and zombies (an instance that lost the
// partition but still has records in flight) mean the log can hold records that must not
// count: a zombie's commits after the new owner restored, and an uncommitted tail (state
// records whose marker never arrived). A restore reads the partition twice (or, when its local
// state is still the latest valid commit, only the tail since its previous restore: see
// changelog_tail.h):
//  - Scan (pass 1) keeps per owner only numbers and ids: its fence's epoch and prev
//    owner / seq, and its latest commit marker's seq; whole checkpoints only of the owner whose
//    fence heads the records scanned so far (its fence's and latest marker's) and of an owner
//    whose markers came before its fence (none in a log written as specified here). Memory:
//    about 100 bytes per owner in the log (one owner per assignment of the partition, each
//    leaving at least its fence in the log, compacted or not) plus two checkpoints, whatever
//    the number of records or commits.
//  - Decide: the head is the fence with the highest epoch (a tie: the later one in log order).
//    The chain runs from the head through the prev pointers. The head's valid seqs are 1 ..
//    its latest marker's seq; each predecessor's are 1 .. the prev_seq its successor recorded,
//    capped by its own latest marker. Owners off the chain contribute nothing. The restored
//    checkpoint is the head's latest commit marker's, or the head fence's if it has none.
//  - Apply (pass 2) applies, in log order, every state record whose (owner, seq) is valid
//    (a put, or a delete for a tombstone): each customer ends at its latest valid record.
// The decision depends only on what records carry and on their relative order, never on
// offsets: a copy of a compacted log (renumbered) restores the same state. Why it is right:
// the relay produces a marker only after every earlier record is acknowledged and nothing
// after it until it is, so a commit's state records precede its marker; the new owner's
// restore read the marker of prev_seq, so every valid record of a predecessor precedes the
// successor's fence, and the successor's own records follow it.
//
// Guarantee and its limits (at_least_once: an idempotent, not transactional, producer; README,
// "Scale-out and the changelog", says the same for operators):
//  - A restore brings back the latest valid commit: every customer at its latest record of a
//    commit that counts, and that commit's checkpoint. Kafka cannot fence a zombie's late
//    writes; replay ignores them (seq > the prev_seq its successor recorded), as it ignores an
//    uncommitted tail.
//  - Compaction keeps only the latest record per key. If a late write (a zombie's, or an
//    uncommitted tail) is the latest record of its customer, the cleaner deletes the valid one
//    before it as soon as it compacts the late write, and a later restore loses the customer.
//    The changelog must therefore be created with min.compaction.lag.ms of at least the zombie
//    window, session.timeout.ms + message.timeout.ms (the relay drops a lost partition's
//    changelog records it has not produced, Relay::Abandon; librdkafka retries what it holds
//    for up to message.timeout.ms); one hour is recommended. Within it nothing is compacted and
//    a zombie stops writing within it. A customer a late write touched that no valid commit
//    writes again within min.compaction.lag.ms can still lose its state at a later restore.
//  - Two owners that fenced at the same epoch without seeing each other (possible only when an
//    instance finished a restore after it had lost the partition): the later fence in the log
//    wins, even if it is the zombie's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "processor/core/status.h"
#include "state.pb.h"

namespace touchstream::changelog {

inline constexpr char kOwnerHeader[] = "touchstream.owner";
inline constexpr char kEpochHeader[] = "touchstream.epoch";
inline constexpr char kSeqHeader[] = "touchstream.seq";
// Marker keys: a prefix and the owner id. 0xFF cannot occur in a UTF-8 customer id.
inline constexpr std::string_view kCommitKeyPrefix =
    "\xFF"
    "touchstream.commit.";
inline constexpr std::string_view kFenceKeyPrefix =
    "\xFF"
    "touchstream.fence.";

// Who writes: the owner of one assignment, its epoch, and (for a record) its commit's seq.
struct Writer {
  std::string owner;
  int64_t epoch = 0;
};

// A state record of commit `seq` of `writer`, the state serialized (as a commit has it: once for
// the store and the changelog); `value` == nullptr: the customer was erased (a tombstone).
v1::state::OutboxRecord SerializedStateRecord(const std::string& topic, int32_t partition,
                                              const Writer& writer, int64_t seq,
                                              const std::string& customer_id,
                                              const std::string* value);
// The commit marker closing commit `marker.checkpoint().commit_seq()` of `writer`; a barrier in
// the outbox.
v1::state::OutboxRecord CommitRecord(const std::string& topic, int32_t partition,
                                     const Writer& writer,
                                     const v1::state::ChangelogMarker& marker);
// The fence of a new owner (`marker` holds its epoch, prev_owner, prev_seq and checkpoint,
// whose owner is the new owner); a barrier in the outbox.
v1::state::OutboxRecord FenceRecord(const std::string& topic, int32_t partition,
                                    const v1::state::ChangelogMarker& marker);

// A changelog stamp's header values as Kafka carries them: the owner, and epoch and seq in
// decimal. The views point into the stamp and into this object (not copyable).
class StampText {
 public:
  explicit StampText(const v1::state::ChangelogStamp& stamp);
  StampText(const StampText&) = delete;
  StampText& operator=(const StampText&) = delete;

  std::string_view owner;
  std::string_view epoch;
  std::string_view seq;

 private:
  char epoch_digits_[24];
  char seq_digits_[24];
};

// Calls fn(name, value) for each header Kafka carries for `record`'s changelog stamp: owner,
// then epoch and seq in decimal (the value is valid during the call); nothing when it has none.
// (The names are long-lived strings: librdkafka's C++ Headers::add takes a std::string.)
void ForEachStampHeader(
    const v1::state::OutboxRecord& record,
    const std::function<void(const std::string& name, std::string_view value)>& fn);
// `record` as a consumer reads it back: its stamp turned into the three headers, after its own
// (for in-memory relays and tests).
v1::state::OutboxRecord WithStampHeaders(v1::state::OutboxRecord record);

// One consumed changelog record. The views must stay valid during the call they are passed to.
struct Record {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: a null value (tombstone)
  std::string_view owner;                 // the headers' values, "" when absent
  std::string_view epoch;
  std::string_view seq;
  int64_t offset = -1;  // for error messages only
};

// Replays one changelog partition. Not thread-safe.
class Replay {
 public:
  Replay() = default;
  // Not copyable: it keeps pointers into its own map.
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Pass 1: every record in log order. Errors: a record without owner or seq header, or a
  // marker that does not parse (e.g. a changelog written by a version before this format).
  Status Scan(const Record& record);

  // After pass 1: the checkpoint of the latest valid commit (the head's latest commit marker,
  // or the head's fence); nullopt when the log holds no fence, or when the head's fence is one
  // whose state the log does not hold until its first commit (changelog_incomplete: an owner that
  // writes its whole local state there, TaskManager::Assign) and that commit's marker is not in
  // the log (the owner stopped before it).
  std::optional<v1::state::PartitionCheckpoint> Latest() const;
  // After pass 1: the epoch of the fence the next owner writes: 1 + the highest epoch of any
  // fence seen (1 when none).
  int64_t NextEpoch() const { return max_epoch_ + 1; }

  // After pass 1 (or any prefix of it): the records scanned reduced to what decides their
  // latest valid commit (see the proto); a restore keeps it as its hint (changelog_tail.h).
  v1::state::ChangelogSummary Summarize() const;
  // The seq of `owner`'s latest commit marker scanned; 0 when none.
  int64_t LatestSeqOf(std::string_view owner) const;

  // After pass 1: whether `record` is a state record that counts (pass 2 applies it); false
  // for markers and for records without a valid seq header.
  bool Counts(const Record& record) const;

  // Pass 2: every record again, in log order. Calls `apply` for each valid state record with
  // its value and that value parsed (both nullptr: erased). Errors: what `apply` returns, a
  // malformed seq header, or a valid state record whose value is no CustomerState (Internal: a
  // corrupt changelog is fatal).
  // The views are `record`'s.
  using ApplyFn = std::function<Status(std::string_view customer_id, const std::string_view* value,
                                       const v1::state::CustomerState* state)>;
  Status Apply(const Record& record, const ApplyFn& apply);

 private:
  // What pass 1 keeps of one owner.
  struct Owner {
    bool fenced = false;
    int64_t epoch = 0;       // of its first fence (a duplicate changes nothing)
    std::string prev_owner;  // its first fence's
    int64_t prev_seq = 0;
    int64_t latest_seq = 0;  // of its latest commit marker; 0: none
    // That marker's checkpoint, kept only while the owner can still be the head: before its
    // fence is scanned, and while its fence heads the records scanned. (The head changes only
    // to an owner whose fence is new, so an owner that is not the head once its fence is
    // scanned never becomes it.)
    std::optional<v1::state::PartitionCheckpoint> latest_checkpoint;
  };
  // Computes the chain and each owner's valid seqs.
  void Decide() const;

  std::map<std::string, Owner, std::less<>> owners_;
  // The owner whose fence heads the records scanned so far (highest epoch, the later on a
  // tie), and its fence's checkpoint; nullptr: no fence yet. Points into owners_.
  Owner* head_ = nullptr;
  std::string_view head_id_;
  v1::state::PartitionCheckpoint head_fence_checkpoint_;
  int64_t max_epoch_ = 0;

  // Computed lazily after Scan.
  mutable bool decided_ = false;
  mutable std::optional<v1::state::PartitionCheckpoint> latest_;
  mutable std::map<std::string, int64_t, std::less<>> valid_up_to_;  // owner -> last valid seq
};

}  // namespace touchstream::changelog
