// PartitionStore on RocksDB for one input partition, with a write-back cache: customers and
// timer changes touched since the last commit live in memory and are written once per commit
// (as Kafka Streams' record cache). Reads fall through to RocksDB.
//
// The cache holds each customer as its encoding (the bytes the commit writes), parsed into a
// message only while in use: the last kOpenEntries customers loaded are open, each in one of as
// many reused messages, and opening another closes the least recently opened (encoding its
// state first if it changed since). A state pointer the store returned stays valid until
// kOpenEntries other customers were loaded after it, so a caller holds it across one event or
// one customer's timers, not longer. Held parsed, a customer touched long ago cost a cache
// miss for each message and string of it; as bytes it is one contiguous read, parsed into a
// message that stays in the CPU's cache (benchmarks/RESULTS.md, "Thirty-third session").
//
// The customers kept between commits are bounded in bytes (an estimate of their memory,
// EstimatedEntryBytes): past the bound, a commit evicts customers, bucket by bucket of the hash
// map from where the last eviction stopped (in effect at random, whatever their last use), down
// to kEvictToPercent of it.
#pragma once

#include <functional>
#include <memory>
#include <memory_resource>
#include <set>
#include <unordered_map>
#include <vector>

#include "processor/core/partition_store.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by the consume thread.
class PartitionState final : public PartitionStore {
 public:
  // How many stored timers a batch must fire before its commit deletes them with one range
  // tombstone instead of a tombstone each. Not fewer: RocksDB (7.8) fragments all the range
  // tombstones of the timers' memtable again for every new iterator after one was written, and
  // the timer index takes a new iterator after every commit, so a range each commit made that
  // cost grow with the memtable (a 10-minute run firing 2,000 timers a second took twice the
  // CPU: benchmarks/RESULTS.md). A backlog firing in chunks still gets one range per chunk.
  static constexpr size_t kMinFiredRange = 1024;

  // Where an eviction stops, in percent of the bound: close to it, so that a full cache's memory
  // stays level (a soak's RSS swung by the band's width: 10 % of 256 MiB at 90). Evicting more
  // often costs nothing per customer evicted.
  static constexpr uint64_t kEvictToPercent = 98;

  // `db` must outlive this object (it may hold a RocksDB iterator until the next commit).
  // `max_cache_bytes` bounds the estimated bytes of the customers kept after a commit.
  // `min_fired_range`: kMinFiredRange (tests vary it).
  PartitionState(StateDb& db, int32_t partition, uint64_t max_cache_bytes = 32ull << 20,
                 size_t min_fired_range = kMinFiredRange);
  PartitionState(const PartitionState&) = delete;
  PartitionState& operator=(const PartitionState&) = delete;

  StatusOr<CustomerState*> Mutable(const std::string& customer_id) override;
  StatusOr<const CustomerState*> Find(const std::string& customer_id) override;
  StatusOr<const CustomerState*> Peek(const std::string& customer_id) override;
  void Erase(const std::string& customer_id) override;
  // Encodes the state now, while it is in the CPU's cache: the commit writes these bytes (and
  // the changelog carries them) unless a Mutable of the customer comes after. Otherwise the
  // state is encoded when it is closed or at the commit (~1 us for a typical state touched long
  // ago, against ~0.2 us while it is in the cache: benchmarks/RESULTS.md, "Twenty-ninth
  // session").
  void Settle(const CustomerState& customer, std::optional<size_t> encoded_bytes) override;
  using PartitionStore::Settle;
  void ScheduleTimer(const TimerKey& key) override;
  void CancelTimer(const TimerKey& key) override;
  StatusOr<std::optional<TimerKey>> PopDueTimer(const TimerLimit& limit) override;
  StatusOr<std::optional<TimeMs>> NextTimerDue() override;

