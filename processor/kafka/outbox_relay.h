// The outbox relay: produces committed outbox records (triggers, dead letters) and deletes
// each from the outbox only on a successful delivery report. Failed deliveries are re-sent
// with the same bytes, so a trigger is at-least-once and every copy has the same trigger_id.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "processor/kafka/kafka_conf.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by the consume thread: Send, Poll and Flush must be called from one thread (delivery
// reports are served inside Poll/Flush on that thread).
class OutboxRelay : public RdKafka::DeliveryReportCb {
 public:
  // Called for every delivered record, on the relay's thread.
  using DeliveredFn = std::function<void(const v1::state::OutboxRecord&)>;
  using FailedFn = std::function<void(const std::string& topic, const std::string& error)>;

  // `db` must outlive the relay.
  static StatusOr<std::unique_ptr<OutboxRelay>> Create(const KafkaProperties& props,
                                                       StateDb& db);
  ~OutboxRelay() override;

  void set_on_delivered(DeliveredFn fn) { on_delivered_ = std::move(fn); }
  void set_on_failed(FailedFn fn) { on_failed_ = std::move(fn); }

  // Produces a record that is already committed to the outbox under `seq`.
  void Send(uint64_t seq, v1::state::OutboxRecord record);
  // Re-sends every record left in the outbox (start-up after a stop or crash).
  Status ResendPending();
  // Serves delivery reports for up to `timeout_ms`, deletes delivered records from the outbox
  // and re-sends failed ones. Errors: the outbox delete failed.
  Status Poll(int timeout_ms);
  // Waits up to `timeout_ms` for everything in flight. Errors if records are still pending.
  Status Flush(int timeout_ms);

  size_t in_flight() const { return in_flight_.size(); }

  void dr_cb(RdKafka::Message& message) override;

 private:
  OutboxRelay(StateDb& db) : db_(db) {}
  void Produce(uint64_t seq, const v1::state::OutboxRecord& record);

  StateDb& db_;
  std::unique_ptr<RdKafka::Producer> producer_;
  DeliveredFn on_delivered_;
  FailedFn on_failed_;

  std::map<uint64_t, v1::state::OutboxRecord> in_flight_;
  std::vector<uint64_t> delivered_;  // filled by dr_cb, drained by Poll
  std::vector<uint64_t> failed_;
};

}  // namespace touchstream
