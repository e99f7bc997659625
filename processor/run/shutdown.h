// SIGTERM/SIGINT handling: the handler only sets an atomic flag; loops poll it and then shut
// down in order (commit, flush, close consumer, close RocksDB).
#pragma once

#include <atomic>

namespace touchstream {

// Installs the handlers (idempotent) and returns the flag they set.
std::atomic<bool>& InstallStopSignals();

}  // namespace touchstream
