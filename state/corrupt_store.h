// A state store RocksDB will not open because it is damaged (a corrupt CURRENT or MANIFEST, a
// file the MANIFEST names that is missing or truncated) is moved aside, never deleted, and a
// fresh, empty store takes its place: every partition assigned afterwards has no local
// checkpoint and is restored from the changelog as on a new instance (README, "Corrupt local
// state"). Only Status::Corruption from StateDb::Open counts: a LOCK held by another running
// instance, a permission error or a full disk stay errors, and the directory is left alone.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "processor/core/status.h"
#include "state/state_db.h"

namespace touchstream {

// What was moved aside, and why.
struct MovedAsideStore {
  std::string path;    // <dir>.corrupt-<UTC timestamp>
  std::string reason;  // RocksDB's error on open
};

struct OpenedStore {
  std::unique_ptr<StateDb> db;
  std::optional<MovedAsideStore> moved_aside;  // set when the store in `dir` was damaged
};

// Opens the store in `dir` (StateDb::Open); if it is corrupt, renames `dir` to
// MovedAsidePath(dir, now) and opens a fresh store in `dir`. Errors: any open error but
// Corruption, unchanged; a rename that fails (e.g. `dir` is a mount point: state.dir must be a
// directory inside the volume), naming both paths; the fresh store failing to open.
StatusOr<OpenedStore> OpenOrMoveAside(const std::string& dir, bool sync,
                                      std::chrono::system_clock::time_point now,
                                      const StoreMemory& memory = {});

// `dir` (without a trailing '/') + ".corrupt-" + `now` in UTC as YYYYMMDDTHHMMSSZ.
std::string MovedAsidePath(const std::string& dir, std::chrono::system_clock::time_point now);

}  // namespace touchstream
