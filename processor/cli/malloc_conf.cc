// The allocator's options, compiled into the binary (and the in-process benchmarks, so that they
// measure what ships): jemalloc reads this symbol at start-up, before MALLOC_CONF, which
// overrides it (MALLOC_CONF=thp:never turns huge pages off; thp:default leaves the host's mode).
//
// thp:always asks the kernel for transparent huge pages on jemalloc's mappings (madvise
// MADV_HUGEPAGE; Debian's default THP mode is `madvise`, so nothing else gets them). The hot path
// is memory-bound (RocksDB's memtable skip lists, 128 MiB by default, the write-back cache, the
// serialized states and records): with 2 MiB pages a first touch is one fault per 2 MiB instead
// of 512, and the random reads of a skip-list insert miss the TLB far less. The commit path took
// 9-17 % less time in process (six alternating pairs of BM_CommitPath), the end-to-end run 3-18 %
// less CPU per event (five pairs), for ~10 % more resident memory in a soak (the kernel backs
// whole 2 MiB pages that jemalloc only partly uses). benchmarks/RESULTS.md, "Twenty-fourth
// session".
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
const char* malloc_conf = "thp:always,narenas:2";
}
