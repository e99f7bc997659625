#include "state/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace touchstream {

StatusOr<DiskSpace> ReadDiskSpace(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) {
    return Status::IoError("cannot read free space of " + dir + ": " + std::strerror(errno));
  }
  return DiskSpace{static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize,
                   static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize};
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}

}  // namespace touchstream
