// The records a held source delivered, kept in memory to be applied once the hold ends.
//
// A partition's task holds its input while a backlog of due timers fires in chunks, or while the
// input waits for the repartition source (processor/run/source_pauses.h). The records the
// consumer delivers meanwhile cannot be applied yet. Pausing the source and rewinding it once the
// hold ends costs what librdkafka had fetched ahead for it: a pause drops the partition's
// prefetched records (up to queued.min.messages, 100,000 by default) and they are fetched again.
// On the end-to-end benchmark's run that was half the input again (317,802 records fetched for
// 208,749: benchmarks/RESULTS.md, forty-fifth session). So a held source's records are kept here
// instead, in offset order, from the one the task held on, and applied when the hold ends; the
// source is not paused. Past `max_per_source` records the source falls back to the pause and the
// rewind: its kept records are dropped (read again after the rewind), as are those it delivers
// until then. The bound is on the bytes kept over all sources (processing.max_held_bytes), each
// record counted as its key and value plus kRecordOverheadBytes.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace touchstream {

// Owned by the consume thread.
class HeldRecords {
 public:
  using Source = std::pair<std::string, int32_t>;  // topic, partition
  using Message = std::unique_ptr<RdKafka::Message>;

  // What a kept record is taken to cost besides its key and value: librdkafka's message and
  // its envelope, and the deque's slot (~300 bytes measured with jemalloc's counts would be
  // closer for tiny records; this errs on the side of keeping fewer).
  static constexpr size_t kRecordOverheadBytes = 256;

  // `max_bytes`: 0 keeps nothing (every hold pauses and rewinds).
  explicit HeldRecords(size_t max_bytes) : max_bytes_(max_bytes) {}

  // True if `source` has records kept: a record it delivers must join them (Keep), not be applied
  // before them.
  bool Keeping(const Source& source) const { return kept_.count(source) != 0; }
  // Keeps `message` (taken) behind the source's other kept records. False if it would take the
  // records kept past the bound: then nothing of the source is kept any more (its records are
  // dropped, `message` is left to the caller) and it must be paused and rewound.
  bool Keep(const Source& source, Message& message);
  // The source's kept records, oldest first, taken (none are kept after).
  std::deque<Message> Take(const Source& source);
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
  static size_t BytesOf(const RdKafka::Message& message);
  // Drops the records kept for `it`'s source.
  void Drop(std::map<Source, std::deque<Message>>::iterator it);

  const size_t max_bytes_;
  std::map<Source, std::deque<Message>> kept_;
  size_t bytes_ = 0;
};

}  // namespace touchstream
