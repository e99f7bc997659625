#include "processor/kafka/changelog_restorer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "processor/core/erasure_memory.h"
#include "processor/core/partition_name.h"
#include "processor/kafka/consumer_close.h"
#include "processor/kafka/watermarks.h"
#include "state/changelog_tail.h"
#include "state/commit_batch.h"
#include "state/kept_records.h"
#include "state/restore_ingest.h"
#include "state/restore_writer.h"

namespace touchstream {

namespace {

// A header's value as a view into the message (librdkafka's C API: the C++ Headers copy every
// header and value); "" when absent.
std::string_view HeaderView(rd_kafka_headers_t* headers, const char* key) {
  const void* value = nullptr;
  size_t size = 0;
  if (headers == nullptr ||
      rd_kafka_header_get_last(headers, key, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return {};
  }
  return std::string_view(static_cast<const char*>(value), size);
}

}  // namespace

StatusOr<std::unique_ptr<ChangelogRestorer>> ChangelogRestorer::Create(const KafkaProperties& props,
                                                                       std::string changelog_topic,
                                                                       std::string input_topic) {
  KafkaProperties own = props;
  own.erase("group.instance.id");
  own.erase("partition.assignment.strategy");
  auto conf = MakeKafkaConf(own, {{"group.id", "touchstream-restore"},
                                  {"enable.auto.commit", "false"},
                                  {"enable.auto.offset.store", "false"},
                                  // A range whose start the log no longer holds (retention or
                                  // DeleteRecords moved it meanwhile) is an error, not a jump
                                  // to the end that would read the range short.
                                  {"auto.offset.reset", "error"},
                                  // The end: under read_committed (exactly_once) the
                                  // last offsets may be transaction markers, never delivered.
                                  {"enable.partition.eof", "true"},
                                  // It reads a range known to exist, never waits for new
                                  // records: a long poll only delays the next range. A fetch
                                  // left waiting at one range's end (the broker holds it up to
                                  // this long when there is nothing to return) holds back the
                                  // next assign's first fetch: with the default 500 ms, two
                                  // reads per partition cost ~0.6 s of waiting (restoring 8
                                  // partitions took 5.2 s, now 0.8 s: benchmarks/RESULTS.md).
                                  {"fetch.wait.max.ms", "5"}});
  if (!conf.ok()) return conf.status();
  std::string errstr;
  std::unique_ptr<ChangelogRestorer> restorer(new ChangelogRestorer());
  restorer->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), errstr));
  if (!restorer->consumer_) {
    return Status::KafkaError("cannot create the changelog reader: " + errstr);
  }
  restorer->changelog_topic_ = std::move(changelog_topic);
  restorer->input_topic_ = std::move(input_topic);
  return restorer;
}

ChangelogRestorer::~ChangelogRestorer() {
  // It reads by assignment in no group: its close waits for no coordinator, but is bounded too.
  CloseConsumer(consumer_, std::chrono::seconds(10));
}

