// The RocksDB memory the in-process benchmarks open their stores with: `run`'s defaults, or with
// the customers' memtables in explicit huge pages (state.memtable_huge_pages, state/huge_pages.h)
// when TOUCHSTREAM_BENCH_HUGE_PAGES=1. The host must have 2 MiB pages reserved for that
// (`echo 64 > /proc/sys/vm/nr_hugepages` as root); RocksDB uses ordinary memory for what does
// not fit, so a benchmark so labelled on a host without any measures the defaults.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "state/state_db.h"

namespace touchstream {

inline bool BenchHugePages() {
  const char* on = std::getenv("TOUCHSTREAM_BENCH_HUGE_PAGES");
  return on != nullptr && std::string(on) == "1";
}

// Labels `state`'s row when the huge pages are asked for.
inline StoreMemory BenchStoreMemory(benchmark::State& state) {
  StoreMemory memory;
  if (BenchHugePages()) {
    memory.memtable_huge_page_bytes = 2ull << 20;
    state.SetLabel("memtable_huge_pages");
  }
  return memory;
}

}  // namespace touchstream
