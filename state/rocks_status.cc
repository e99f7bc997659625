#include "state/rocks_status.h"

namespace touchstream {

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  return Status::IoError(what + ": " + s.ToString());
}

Status FromRocksRead(const rocksdb::Status& s, const std::string& what) {
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return FromRocks(s, what);
}

Status FromRocksOpen(const rocksdb::Status& s, const std::string& what) {
  if (s.IsCorruption() || s.IsPathNotFound()) {
    return Status::Corruption(what + ": " + s.ToString());
  }
  return FromRocks(s, what);
}

}  // namespace touchstream
