#include "state/disk_reserve.h"

namespace touchstream {

Status DiskReserve::Check() const {
  auto space = ReadDiskSpace(dir_);
  return space.ok() ? Check(*space) : Status::Ok();
}

Status DiskReserve::Check(const DiskSpace& space) const {
  if (min_free_bytes_ == 0 || space.size_bytes == 0 || space.available_bytes >= min_free_bytes_) {
    return Status::Ok();
  }
  return Status::Unavailable("the state filesystem of " + dir_ + " has " +
                             HumanBytes(space.available_bytes) + " free, below " +
                             "state.min_free_bytes (" + HumanBytes(min_free_bytes_) + ")");
}

}  // namespace touchstream
