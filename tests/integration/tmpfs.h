// A tmpfs for the state directory of tests that fill the state disk (needs root, as mount(2)
// does; the tests skip without it).
#pragma once

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace touchstream::testing {

inline constexpr uint64_t kMiB = 1 << 20;

// A tmpfs mounted on `dir` until destruction.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, uint64_t size_bytes) : dir_(dir) {
    std::filesystem::create_directories(dir);
    const std::string options = "size=" + std::to_string(size_bytes);
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

inline uint64_t AvailableBytes(const std::string& dir) {
  struct statvfs fs {};
  return statvfs(dir.c_str(), &fs) == 0 ? static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize : 0;
}

// Writes `path` until the filesystem holding it has `leave_bytes` available (or what it had).
inline void FillUntil(const std::string& path, uint64_t leave_bytes) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const uint64_t available = AvailableBytes(dir);
  if (available <= leave_bytes) return;
  const uint64_t fill = available - leave_bytes;
  std::ofstream out(path, std::ios::binary);
  const std::string chunk(kMiB, '\0');
  for (uint64_t written = 0; written < fill; written += chunk.size()) {
    out.write(chunk.data(),
              static_cast<std::streamsize>(std::min<uint64_t>(chunk.size(), fill - written)));
  }
}

}  // namespace touchstream::testing
