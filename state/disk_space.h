// Free space of the filesystem that holds the state directory, and the reserve kept there.
//
// Debian's RocksDB build (7.8.3) keeps assertions on, and its file writer asserts (aborts the
// process) when a write fails: a full disk under RocksDB is a crash, not an error value. So
// touchstream never lets RocksDB reach a full disk: below `state.min_free_bytes` it stops
// writing (processor/run/group_membership.h says how) and waits for space to return.
#pragma once

#include <cstdint>
#include <string>

#include "processor/core/status.h"

namespace touchstream {

struct DiskSpace {
  uint64_t available_bytes = 0;  // usable by an unprivileged writer (statvfs f_bavail)
  uint64_t size_bytes = 0;
};

// statvfs(2) of `dir`. IoError naming `dir` if it cannot be read. Safe for concurrent use.
StatusOr<DiskSpace> ReadDiskSpace(const std::string& dir);

// "12.5 MiB": a byte count for log lines and errors.
std::string HumanBytes(uint64_t bytes);

}  // namespace touchstream