Status ChangelogRestorer::Read(int32_t partition, int64_t begin, int64_t end, int timeout_ms,
                               const std::function<Status(const changelog::Record&)>& fn,
                               uint64_t& records, const ProgressFn& progress) {
  if (begin >= end) return Status::Ok();
  std::unique_ptr<RdKafka::TopicPartition> tp(
      RdKafka::TopicPartition::create(changelog_topic_, partition, begin));
  std::vector<RdKafka::TopicPartition*> assignment{tp.get()};
  if (RdKafka::ErrorCode err = consumer_->assign(assignment); err != RdKafka::ERR_NO_ERROR) {
    return Status::KafkaError("cannot read " + changelog_topic_ + ": " + RdKafka::err2str(err));
  }
  Status result = Status::Ok();
  int64_t next = begin;
  auto last_progress = std::chrono::steady_clock::now();
  bool waited = false;  // for Kafka, since the last record: the next one is progress to report
  while (next < end && result.ok()) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(200));
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      waited = true;
      if (std::chrono::steady_clock::now() - last_progress >
          std::chrono::milliseconds(timeout_ms)) {
        result = Status::KafkaError("reading " + PartitionName(changelog_topic_, partition) +
                                    " made no progress for " + std::to_string(timeout_ms) +
                                    " ms at offset " + std::to_string(next));
      }
      continue;
    }
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (m->partition() == partition && m->offset() >= end) break;
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (m->err() == RdKafka::ERR__FATAL) result = Status::KafkaError(m->errstr());
      if (m->err() == RdKafka::ERR__AUTO_OFFSET_RESET) {
        result = Status::KafkaError(
            "reading " + PartitionName(changelog_topic_, partition) + " from offset " +
            std::to_string(next) + ": " + m->errstr() +
            " (the log no longer holds it: a delete retention or DeleteRecords removed records "
            "while the restore read them; the changelog must be cleanup.policy=compact)");
      }
      continue;
    }
    if (m->partition() != partition || m->offset() < next) continue;
    // Past the range (what follows control records at its end): not part of this read.
    if (m->offset() >= end) break;
    last_progress = std::chrono::steady_clock::now();
    changelog::Record record;
    record.offset = m->offset();
    if (m->key_pointer() != nullptr) {
      record.key = std::string_view(static_cast<const char*>(m->key_pointer()), m->key_len());
    }
    if (m->payload() != nullptr) {
      record.value = std::string_view(static_cast<const char*>(m->payload()), m->len());
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(m->c_ptr(), &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      headers = nullptr;
    }
    record.owner = HeaderView(headers, changelog::kOwnerHeader);
    record.epoch = HeaderView(headers, changelog::kEpochHeader);
    record.seq = HeaderView(headers, changelog::kSeqHeader);
    result = fn(record);
    next = m->offset() + 1;
    if ((++records % kProgressRecords == 0 || std::exchange(waited, false)) && progress &&
        result.ok()) {
      result = progress(records, end);
    }
  }
  consumer_->unassign();
  return result;
}

