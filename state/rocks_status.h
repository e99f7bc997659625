// RocksDB's status as the processor's (processor/core/status.h), with the meaning state/ gives
// each failure (state/state_db.h, "Errors"). Only state/ includes this: nothing else sees RocksDB.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "processor/core/status.h"

namespace touchstream {

// Any failure is IoError, named by `what`.
Status FromRocks(const rocksdb::Status& s, const std::string& what);
// A read: what RocksDB itself reports corrupt (a checksum mismatch) is local corruption.
Status FromRocksRead(const rocksdb::Status& s, const std::string& what);
// Open: a corrupt file, or a file the database names (CURRENT -> MANIFEST -> tables) that is
// missing, is a store that cannot be opened again as it is. Anything else (the LOCK held by
// another process, permissions, a full disk) is not the store's fault.
Status FromRocksOpen(const rocksdb::Status& s, const std::string& what);

}  // namespace touchstream
