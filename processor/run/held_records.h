// The records a held source delivered, kept in memory to be applied once the hold ends.
//
// A partition's task holds its input while a backlog of due timers fires in chunks, or while the
// input waits for the repartition source (processor/run/source_pauses.h). The records the
// consumer delivers meanwhile cannot be applied yet. Pausing the source and rewinding it once the
// hold ends costs what librdkafka had fetched ahead for it: a pause drops the partition's
// prefetched records (up to queued.min.messages, 100,000 by default) and they are fetched again.
// On the end-to-end benchmark's run that was half the input again (317,802 records fetched for
// 208,749: benchmarks/RESULTS.md, forty-fifth session). So a held source's records are kept here
// instead, in offset order from the one the task held on, and applied when the hold ends; the
// source is not paused. Each is copied out of librdkafka's buffers (a kept librdkafka message
// would pin the whole fetch response it came from). The bound is on the bytes kept over all
// sources (processing.max_held_bytes), each record counted as its bytes plus
// kRecordOverheadBytes. A source whose next record would pass it keeps what it kept and refuses
// that record and every later one (RefusedFrom): it is paused, and once the hold ends its kept
// records are applied and it is rewound to the first record refused, so that only those are
// fetched again. A source that could keep not even the record its hold began with keeps nothing
// and falls back to the pause and the rewind to its task's next offset, as every source does
// with a bound of 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "processor/core/input_record.h"

namespace touchstream {

// An input record's data, owned (its views point into this object, which does not move).
class KeptRecord {
 public:
  explicit KeptRecord(const InputRecord& record);
  KeptRecord(const KeptRecord&) = delete;
  KeptRecord& operator=(const KeptRecord&) = delete;

  const InputRecord& record() const { return record_; }
  // Its topic, key, value and headers' bytes.
  size_t bytes() const { return bytes_; }

 private:
  std::string topic_;
  std::string key_;
  std::string value_;
  std::vector<std::pair<std::string, std::string>> header_data_;
  std::vector<InputHeader> headers_;
  InputRecord record_;
  size_t bytes_ = 0;
};

// Owned by the consume thread.
class HeldRecords {
 public:
  using Source = std::pair<std::string, int32_t>;  // topic, partition
  // A source named by a view (a record's topic): looked up without copying the name.
  using SourceView = std::pair<std::string_view, int32_t>;
  using Record = std::unique_ptr<KeptRecord>;

  // What a kept record is taken to cost besides its bytes: the object, its strings' and vector's
  // allocations, the deque's slot.
  static constexpr size_t kRecordOverheadBytes = 256;

  // `max_bytes`: 0 keeps nothing (every hold pauses and rewinds).
  explicit HeldRecords(size_t max_bytes) : max_bytes_(max_bytes) {}

  // True if `source` has records kept: a record it delivers must join them (KeepBehind), not be
  // applied before them.
  bool Keeping(const SourceView& source) const { return kept_.count(source) != 0; }
  // Keeps a copy of `record` behind the source's other kept records, if any. False if it is
  // refused: it would take the records kept past the bound, or the source refused one before it
  // (RefusedFrom). A source that kept nothing then keeps nothing: it must be paused and rewound
  // to its task's next offset.
  bool Keep(const SourceView& source, const InputRecord& record) {
    Record copy = std::make_unique<KeptRecord>(record);
    return Keep(source, copy);
  }
  // The same for a record kept before (Take): moved back in, not copied again. `record` is left
  // as it was if it is not kept (the caller may still be reading it).
  bool Keep(const SourceView& source, Record& record) {
    return Join(kept_.find(source), source, record);
  }

  // What KeepBehind did with a record.
  enum class Behind {
    kNotKeeping,  // the source keeps nothing: the record is the caller's to apply
    kKept,        // kept behind the others
    kRefused,     // as Keep's false: the source keeps what it kept, this record is read again
  };
  // Keep, only if the source keeps records already (one lookup for Keeping and Keep; a record is
  // copied only to be kept).
  Behind KeepBehind(const SourceView& source, const InputRecord& record);
  Behind KeepBehind(const SourceView& source, Record& record);
  // The offset of the first record the source refused while keeping others (none kept after
  // it): the source must be paused while it holds, and rewound to this offset once its kept
  // records are taken. nullopt while it refused none, or keeps nothing.
  std::optional<int64_t> RefusedFrom(const SourceView& source) const;
  // The source's kept records, oldest first, taken (none are kept after).
  std::deque<Record> Take(const SourceView& source);
  // Drops every kept record (a rebalance or a rebuilt partition: the tasks start again from
  // their checkpoints).
  void Clear() {
    kept_.clear();
    bytes_ = 0;
  }
  bool empty() const { return kept_.empty(); }
  // Records kept now, over all sources, and their bytes as the bound counts them.
  size_t size() const;
  size_t bytes() const { return bytes_; }

 private:
  struct SourceRecords {
    std::deque<Record> records;
    std::optional<int64_t> refused_from;  // RefusedFrom
  };
  // Orders sources and their views alike (a view finds its source without a copy).
  struct SourceLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return SourceView(a.first, a.second) < SourceView(b.first, b.second);
    }
  };
  using Kept = std::map<Source, SourceRecords, SourceLess>;

  static size_t BytesOf(const KeptRecord& record) { return record.bytes() + kRecordOverheadBytes; }
  // Keeps `record` behind `it`'s records (`it`: the source's entry, or end() to begin one).
  bool Join(Kept::iterator it, const SourceView& source, Record& record);

  const size_t max_bytes_;
  Kept kept_;
  size_t bytes_ = 0;
};

}  // namespace touchstream