StatusOr<ChangelogRestorer::Result> ChangelogRestorer::Restore(int32_t partition, StateDb& db,
                                                               uint64_t replay_memory_bytes,
                                                               uint64_t ingest_min_customers,
                                                               const ProgressFn& progress,
                                                               int timeout_ms) {
  Result result;
  auto watermarks = QueryWatermarks(*consumer_, changelog_topic_, partition, timeout_ms);
  if (!watermarks.ok()) return watermarks.status();
  const int64_t low = watermarks->low;
  const int64_t high = watermarks->high;
  auto local = db.ReadCheckpoint(input_topic_, partition);
  if (!local.ok() && local.status().code() == Status::Code::kCorruption) {
    // Local damage: the partition's local data goes; it is restored as on a new instance.
    CommitBatch wipe(db);
    wipe.WipePartition(input_topic_, partition);
    if (Status s = wipe.Commit(); !s.ok()) return s;
    result.dropped_corrupt = local.status().message();
    local = std::optional<v1::state::PartitionCheckpoint>();
  }
  if (!local.ok()) return local.status();
  result.checkpoint = *local;

  // A changelog record that cannot be replayed is fatal (nothing to rebuild it from): the
  // error names the topic and partition (the record's offset is in the message).
  const std::string where = PartitionName(changelog_topic_, partition) + ": ";
  auto named = [&](const Status& s) {
    return s.code() == Status::Code::kInternal ? Status::Internal(where + s.message()) : s;
  };

  if (local->has_value()) {
    auto hint = db.ReadRestoreHint(changelog_topic_, partition);
    // A hint that does not parse is only a lost shortcut.
    if (!hint.ok() && hint.status().code() != Status::Code::kCorruption) return hint.status();
    if (hint.ok() && hint->has_value() && (*hint)->last_offset() >= low &&
        (*hint)->last_offset() < high) {
      auto proven =
          RestoreFromTail(partition, high, **hint, **local, timeout_ms, db, result, progress);
      if (!proven.ok()) return named(proven.status());
      if (*proven) return result;
    }
  }

  changelog::Replay replay;
  changelog::LastRecord last_read;
  KeptRecords kept;  // while `kept_all`: every record read, for the second pass
  bool kept_all = true;
  if (Status s = Read(
          partition, low, high, timeout_ms,
          [&](const changelog::Record& r) {
            last_read.Note(r);
            if (kept_all && kept.Add(r) > replay_memory_bytes) {
              kept_all = false;
              kept.Clear();
            }
            return replay.Scan(r);
          },
          result.records, progress);
      !s.ok()) {
    return named(s);
  }
  result.fence_epoch = replay.NextEpoch();
  result.tail_start = {high, replay.Summarize()};
  CommitBatch batch(db);
  if (!last_read.empty()) {
    v1::state::RestoreHint next_hint;
    last_read.WriteTo(next_hint);
    *next_hint.mutable_summary() = replay.Summarize();
    batch.PutRestoreHint(changelog_topic_, partition, next_hint);
  }
  const std::optional<v1::state::PartitionCheckpoint> latest = replay.Latest();
  // Nothing valid in the changelog: the local state (if any) is all there is, and the changelog
  // lacks it (a recreated topic; a first owner whose records never reached Kafka), so the new
  // owner writes it there whole (PartitionCheckpoint.changelog_incomplete). Or the local state
  // is the latest commit.
  if (!latest || (local->has_value() && (*local)->owner() == latest->owner() &&
                  (*local)->commit_seq() == latest->commit_seq())) {
    if (Status s = batch.Commit(); !s.ok()) return s;
    if (!latest && result.checkpoint && !result.checkpoint->owner().empty()) {
      result.checkpoint->set_changelog_incomplete(true);
    }
    // Not when the head is this store's own owner, which stopped while writing the local state
    // there (it writes it again now): nothing was lost.
    const bool own_head = local->has_value() && !(*local)->owner().empty() &&
                          replay.Summarize().head_owner() == (*local)->owner();
    result.unproven = !latest && result.records > 0 && !own_head;
    return result;
  }

  // Replace: wipe, write the valid records' states (no checkpoint, so a crash mid-way restores
  // again), then the timer index and the checkpoint.
  batch.WipePartition(input_topic_, partition);
  Status s = Status::Ok();
  if (kept_all) {
    // Every record is at hand: only each customer's last counted record is applied (its state is
    // the restored one; an earlier one is neither parsed nor written, as a compacted changelog
    // would not hold it), with the timer index entries of the states Apply parsed: nothing is
    // read back. A large partition goes, in customer id order, into files ingested at once after
    // the wipe (state/restore_ingest.h); a small one, in log order (the kept records read
    // sequentially), through the memtables (state/restore_writer.h).
    const std::deque<changelog::Record>& records = kept.records();
    std::unordered_map<std::string_view, size_t> last;  // customer id -> index in `records`
    last.reserve(records.size());
    for (size_t i = 0; i < records.size() && s.ok(); ++i) {
      if (replay.Counts(records[i])) {
        last[records[i].key] = i;
      } else {
        // Not applied, but checked as Apply checks every record (a malformed seq header).
        s = replay.Apply(records[i], [](std::string_view, const std::string_view*,
                                        const v1::state::CustomerState*) { return Status::Ok(); });
      }
    }
    std::vector<size_t> order;  // the customers' last records, in log order
    order.reserve(last.size());
    for (const auto& [customer_id, index] : last) order.push_back(index);
    std::sort(order.begin(), order.end());
    auto apply_in_order = [&](auto& writer) {
      Status applied = Status::Ok();
      for (size_t n = 0; n < order.size() && applied.ok(); ++n) {
        if (n % kProgressRecords == 0 && n > 0 && progress) {
          if (applied = progress(result.records, high); !applied.ok()) break;
        }
        applied = replay.Apply(records[order[n]],
                               [&](std::string_view customer_id, const std::string_view* value,
                                   const v1::state::CustomerState* state) {
                                 if (state != nullptr && !IsErasureMemoryKey(customer_id)) {
                                   ++result.customers;
                                 }
                                 return writer.Put(customer_id, value, state);
                               });
      }
      return applied;
    };
    if (!s.ok()) {
      // A malformed record: nothing more is written.
    } else if (order.size() >= ingest_min_customers) {
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return records[a].key < records[b].key; });
      s = batch.Commit();  // the wipe (and the hint) first: the files land above it
      RestoreIngest ingest(db, partition, latest->watermark_ms());
      if (s.ok()) s = apply_in_order(ingest);
      if (s.ok()) s = ingest.Finish();
      result.ingested = ingest.ingested();
    } else {
      RestoreWriter writer(batch, partition, latest->watermark_ms());
      s = apply_in_order(writer);
      if (s.ok()) s = writer.Flush();
    }
    kept.Clear();
    if (!s.ok()) return named(s);
  } else {
    RestoreWriter writer(batch, partition, latest->watermark_ms());
    s = Read(
        partition, low, high, timeout_ms,
        [&](const changelog::Record& r) {
          return replay.Apply(r, [&](std::string_view customer_id, const std::string_view* value,
                                     const v1::state::CustomerState*) {
            return writer.Put(customer_id, value, nullptr);
          });
        },
        result.records, progress);
    if (s.ok()) s = writer.Flush();
    if (!s.ok()) return named(s);
    // The timer index from what was written, customer by customer.
    auto flush_when_full = [&]() {
      return batch.size() >= static_cast<int>(RestoreWriter::kCustomersPerWrite) ? batch.Commit()
                                                                                 : Status::Ok();
    };
    uint64_t entries = 0;
    s = db.ForEachEntryOf(partition, [&](const std::string& key, v1::state::CustomerState state) {
      batch.PutRestoredTimers(partition, latest->watermark_ms(), key, state);
      if (!IsErasureMemoryKey(key)) ++result.customers;
      if (++entries % kProgressRecords == 0 && progress) {
        if (Status step = progress(result.records, high); !step.ok()) return step;
      }
      return flush_when_full();
    });
    // What was just written and verified does not read back: not a state to rebuild again.
    if (s.code() == Status::Code::kCorruption) {
      return Status::Internal(where + "the restored state does not read back: " + s.message());
    }
    if (!s.ok()) return s;
  }
  batch.PutCheckpoint(input_topic_, partition, *latest);
  if (Status committed = batch.Commit(); !committed.ok()) return committed;
  result.checkpoint = latest;
  result.replayed = true;
  return result;
}

