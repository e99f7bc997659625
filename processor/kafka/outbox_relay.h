// The outbox relay: produces committed outbox records (triggers, dead letters) and deletes a
// record from the outbox only once Kafka acknowledged it (or it was given up, below) and every
// record before it left too: each poll deletes everything below the oldest record still
// unacknowledged with one range deletion (a commit's records are acknowledged by output
// partition, interleaved in sequence order, and a point deletion each cost a memtable insert per
// trigger). A restart re-sends what the outbox
// holds: the unacknowledged records and those acknowledged after the oldest of them. Failed
// deliveries are re-sent with the same bytes, so a trigger is at-least-once and every copy has
// the same trigger_id.
// Records are produced in sequence order. A barrier record (a changelog marker) is produced
// only once every earlier record but the barriers just before it is acknowledged, and nothing
// but a barrier is produced while one is unacknowledged: a marker in the changelog means its
// commit's triggers and states all arrived, and nothing of a later commit precedes it in its
// partition even if it is retried.
// A fatal producer error (e.g. the idempotent producer cannot keep its guarantees) destroys
// the producer, creates a new one and re-sends every unacknowledged record in sequence order:
// nothing is dropped, and a record that did arrive before the error arrives again with the
// same bytes (trigger ids make that a harmless duplicate). Abandon and Recall are the only ways a
// committed record leaves the outbox unsent: the changelog records of a partition this instance
// lost, and the triggers and audit records of an erased customer (Recall also deletes those
// acknowledged but still stored, which a restart would otherwise send again).
// librdkafka reads each produced value where records_ holds it (no copy), so a record stays
// there, unchanged, until its delivery report or until the producer is destroyed.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "processor/kafka/in_flight_records.h"
#include "processor/kafka/kafka_conf.h"
#include "processor/kafka/known_topics.h"
#include "processor/kafka/relay.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by the consume thread: Send, Poll and Flush must be called from one thread (delivery
// reports are served inside Poll/Flush on that thread).
class OutboxRelay : public Relay, public RdKafka::DeliveryReportCb {
 public:
  // Called after a fatal producer error, once the replacement producer exists.
  using RecreatedFn = std::function<void(const std::string& reason)>;

  // `db` must outlive the relay. `policy` says where undeliverable records go. `output_topics`:
  // the topics records go to, learnt when the producer is created (known_topics.h).
  static StatusOr<std::unique_ptr<OutboxRelay>> Create(const KafkaProperties& props, StateDb& db,
                                                       UndeliverablePolicy policy = {},
                                                       std::vector<std::string> output_topics = {});
  ~OutboxRelay() override;

  void set_on_recreated(RecreatedFn fn) { on_recreated_ = std::move(fn); }

  // Relay: Recover re-sends what is left in the outbox; Publish sends each entry.
  Status Recover() override { return ResendPending(); }
  Status Publish(std::vector<OutboxEntry> entries,
                 const std::vector<SourceOffset>& offsets) override;
  bool commits_offsets() const override { return false; }
  bool resends_stored_outbox() const override { return true; }

  // Produces a record that is already committed to the outbox under `seq`. Records are handed
  // over (Send, Publish, ResendPending) in ascending seq, every stored one: a poll deletes the
  // outbox below the oldest record held, so a stored record not yet handed over below a
  // record acknowledged would be deleted unsent.
  void Send(uint64_t seq, v1::state::OutboxRecord&& record);
  // Re-sends every record left in the outbox (start-up after a stop or crash).
  Status ResendPending();
  // Serves delivery reports for up to `timeout_ms`, deletes the acknowledged records below the
  // oldest unacknowledged one from the outbox and re-sends failed ones; after a fatal producer
  // error, replaces the producer first. Errors: the outbox delete failed, a replacement producer
  // cannot be created, or a changelog record was refused for good (processing must stop rather than
  // lose state).
  Status Poll(int timeout_ms) override;
  // Waits up to `timeout_ms` for everything in flight. Errors if records are still pending.
  Status Flush(int timeout_ms) override;

