#include "state/partition_state.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "processor/core/erasure_memory.h"
#include "state/keys.h"

namespace touchstream {

namespace {

// A cached customer's fixed cost: the hash map's node (the key's and the encoding's string
// objects, the entry's other fields, the node's link and hash) and its bucket, with what the
// allocator adds (~140 bytes with glibc's malloc or jemalloc), and some slack.
constexpr uint64_t kEntryOverheadBytes = 192;

// Encodes `state` into `out` with protobuf's cached sizes, which ByteSizeLong gave as `bytes`
// (not measured again). False if the encoding did not take exactly `bytes` (`out` is then
// unspecified): bounded, so a size that no longer holds cannot write past the buffer. It checks
// the total length only: a change after the measure that kept the total (one part grown, another
// shrunk as much) would encode a stale length prefix inside. Settle's contract rules that out;
// the tests' verify_settled re-encodes every settled state to catch a caller that breaks it.
bool EncodeSized(const CustomerState& state, size_t bytes, std::string& out) {
  out.resize(bytes);
  google::protobuf::io::ArrayOutputStream array(out.data(), static_cast<int>(bytes));
  google::protobuf::io::CodedOutputStream coded(&array);
  state.SerializeWithCachedSizes(&coded);
  coded.Trim();
  return !coded.HadError() && static_cast<size_t>(coded.ByteCount()) == bytes;
}

// A string grown past its capacity doubles it: an encoding kept in the cache gives back what it
// holds beyond a quarter more than its size (one allocation and copy, when a state grew).
void FitCapacity(std::string& encoded) {
  if (encoded.capacity() > encoded.size() + encoded.size() / 4 + 16) encoded.shrink_to_fit();
}

}  // namespace

PartitionState::PartitionState(StateDb& db, int32_t partition, uint64_t max_cache_bytes,
                               size_t min_fired_range)
    : db_(db),
      partition_(partition),
      max_cache_bytes_(max_cache_bytes),
      min_fired_range_(std::max<size_t>(min_fired_range, 1)) {}

uint64_t PartitionState::EstimatedEntryBytes(const std::string& customer_id,
                                             size_t encoded_capacity) {
  // The key's characters past the string's inline buffer (15), and the encoding's buffer, with
  // up to a quarter more for the allocator's size classes.
  const uint64_t key_heap = customer_id.size() > 15 ? customer_id.size() + 1 : 0;
  return kEntryOverheadBytes + key_heap + encoded_capacity + encoded_capacity / 4;
}

StatusOr<PartitionState::CacheEntry*> PartitionState::Load(const std::string& customer_id,
                                                           bool create) {
  auto [it, added] = cache_.try_emplace(customer_id);
  if (!added) {
    if (Open(*it) == nullptr) return Status::Internal("a cached state does not parse");
    return &*it;
  }
  ++store_reads_;
  StatusOr<bool> stored = db_.ReadCustomerBytes(partition_, customer_id, it->second.encoded);
  if (!stored.ok() || (!*stored && !create)) {
    cache_.erase(it);
    if (!stored.ok()) return stored.status();
    return static_cast<CacheEntry*>(nullptr);
  }
  Cached& entry = it->second;
  if (Open(*it) == nullptr) {
    cache_.erase(it);
    return Status::Corruption("corrupt stored state for a customer in partition " +
                              std::to_string(partition_));
  }
  entry.bytes = EstimatedEntryBytes(customer_id, entry.encoded.capacity());
  cached_bytes_ += entry.bytes;
  return &*it;
}

CustomerState* PartitionState::Open(CacheEntry& entry) {
  Cached& cached = entry.second;
  if (cached.state != nullptr) {
    if (open_.back() != &entry) {
      open_.erase(std::find(open_.begin(), open_.end(), &entry));
      open_.push_back(&entry);
    }
    return cached.state;
  }
  if (open_.size() == kOpenEntries) Close(*open_.front());
  if (free_messages_.empty()) {
    messages_.push_back(std::make_unique<CustomerState>());
    free_messages_.push_back(messages_.back().get());
  }
  CustomerState* state = free_messages_.back();
  if (cached.encoded.empty()) {
    state->Clear();
  } else if (!state->ParseFromString(cached.encoded)) {
    state->Clear();
    return nullptr;
  }
  free_messages_.pop_back();
  cached.state = state;
  cached.empty = HoldsNothing(*state);
  cached.changed = false;
  open_.push_back(&entry);
  return state;
}

void PartitionState::Encode(Cached& entry) {
  if (entry.state == nullptr || !entry.changed) return;
  entry.state->SerializeToString(&entry.encoded);
  FitCapacity(entry.encoded);
  entry.empty = HoldsNothing(*entry.state);
  entry.changed = false;
}

void PartitionState::Close(CacheEntry& entry) {
  Cached& cached = entry.second;
  if (cached.state == nullptr) return;
  if (verify_settled_ && cached.settled) VerifySettled(entry.first, cached);
  Encode(cached);
  free_messages_.push_back(cached.state);
  cached.state = nullptr;
  open_.erase(std::find(open_.begin(), open_.end(), &entry));
}

StatusOr<CustomerState*> PartitionState::Mutable(const std::string& customer_id) {
  StatusOr<CacheEntry*> loaded = Load(customer_id, /*create=*/true);
  if (!loaded.ok()) return loaded.status();
  CacheEntry& entry = **loaded;
  MarkDirty(entry);
  entry.second.erased = false;
  entry.second.changed = true;
  entry.second.settled = false;
  last_mutable_ = &entry;
  return entry.second.state;
}

void PartitionState::Settle(const CustomerState& customer, std::optional<size_t> encoded_bytes) {
  if (last_mutable_ == nullptr || last_mutable_->second.state != &customer) return;
  Cached& entry = last_mutable_->second;
  if (entry.erased || HoldsNothing(customer)) return;  // the commit writes a tombstone
  if (!encoded_bytes || !EncodeSized(customer, *encoded_bytes, entry.encoded)) {
    customer.SerializeToString(&entry.encoded);
  }
  FitCapacity(entry.encoded);
  entry.empty = false;
  entry.changed = false;
  entry.settled = true;
}

StatusOr<const CustomerState*> PartitionState::Find(const std::string& customer_id) {
  // A customer read here stays clean: a commit writes it only once Mutable marks it.
  StatusOr<CacheEntry*> loaded = Load(customer_id, /*create=*/false);
  if (!loaded.ok()) return loaded.status();
  if (*loaded == nullptr) return static_cast<const CustomerState*>(nullptr);
  const Cached& entry = (*loaded)->second;
  if (entry.erased || HoldsNothing(*entry.state)) return static_cast<const CustomerState*>(nullptr);
  return static_cast<const CustomerState*>(entry.state);
}

StatusOr<const CustomerState*> PartitionState::Peek(const std::string& customer_id) {
  // Cached clean, as Find's; an unknown customer's empty entry too, for the Mutable that usually
  // follows (the commit writes nothing for it unless that Mutable comes).
  StatusOr<CacheEntry*> loaded = Load(customer_id, /*create=*/true);
  if (!loaded.ok()) return loaded.status();
  return static_cast<const CustomerState*>((*loaded)->second.state);
}

void PartitionState::Erase(const std::string& customer_id) {
  auto [it, added] = cache_.try_emplace(customer_id);
  if (added) {
    it->second.bytes = EstimatedEntryBytes(customer_id, 0);
    cached_bytes_ += it->second.bytes;
  }
  it->second.encoded.clear();
  Open(*it)->Clear();
  it->second.empty = true;
  it->second.changed = false;
  it->second.settled = false;
  MarkDirty(*it);
  it->second.erased = true;
}

void PartitionState::ScheduleTimer(const TimerKey& key) { added_.insert(key); }

bool PartitionState::Unschedule(const TimerKey& key) {
  const bool added_in_batch = added_.erase(key) > 0;
  // Scheduled in this batch and not removed before in it: the pipeline schedules only a key it
  // does not hold, so no earlier commit stored it (unless it is the stored head itself).
  return !added_in_batch || removed_.count(key) > 0 || (db_head_ && *db_head_ == key);
}

void PartitionState::CancelTimer(const TimerKey& key) {
  if (Unschedule(key)) removed_.insert(key);
  if (db_head_valid_ && db_head_ && *db_head_ == key) db_head_valid_ = false;
}

Status PartitionState::LoadDbHead() {
  if (!timer_it_) {
    rocksdb::ReadOptions options;
    timer_upper_ = keys::PartitionPrefix(partition_ + 1);
    timer_upper_slice_ = rocksdb::Slice(timer_upper_);
    options.iterate_upper_bound = &timer_upper_slice_;
    timer_it_.reset(db_.db_->NewIterator(options, db_.timers()));
    timer_it_->Seek(db_cursor_.empty() ? keys::PartitionPrefix(partition_) : db_cursor_);
  }
  // The iterator stands on the last head (or before the first): what it passed is popped. The
  // last head itself, at db_cursor_, was popped or cancelled (nothing else makes the head
  // unknown): skipped without decoding it.
  rocksdb::Iterator* it = timer_it_.get();
  db_head_.reset();
  for (; it->Valid(); it->Next()) {
    if (!db_cursor_.empty() && it->key() == rocksdb::Slice(db_cursor_)) continue;
    std::optional<TimerKey> key = keys::DecodeTimer(it->key().ToStringView());
    if (!key) {
      return Status::Corruption("corrupt timer index key in partition " +
                                std::to_string(partition_));
    }
    if ((popped_last_ && !(*popped_last_ < *key)) || removed_.count(*key)) continue;
    db_head_ = std::move(key);
    db_cursor_.assign(it->key().data(), it->key().size());
    break;
  }
  if (it->status().IsCorruption()) {
    return Status::Corruption("cannot read timers: " + it->status().ToString());
  }
  if (!it->status().ok()) return Status::IoError("cannot read timers: " + it->status().ToString());
  db_head_valid_ = true;
  return Status::Ok();
}

const TimerKey* PartitionState::EarliestTimer() const {
  const TimerKey* first = db_head_ ? &*db_head_ : nullptr;
  if (!added_.empty() && (!first || *added_.begin() < *first)) first = &*added_.begin();
  return first;
}

StatusOr<std::optional<TimerKey>> PartitionState::PopDueTimer(const TimerLimit& limit) {
  if (!db_head_valid_) {
    if (Status s = LoadDbHead(); !s.ok()) return s;
  }
  const TimerKey* first = EarliestTimer();
  if (!first || !limit.Admits(*first)) return NothingDue();
  TimerKey key = *first;
  if (db_head_ && *db_head_ == key) {
    // The stored head: fired (and out of added_, should it be re-scheduled). Its tombstone of
    // its own until the batch has fired enough for a range.
    added_.erase(key);
    if (!popped_first_) popped_first_ = key;
    popped_last_ = key;
    if (++popped_count_ < min_fired_range_) removed_.insert(key);
    db_head_valid_ = false;
  } else if (Unschedule(key)) {
    removed_.insert(key);  // a stored copy goes too (a key re-scheduled after it was removed)
  }
  return std::optional<TimerKey>(std::move(key));
}

StatusOr<std::optional<TimeMs>> PartitionState::NextTimerDue() {
  if (!db_head_valid_) {
    if (Status s = LoadDbHead(); !s.ok()) return s;
    NothingDue();  // the head stays known; the iterator pins nothing meanwhile
  }
  const TimerKey* first = EarliestTimer();
  return first ? std::optional<TimeMs>(first->due_ms) : std::nullopt;
}

std::optional<TimerKey> PartitionState::NothingDue() {
  // The head stays known (db_head_); the iterator goes, so that a partition where nothing comes
  // due for days pins no memtable or file of the timers (the next pop seeks from db_cursor_).
  timer_it_.reset();
  return std::nullopt;
}

void PartitionState::Evict(uint64_t target_bytes) {
  const size_t buckets = cache_.bucket_count();
  std::vector<std::string> victims;
  for (size_t scanned = 0; cached_bytes_ > target_bytes && scanned < buckets; ++scanned) {
    const size_t bucket = evict_cursor_++ % buckets;
    victims.clear();
    for (auto it = cache_.begin(bucket); it != cache_.end(bucket); ++it) {
      victims.push_back(it->first);
    }
    for (const std::string& id : victims) {
      if (cached_bytes_ <= target_bytes) break;  // the rest of the bucket stays
      auto it = cache_.find(id);
      Close(*it);
      cached_bytes_ -= it->second.bytes;
      cache_.erase(it);
    }
  }
}

void PartitionState::MarkDirty(CacheEntry& entry) {
  if (!entry.second.dirty) dirty_.push_back(&entry);
  entry.second.dirty = true;
}

void PartitionState::AddToBatch(rocksdb::WriteBatch& batch, const ChangeFn& on_change) {
  // In key order. RocksDB 7.8's memtable inserts a key that directly follows the previous insert
  // (nothing stored between them) without a search; any other key is searched from the skip
  // list's top, here along much the same path as the previous key's, whose nodes are then in
  // the CPU cache. (An insert hint per partition, which resumes the search where the last one
  // ended, saved 8 % of BM_CommitPath's instructions and no measurable time: RESULTS.md.)
  std::sort(dirty_.begin(), dirty_.end(),
            [](const CacheEntry* a, const CacheEntry* b) { return a->first < b->first; });
  for (CacheEntry* dirty : dirty_) {
    const std::string& id = dirty->first;
    Cached& entry = dirty->second;
    keys::AssignCustomer(key_scratch_, partition_, id);
    // A settled state held something when it was settled and has not changed since: its
    // encoding is current.
    const bool settled = entry.settled;
    Encode(entry);
    if (entry.erased || entry.empty) {
      batch.Delete(db_.customers(), key_scratch_).PermitUncheckedError();
      if (on_change) on_change(id, nullptr);
    } else {
      if (settled) {
        ++settled_writes_;
        if (verify_settled_) VerifySettled(id, entry);
      }
      batch.Put(db_.customers(), key_scratch_, entry.encoded).PermitUncheckedError();
      if (on_change) on_change(id, &entry.encoded);
    }
    cached_bytes_ -= entry.bytes;
    entry.bytes = EstimatedEntryBytes(id, entry.encoded.capacity());
    cached_bytes_ += entry.bytes;
  }
  const bool fired_range = popped_count_ >= min_fired_range_;
  if (fired_range) {
    // [first, last]: the end key is the least key after the last one.
    batch
        .DeleteRange(db_.timers(), keys::Timer(partition_, *popped_first_),
                     keys::Timer(partition_, *popped_last_) + '\0')
        .PermitUncheckedError();
  }
  for (const TimerKey& key : removed_) {
    if (fired_range && !(key < *popped_first_) && !(*popped_last_ < key)) continue;  // in it
    keys::AssignTimer(key_scratch_, partition_, key);
    batch.Delete(db_.timers(), key_scratch_).PermitUncheckedError();
  }
  for (const TimerKey& key : added_) {
    keys::AssignTimer(key_scratch_, partition_, key);
    batch.Put(db_.timers(), key_scratch_, "").PermitUncheckedError();
  }
}

// Aborts rather than returns an error: only tests turn it on, a mismatch is a bug in the code that
// changed the state, and AddToBatch (inside a commit) has no error to return.
void PartitionState::VerifySettled(const std::string& customer_id, const Cached& entry) {
  if (entry.state == nullptr || entry.erased) return;
  entry.state->SerializeToString(&value_scratch_);
  if (value_scratch_ == entry.encoded || (entry.empty && HoldsNothing(*entry.state))) return;
  std::fprintf(stderr,
               "PartitionState: the state of customer %s changed after Settle without a Mutable "
               "(%zu bytes settled, %zu now)\n",
               customer_id.c_str(), entry.encoded.size(), value_scratch_.size());
  std::abort();
}

void PartitionState::OnCommitted() {
  last_mutable_ = nullptr;
  for (CacheEntry* dirty : dirty_) {
    if (dirty->second.erased) {
      cached_bytes_ -= dirty->second.bytes;
      Close(*dirty);
      const std::string id = dirty->first;
      cache_.erase(id);
    } else {
      dirty->second.dirty = false;
      dirty->second.settled = false;
    }
  }
  dirty_.clear();  // before Evict, which may erase what the list pointed to
  if (cached_bytes_ > max_cache_bytes_) Evict(max_cache_bytes_ * kEvictToPercent / 100);
  // The earliest timer stays known across the commit when it was known before it: the stored
  // index is now the old one without removed_ and the fired range (which held no known head)
  // plus added_. Seeking
  // it again at every commit of every caught-up partition walked the tombstones of the fired
  // and cancelled timers at the head of the partition's range.
  std::optional<TimerKey> head;
  if (db_head_valid_) {
    if (const TimerKey* first = EarliestTimer()) head = *first;
  }
  added_.clear();
  removed_.clear();
  timer_nodes_.release();
  popped_first_.reset();
  popped_last_.reset();
  popped_count_ = 0;
  db_head_ = std::move(head);
  // A seek (after the head is popped or cancelled) starts at the head: nothing before it lives.
  if (db_head_valid_ && db_head_) {
    keys::AssignTimer(db_cursor_, partition_, *db_head_);
  } else {
    db_cursor_.clear();
  }
  timer_it_.reset();  // the commit wrote timers it does not see
}

StatusOr<std::optional<CustomerState>> PartitionState::Read(const std::string& customer_id) {
  auto it = cache_.find(customer_id);
  if (it != cache_.end()) {
    const Cached& entry = it->second;
    if (entry.erased) return std::optional<CustomerState>();
    CustomerState state;
    if (entry.state != nullptr) {
      state = *entry.state;
    } else if (!state.ParseFromString(entry.encoded)) {
      return Status::Corruption("corrupt cached state");
    }
    if (HoldsNothing(state)) return std::optional<CustomerState>();
    return std::optional<CustomerState>(std::move(state));
  }
  return db_.ReadCustomer(partition_, customer_id);
}

}  // namespace touchstream