  // Called for each changed customer: its new state serialized (the bytes written to the
  // store), or nullptr if it is gone (erased).
  using ChangeFn = std::function<void(const std::string& customer_id, const std::string* value)>;
  // Call after the CommitBatch holding this store's changes was written: they
  // become durable, the cache may be trimmed.
  void OnCommitted();
  // True if anything changed since the last commit.
  bool has_changes() const {
    return !dirty_.empty() || !added_.empty() || !removed_.empty() || popped_first_.has_value();
  }

  // The customers changed since the last commit (the state records a commit writes).
  size_t changed_customers() const { return dirty_.size(); }

  // Read-only lookup (cache first, then the store). nullopt if unknown.
  StatusOr<std::optional<CustomerState>> Read(const std::string& customer_id);

  int32_t partition() const { return partition_; }
  // The estimated memory of the cached customers (EstimatedEntryBytes summed). Not counted: the
  // kOpenEntries messages the open customers are parsed into (a few KiB each, whatever the
  // number of customers).
  uint64_t cached_bytes() const { return cached_bytes_; }
  size_t cached_customers() const { return cache_.size(); }
  // Reads of the store for a customer not in the cache (found or not), since construction.
  uint64_t store_reads() const { return store_reads_; }
  // Customer states commits wrote as Settle encoded them (not encoded again), since construction.
  uint64_t settled_writes() const { return settled_writes_; }
  // Tests: each commit also encodes every settled state again and aborts the process if the two
  // encodings differ (a state changed after its Settle without a Mutable). Set before the first
  // commit.
  void set_verify_settled(bool on) { verify_settled_ = on; }

  // What a cached customer is taken to cost: its map node, key and encoding
  // (tests/unit/partition_state_test.cc checks the sum against what the cache allocated).
  static uint64_t EstimatedEntryBytes(const std::string& customer_id, size_t encoded_capacity);

 private:
  friend class CommitBatch;

  struct Cached {
    // The parsed state while the entry is open (one of the last kOpenEntries opened: a message
    // of open_messages_); null while closed.
    CustomerState* state = nullptr;
    // The state's encoding: all there is of a closed entry's state; an open entry's unless
    // `changed`.
    std::string encoded;
    bool changed = false;  // open, and a Mutable came after `encoded` was made
    bool settled = false;  // `encoded` is what Settle made, and no Mutable came since (this batch)
    bool empty = true;     // HoldsNothing as of `encoded` (the commit writes a tombstone)
    uint64_t bytes = 0;    // EstimatedEntryBytes as of the last load or commit
    bool dirty = false;
    bool erased = false;
  };
  using CacheEntry = std::pair<const std::string, Cached>;  // cache_'s elements
  // The cached entry of `customer_id`, read from the store if it is not cached. Not stored
  // either: a new empty entry if `create`, else nullptr (and nothing cached).
  StatusOr<CacheEntry*> Load(const std::string& customer_id, bool create);

  // Adds every change since the last commit to `batch`, reporting each changed
  // customer.
  void AddToBatch(rocksdb::WriteBatch& batch, const ChangeFn& on_change);
  // Records `entry` as changed since the last commit.
  void MarkDirty(CacheEntry& entry);
  // verify_settled_: aborts if `entry`'s state no longer encodes to its settled bytes.
  void VerifySettled(const std::string& customer_id, const Cached& entry);
  // Drops clean customers until the cache holds at most `target_bytes` (all are clean after a
  // commit).
  void Evict(uint64_t target_bytes);
  // Takes `key` out of this batch's added timers; true if the store may hold it, so that its
  // removal must be written (a timer scheduled and cancelled or fired within one batch never
  // reaches the store, and leaves no tombstone there; a stored timer fired in this batch and
  // scheduled again is in removed_, or covered by the fired range: popped_first_ to
  // popped_last_).
  bool Unschedule(const TimerKey& key);
  // Finds the first timer in RocksDB not cancelled or fired in this batch.
  Status LoadDbHead();
  // The earlier of the stored head (db_head_, which must be valid) and the first timer added in
  // this batch; null when there is none.
  const TimerKey* EarliestTimer() const;
  // PopDueTimer's answer when the earliest timer is not due yet; releases the iterator.
  std::optional<TimerKey> NothingDue();