  Status Abandon(const std::string& topic, const std::vector<int32_t>& partitions) override;
  Status Recall(const std::vector<std::string>& topics, const std::string& key) override;

  // Records not yet acknowledged (queued or produced).
  size_t in_flight() const override { return records_.size(); }
  uint64_t in_flight_bytes() const override { return bytes_; }
  // How many of the output topics the current producer learnt (known_topics.h).
  size_t known_output_topics() const { return known_topics_.size(); }

  void dr_cb(RdKafka::Message& message) override;

 private:
  // An unacknowledged record, and whether it was produced (and awaits a report, or a retry).
  struct InFlight {
    v1::state::OutboxRecord record;
    bool produced = false;
  };

  OutboxRelay(StateDb& db, KafkaProperties props, UndeliverablePolicy policy,
              std::vector<std::string> output_topics)
      : db_(db),
        props_(std::move(props)),
        policy_(std::move(policy)),
        output_topics_(std::move(output_topics)) {}
  // Kafka refused record `seq` for good: reroute, drop or stop (undeliverable.h).
  void OnPermanentError(uint64_t seq, const std::string& error);
  Status CreateProducer();
  // After a fatal error: a new producer, and every unacknowledged record queued again.
  Status RecreateProducer();
  // Produces the record held under `seq` (librdkafka reads its value there until the report).
  void Produce(uint64_t seq);
  // Drops record `seq` from memory (records_, bytes_ and the produced count).
  void Forget(uint64_t seq);
  // `held` awaits no report any more: if produced, it is no longer counted as such.
  void Unproduce(InFlight& held);
  // Forgets the delivered records (the outbox keeps them until DeleteAcknowledged).
  void ForgetDelivered();
  // Deletes the outbox below the oldest record held (all of it if none), if that moved.
  Status DeleteAcknowledged();
  // Gives up on the unacknowledged records `matches` selects (Abandon, Recall): those not yet
  // produced leave the outbox unsent; a produced one is not produced again if it fails.
  Status GiveUp(const std::function<bool(const v1::state::OutboxRecord&)>& matches);
  // Produces queued records up to the next barrier that must wait.
  void Pump();

  // Constant after construction.
  StateDb& db_;
  const KafkaProperties props_;
  const UndeliverablePolicy policy_;
  const std::vector<std::string> output_topics_;

  std::unique_ptr<RdKafka::Producer> producer_;
  KnownTopics known_topics_;  // of producer_: cleared before it is destroyed
  RecreatedFn on_recreated_;
  Status stopped_;      // a changelog record was refused for good, or no producer could replace
                        // a failed one (producer_ null)
  bool fatal_ = false;  // the producer raised a fatal error; replaced on the next Poll

  InFlightRecords<InFlight> records_;  // every unacknowledged record
  uint64_t bytes_ = 0;                 // their keys and values
  std::deque<uint64_t> queue_;         // not yet produced, in order
  size_t produced_ = 0;                // how many records_ are produced (a flag each, no set)
  std::set<uint64_t> open_barriers_;   // produced barriers awaiting a report
  // Filled by dr_cb, drained by Poll: seq, and the offset Kafka gave the record (-1: dropped).
  std::vector<std::pair<uint64_t, int64_t>> delivered_;
  std::set<uint64_t> dropped_;         // in delivered_, but refused for good and not rerouted
  std::vector<uint64_t> failed_;
  std::set<uint64_t> abandoned_;  // produced, then abandoned: deleted on failure, never retried
  uint64_t next_seq_ = 0;         // above every seq handed over
  uint64_t deleted_below_ = 0;    // the outbox holds nothing below it
  // Records acknowledged and forgotten at or above deleted_below_, so still stored: what Recall
  // must delete that records_ no longer holds. By the hash of the key, unordered.
  struct Acknowledged {
    uint64_t seq = 0;
    size_t key_hash = 0;
  };
  std::vector<Acknowledged> acknowledged_;
};

}  // namespace touchstream