StatusOr<bool> ChangelogRestorer::RestoreFromTail(int32_t partition, int64_t end,
                                                  const v1::state::RestoreHint& hint,
                                                  const v1::state::PartitionCheckpoint& local,
                                                  int timeout_ms, StateDb& db, Result& result,
                                                  const ProgressFn& progress) {
  changelog::Replay tail;
  changelog::LastRecord last_read;  // after the hint's
  bool first = true;
  bool matched = false;
  bool mismatched = false;
  Status read = Read(
      partition, hint.last_offset(), end, timeout_ms,
      [&](const changelog::Record& r) {
        if (std::exchange(first, false)) {
          matched = changelog::IsLastRecord(hint, r);
          mismatched = !matched;
          // Another log, or that record compacted away: stop, read the whole log.
          return matched ? Status::Ok() : Status::NotFound("not the hint's record");
        }
        last_read.Note(r);
        return tail.Scan(r);
      },
      result.records, progress);
  if (mismatched) return false;
  if (!read.ok()) return read;
  if (!matched) return false;  // nothing delivered from the hint's offset on
  const std::optional<v1::state::ChangelogSummary> whole =
      changelog::ProveCurrent(hint.summary(), tail, local);
  if (!whole) return false;
  v1::state::RestoreHint next_hint = hint;
  last_read.WriteTo(next_hint);  // nothing after the hint's record: it stays the last
  *next_hint.mutable_summary() = *whole;
  CommitBatch batch(db);
  batch.PutRestoreHint(changelog_topic_, partition, next_hint);
  if (Status s = batch.Commit(); !s.ok()) return s;
  result.fence_epoch = whole->max_epoch() + 1;
  result.tail_only = true;
  result.tail_start = {end, *whole};
  return true;
}

}  // namespace touchstream
