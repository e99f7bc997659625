// The changelog of the customers store, and how to replay it.
//
// Every commit of a partition also goes, through the outbox, to the changelog topic's
// partition of the same number: one state record per changed customer (key = customer id,
// value = CustomerState; an empty value = erased), then a commit marker (value =
// ChangelogMarker with the partition's checkpoint). Every record names its owner in a header:
// one owner id per assignment of the partition to an instance. When an instance takes a
// partition over, it restores the partition from the changelog (unless its local state is
// the latest valid commit already) and then writes a fence: a marker saying "from here on I
// own this partition; my state is what the changelog held up to offset `base_offset`".
//
// At-least-once delivery and zombies (an instance that lost the partition but still has
// records in flight) mean the log can hold records that must not count. Replay keeps:
//  - an effective fence: a fence with no effective fence of another owner in
//    [base_offset, its own offset) (its restore saw every takeover before it);
//  - a valid commit: a commit marker whose owner holds the last effective fence before it,
//    and that lies in no other owner's blind spot [base_offset, fence offset).
// The state = the state records of valid commits, in log order. A replay needs two passes:
// Scan (markers only) decides validity, Apply replays.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "processor/core/status.h"
#include "state.pb.h"

namespace touchstream::changelog {

inline constexpr char kOwnerHeader[] = "touchstream.owner";
inline constexpr char kMarkerHeader[] = "touchstream.marker";
inline constexpr char kCommit[] = "commit";
inline constexpr char kFence[] = "fence";

// A state record of `customer_id`; `state` == nullptr: the customer was erased.
v1::state::OutboxRecord StateRecord(const std::string& topic, int32_t partition,
                                    const std::string& owner, const std::string& customer_id,
                                    const v1::state::CustomerState* state);
// A commit marker or fence (owner = marker.checkpoint().owner()); a barrier in the outbox.
v1::state::OutboxRecord MarkerRecord(const std::string& topic, int32_t partition,
                                     const v1::state::ChangelogMarker& marker, bool fence);

// One consumed changelog record; `marker` is the marker header ("" for a state record).
struct Record {
  int64_t offset = 0;
  std::string_view key;
  std::string_view value;
  std::string_view owner;
  std::string_view marker;
};

// Replays one changelog partition. Not thread-safe.
class Replay {
 public:
  // Pass 1: every record in offset order. Errors: a marker that does not parse.
  Status Scan(const Record& record);
  // After pass 1: the checkpoint of the last valid commit or effective fence; nullopt if none.
  std::optional<v1::state::PartitionCheckpoint> Latest() const;

  // Pass 2: every record again, in offset order. At each valid commit marker, calls `apply`
  // for each of that commit's state records in log order (value nullptr: erased).
  using ApplyFn = std::function<Status(const std::string& customer_id, const std::string* value)>;
  Status Apply(const Record& record, const ApplyFn& apply);

 private:
  struct Fence {
    int64_t offset;
    int64_t base_offset;
    std::string owner;
    v1::state::PartitionCheckpoint checkpoint;
  };
  struct Commit {
    int64_t offset;
    std::string owner;
    v1::state::PartitionCheckpoint checkpoint;
  };
  void Decide() const;

  std::vector<Fence> fences_;  // effective ones, in offset order
  std::vector<Commit> commits_;

  // Computed lazily after Scan.
  mutable bool decided_ = false;
  mutable std::set<int64_t> valid_commits_;
  mutable std::optional<v1::state::PartitionCheckpoint> latest_;

  // Pass 2: the state records of each owner since its last marker.
  std::map<std::string, std::vector<std::pair<std::string, std::optional<std::string>>>,
           std::less<>>
      pending_;
};

}  // namespace touchstream::changelog
