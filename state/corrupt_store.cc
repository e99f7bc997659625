#include "state/corrupt_store.h"

#include <ctime>
#include <filesystem>
#include <system_error>

namespace touchstream {

std::string MovedAsidePath(const std::string& dir, std::chrono::system_clock::time_point now) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return base + ".corrupt-" + stamp;
}

StatusOr<OpenedStore> OpenOrMoveAside(const std::string& dir, bool sync,
                                      std::chrono::system_clock::time_point now,
                                      const StoreMemory& memory) {
  auto db = StateDb::Open(dir, sync, memory);
  if (db.ok()) return OpenedStore{std::move(*db), std::nullopt};
  if (db.status().code() != Status::Code::kCorruption) return db.status();

  MovedAsideStore moved{MovedAsidePath(dir, now), db.status().message()};
  // Two moves within one second (a crash loop) keep both copies.
  for (int n = 1; std::filesystem::exists(moved.path); ++n) {
    moved.path = MovedAsidePath(dir, now) + "." + std::to_string(n);
  }
  std::error_code error;
  std::filesystem::rename(dir, moved.path, error);
  if (error) {
    return Status::IoError(db.status().message() + "; cannot move " + dir + " aside to " +
                           moved.path + ": " + error.message() +
                           " (state.dir must be a directory the process can rename, not a "
                           "mount point)");
  }
  auto fresh = StateDb::Open(dir, sync, memory);
  if (!fresh.ok()) return fresh.status();
  return OpenedStore{std::move(*fresh), std::move(moved)};
}

}  // namespace touchstream
