// Where committed outbox records go (DESIGN.md principle 5). The processor writes each commit's
// records to the outbox in the same RocksDB WriteBatch as the state (if the relay sends a stored
// outbox again after a restart: resends_stored_outbox), then hands them to a Relay. Two
// implementations:
//   OutboxRelay        at_least_once: an idempotent producer; records leave the outbox once
//                      Kafka acknowledged them and every record before them; re-sent after a
//                      crash with the same bytes.
//   TransactionalRelay exactly_once: each commit's records and input offsets in one Kafka
//                      transaction (KIP-447); read_committed consumers see a commit whole or
//                      not at all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "processor/core/status.h"
#include "processor/kafka/undeliverable.h"
#include "state.pb.h"

namespace RdKafka {
class KafkaConsumer;
}  // namespace RdKafka

namespace touchstream {

// A committed record and its place in the outbox's order, `seq` (stored in the outbox under it
// only if the relay resends_stored_outbox and the record is not a changelog record).
struct OutboxEntry {
  uint64_t seq = 0;
  v1::state::OutboxRecord record;
};

// The next input offset of one source partition, as a commit advanced it.
struct SourceOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// Owned by the consume thread: every call, and every callback, happens on it.
class Relay {
 public:
  // Called for every record Kafka has (for exactly_once: whose transaction committed).
  using DeliveredFn = std::function<void(const v1::state::OutboxRecord&)>;
  // at_least_once only: every record Kafka acknowledged, with the offset librdkafka reports for
  // it, in the order of the acknowledgements (a partition's in offset order; a batch the broker
  // took for a duplicate is reported with offsets -1, 0, 1, ...: not its own). exactly_once
  // never calls it.
  using AcknowledgedFn = std::function<void(const v1::state::OutboxRecord&, int64_t offset)>;
  // A delivery or transaction attempt failed and is retried; `topic` may be empty.
  using FailedFn = std::function<void(const std::string& topic, const std::string& error)>;

  virtual ~Relay() = default;

  // Kafka refused a record for good (undeliverable.h): `topic` is where it was going,
  // `action` what became of it.
  using UndeliverableFn = std::function<void(const std::string& topic, UndeliverableAction action,
                                             const std::string& error)>;

  void set_on_delivered(DeliveredFn fn) { on_delivered_ = std::move(fn); }
  void set_on_acknowledged(AcknowledgedFn fn) { on_acknowledged_ = std::move(fn); }
  void set_on_failed(FailedFn fn) { on_failed_ = std::move(fn); }
  void set_on_undeliverable(UndeliverableFn fn) { on_undeliverable_ = std::move(fn); }

  // The consumer whose group exactly_once commits the input offsets for (KIP-447); null
  // detaches it. It must stay open while attached. at_least_once ignores it.
  virtual void set_consumer(RdKafka::KafkaConsumer* consumer) {}
  // Once, before the first Publish: deals with what an earlier run left in the outbox.
  virtual Status Recover() = 0;
  // Hands over one commit's records in sequence order. `offsets` (next offset per input
  // partition) are what the commit advanced; exactly_once commits them in the transaction
  // (for the consumer group it was given), at_least_once ignores them. Errors: processing
  // must stop (e.g. this instance was fenced); kDeadlineExceeded: the commit is left undecided
  // (a stop's deadline passed, see StopBy, or exactly_once's commit call never completed), so
  // the instance must not leave its group: the partitions move as after a crash.
  virtual Status Publish(std::vector<OutboxEntry> entries,
                         const std::vector<SourceOffset>& offsets) = 0;
  // Serves delivery reports for up to `timeout_ms`. Errors: the outbox delete failed.
  virtual Status Poll(int timeout_ms) = 0;
  // Waits up to `timeout_ms` for everything handed over. Errors if records are still pending.
  virtual Status Flush(int timeout_ms) = 0;
  // Gives up on the records of `topic`'s `partitions` not yet acknowledged: those not yet
  // produced leave the outbox unsent, and one already produced is not produced again if its
  // delivery fails. For the changelog of partitions this instance no longer owns: their records
  // belong to commits the next owner ignores (state/changelog.h), and sending them late would
  // only leave late writes for the log cleaner. Errors: the outbox delete failed. A relay with
  // nothing in flight between calls has nothing to give up.
  virtual Status Abandon(const std::string& topic, const std::vector<int32_t>& partitions) {
    return Status::Ok();
  }
  // An erasure: gives up on the records of `topics` keyed `key` not yet acknowledged, as Abandon
  // does (those not yet produced are never sent; what the producer already holds cannot be
  // recalled, only not retried). A relay that hands every record over at once (exactly_once:
  // each commit's records go in its transaction) has nothing to recall.
  virtual Status Recall(const std::vector<std::string>& topics, const std::string& key) {
    return Status::Ok();
  }
  // A stop's budget (processing.stop_timeout): from now on no call waits past `deadline` (or an
  // earlier deadline already given). What a call has not finished by then is left as a crash
  // would leave it, for the next start to recover (Recover, and the restore on assignment), and
  // the call returns kDeadlineExceeded. A relay whose every wait is bounded by its caller
  // (at_least_once: Flush's timeout) has nothing to bound.
  virtual void StopBy(std::chrono::steady_clock::time_point deadline) {}
  // A stop requested while a call waits: once `stop` is set, calls end by StopBy(then +
  // `timeout`), so that a stop does not wait out a call begun before it. How soon a waiting call
  // sees `stop` is the relay's (transactional_relay.h: half a second, or up to a whole call's
  // timeout for a call librdkafka cannot resume). Null detaches; `stop` must outlive the relay
  // or be detached.
  virtual void WatchStop(const std::atomic<bool>* stop, std::chrono::milliseconds timeout) {}
  // Called on the committing thread while a commit waits for Kafka within its bounded retries
  // (exactly_once: after each slice of a transactional call under WatchStop, and each call), so
  // that liveness tells such a wait from a stuck loop. Null: none. A relay whose waits are
  // bounded by its caller's timeouts (at_least_once) never calls it.
  virtual void set_on_waiting(std::function<void()> fn) {}
  // Records handed over and not yet acknowledged, and their key and value bytes.
  virtual size_t in_flight() const = 0;
  virtual uint64_t in_flight_bytes() const { return 0; }
  // True if Publish commits the input offsets itself (the consumer must not).
  virtual bool commits_offsets() const = 0;
  // True if Recover sends again what an earlier run left in the outbox (at_least_once): each
  // commit must then store its records (triggers, audit records, dead letters, forwarded
  // events) with the state. False (exactly_once): Recover drops the outbox, and a commit whose
  // transaction did not reach Kafka is redone from the changelog's last commit, so a commit
  // stores none of its records and hands them over from memory only.
  virtual bool resends_stored_outbox() const = 0;

 protected:
  DeliveredFn on_delivered_;
  AcknowledgedFn on_acknowledged_;
  FailedFn on_failed_;
  UndeliverableFn on_undeliverable_;
};

}  // namespace touchstream
