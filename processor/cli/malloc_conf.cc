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
// `touchstream --version` prints what the running binary asked for, and the host's mode.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks up (je_malloc_conf, a weak symbol in libjemalloc).
const char* malloc_conf = "thp:always";
}
