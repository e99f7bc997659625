// The allocator's options, compiled into the binary (and the in-process benchmarks, so that they
// measure what ships): jemalloc reads this symbol at start-up, before MALLOC_CONF, which
// overrides it (MALLOC_CONF=thp:always asks for huge pages; thp:default leaves the host's mode).
//
// thp:never keeps transparent huge pages off jemalloc's memory (MADV_NOHUGEPAGE on its mappings,
// whatever the host's mode), so that a running instance's resident memory is what jemalloc holds.
// With thp:always (compiled in from the twenty-fourth to the thirty-sixth session) the end-to-end
// run took 3-22 % less CPU per event (the hot path is memory-bound: RocksDB's memtable skip lists,
// the write-back cache), but RSS grew past jemalloc's count: jemalloc returns freed pages inside
// the 2 MiB ranges it asked huge pages for (MADV_DONTNEED), and the kernel's khugepaged, which by
// default collapses a range when any one of its 512 pages is present (khugepaged/max_ptes_none
// 511), backs the whole range again behind its back. In a 20-minute soak RSS stepped from ~550 to
// 650-850 MiB after ~14 minutes while jemalloc's resident bytes stayed at 536-589 MiB; a pod's
// memory limit sized on the configured bounds would kill it. With thp:never no step, and RSS
// follows jemalloc's resident bytes. The price is the CPU above (~15 % in five alternating e2e
// pairs). Where the node's max_ptes_none is 0 (only full ranges are collapsed: no step in a soak),
// MALLOC_CONF=thp:always brings the CPU back. (jemalloc 5.3's hpa:true kept RSS level and the CPU,
// but hung a thread's exit at a clean stop: not usable.)
// benchmarks/RESULTS.md, "Twenty-fourth session" and "Thirty-seventh session" (under the soak).
//
// narenas:2 gives jemalloc two arenas instead of four per CPU. The process's threads (the consume
// loop, librdkafka's, RocksDB's flushes and compactions, the HTTP server) are spread over them, and
// each arena keeps its own freed pages until they decay and its own partly used huge pages: with
// two, the end-to-end run's peak RSS was 228-262 MiB against 305-323 (three rounds) and a soak's
// level ~30 MiB lower, with no change in CPU per event beyond the noise. One arena saved as much
// but made the run wait on its lock (less wall-clock throughput in seven pairs of eight); one per
// CPU (percpu_arena:percpu) did as well as two here, but follows the CPUs the host has, which on an
// unpinned Kubernetes pod are the node's, not the pod's. benchmarks/RESULTS.md, "Twenty-seventh
// session".
// `touchstream --version` prints what the running binary asked for, and the host's mode.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks up (je_malloc_conf, a weak symbol in libjemalloc).
const char* malloc_conf = "thp:never,narenas:2";
}