  // Constant after construction.
  StateDb& db_;
  const int32_t partition_;
  const uint64_t max_cache_bytes_;
  const size_t min_fired_range_;

  std::unordered_map<std::string, Cached> cache_;
  uint64_t cached_bytes_ = 0;
  uint64_t store_reads_ = 0;
  uint64_t settled_writes_ = 0;
  // The entry the last Mutable returned (what Settle may encode); valid as dirty_'s pointers are
  // (below), so reset by each commit.
  CacheEntry* last_mutable_ = nullptr;
  bool verify_settled_ = false;  // set_verify_settled
  size_t evict_cursor_ = 0;  // the next bucket Evict looks at
  // The dirty entries of cache_, so that a commit costs O(changed customers) and looks none up.
  // The pointers stay valid until OnCommitted: the map's nodes move on neither insert nor
  // rehash, and only OnCommitted and Evict (which runs in it, once they are clean) erase a
  // loaded entry (Load erases only the node it has just added, on a miss or a failed read).
  std::vector<CacheEntry*> dirty_;
  // Timer changes not yet committed: added, and removed (cancelled, or fired from added_). Their
  // nodes come from timer_nodes_, released at each commit: a node costs a pointer bump, not an
  // allocation and a free (a batch holds a few thousand; an erased node's memory waits for the
  // commit).
  std::pmr::monotonic_buffer_resource timer_nodes_;
  std::pmr::set<TimerKey> added_{&timer_nodes_};
  std::pmr::set<TimerKey> removed_{&timer_nodes_};
  // The stored timers fired in this batch: the first and the last, in key order, and how many.
  // They fire in that order from the stored index, and every stored timer between two of them
  // was fired or is in removed_ (LoadDbHead walks the index in order). The first
  // min_fired_range_ - 1 go into removed_ (a tombstone each); once a batch has fired
  // min_fired_range_, the commit deletes them all, first to last, with one range tombstone
  // (and writes no tombstone of removed_ inside that range).
  std::optional<TimerKey> popped_first_;
  std::optional<TimerKey> popped_last_;
  size_t popped_count_ = 0;
  // The earliest live timer in RocksDB; valid only when db_head_valid_.
  std::optional<TimerKey> db_head_;
  bool db_head_valid_ = false;
  std::string db_cursor_;  // LoadDbHead seeks from here (reset at each commit)
  // LoadDbHead's iterator over this partition's timers, kept between pops until the next
  // commit or until nothing is due (a new iterator and seek per fired timer cost more than
  // firing it; a live iterator pins the column family's memtables and files).
  // (The iterator's upper bound points into timer_upper_: this object never moves.)
  std::string timer_upper_;
  rocksdb::Slice timer_upper_slice_;
  std::unique_ptr<rocksdb::Iterator> timer_it_;
  // Opens `entry` (parses its encoding into a message, closing the least recently opened entry
  // if kOpenEntries are open) and returns its state; null if the encoding does not parse (the
  // entry stays closed).
  CustomerState* Open(CacheEntry& entry);
  // Encodes an open entry's state into `encoded` if it changed since.
  void Encode(Cached& entry);
  // Closes an open entry: its message goes back to the free ones.
  void Close(CacheEntry& entry);

  std::string value_scratch_;  // VerifySettled's encoding, reused
  std::string key_scratch_;    // AddToBatch's keys, reused

  // The entries open at once. The pipeline holds two at most: a timer group's customer, and an
  // erasure memory whose forget timer fires before the group is decided.
  static constexpr size_t kOpenEntries = kHeldStates;
  // Every message made (at most kOpenEntries), those no open entry holds, and the open entries,
  // the least recently opened first.
  std::vector<std::unique_ptr<CustomerState>> messages_;
  std::vector<CustomerState*> free_messages_;
  std::vector<CacheEntry*> open_;
};

}  // namespace touchstream
