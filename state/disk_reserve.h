// The free space kept on the state filesystem (state/disk_space.h says why): below
// `state.min_free_bytes` the instance writes nothing more to RocksDB and leaves its consumer
// group until space returns (processor/run/group_membership.h does that).
#pragma once

#include <cstdint>
#include <string>

#include "processor/core/status.h"
#include "state/disk_space.h"

namespace touchstream {

// Immutable; safe for concurrent use.
class DiskReserve {
 public:
  // `dir`: the state directory. `min_free_bytes` 0 turns the reserve off.
  DiskReserve(std::string dir, uint64_t min_free_bytes)
      : dir_(std::move(dir)), min_free_bytes_(min_free_bytes) {}

  // Unavailable, naming the free and the reserved bytes, when the filesystem has less than
  // the reserve free; Ok otherwise, when the reserve is off, or when the space cannot be read.
  [[nodiscard]] Status Check() const;
  // The same for a reading already taken (size 0: unknown, Ok).
  [[nodiscard]] Status Check(const DiskSpace& space) const;

  const std::string& dir() const { return dir_; }

 private:
  const std::string dir_;
  const uint64_t min_free_bytes_;
};

}  // namespace touchstream
