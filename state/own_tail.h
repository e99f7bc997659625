// Keeping a partition's restore hint (state/changelog_tail.h) current while its owner writes the
// changelog, from what Kafka acknowledged instead of reading the log back.
//
// A restore leaves a hint: the last changelog record it read and the summary of the log through
// it. Left there, the hint makes a restart read everything written since that restore: after a
// long run, the whole run's changelog, which no warm restart can read in seconds. The owner knows
// what follows the hint, though: its own records, each acknowledged by Kafka with its offset. As
// long as every offset from the restore's end on is one of them, the records after the hint are
// exactly those this instance wrote, and at each acknowledged commit marker the summary of the
// log through it is what a read of the log would give (ProveCurrent, fed the same records): a
// new hint naming that marker, as true as one a restore leaves.
//
// What keeps it sound: an offset not acknowledged to this instance in order (another instance's
// fence, a zombie's late write, a copy whose first delivery's acknowledgement was lost, a record
// given up) may hold a record this instance does not know, so from there on no hint is made for
// the assignment, ever: the next restore reads the tail since the last one, as it did before.
// Never resuming matters: librdkafka reports a batch the broker took for a duplicate with
// offsets -1, 0, 1, ..., plausible after the first. Only for at_least_once's producer: under
// exactly_once each transaction's marker takes an offset of its own, which no acknowledgement
// reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "state.pb.h"
#include "state/changelog.h"

namespace touchstream::changelog {

// Where a partition's changelog stood when its restore ended.
struct TailStart {
  int64_t end = 0;                      // the offset after the last record the restore read
  v1::state::ChangelogSummary summary;  // of the log before `end` (empty: it held none)
};

// One assignment of a partition, from its restore on. Owned by the consume thread.
class OwnTail {
 public:
  explicit OwnTail(TailStart start);

  // A record of the partition's changelog that Kafka acknowledged at `offset`, in the order of
  // the acknowledgements (librdkafka reports a partition's in offset order). Returns the hint to
  // store when `record` is a commit marker that the log through it proves the latest valid
  // commit; nullopt otherwise, and always once an offset was missed (following() false). An
  // offset before the start (a late acknowledgement of an earlier assignment's record, which the
  // restore read) is ignored.
  std::optional<v1::state::RestoreHint> Acknowledged(const v1::state::OutboxRecord& record,
                                                     int64_t offset);
  // False once an offset was missed or a record did not scan: no more hints.
  bool following() const { return following_; }
  // The offset the next acknowledged record must have (while following()).
  int64_t next_offset() const { return next_offset_; }

 private:
  const int64_t start_;                  // TailStart::end
  v1::state::ChangelogSummary summary_;  // of the log through the last hint's record
  int64_t next_offset_;                  // the offset the next acknowledged record must have
  std::optional<Replay> tail_;           // the records since (Replay is not assignable)
  bool following_ = true;
};

}  // namespace touchstream::changelog
