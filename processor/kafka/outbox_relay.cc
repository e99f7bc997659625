#include "processor/kafka/outbox_relay.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "processor/core/forwarded_record.h"
#include "processor/core/partition_name.h"
#include "processor/diagnostics/fault_points.h"
#include "processor/kafka/record_producer.h"

namespace touchstream {

StatusOr<std::unique_ptr<OutboxRelay>> OutboxRelay::Create(const KafkaProperties& props,
                                                           StateDb& db, UndeliverablePolicy policy,
                                                           std::vector<std::string> output_topics) {
  std::unique_ptr<OutboxRelay> relay(
      new OutboxRelay(db, props, std::move(policy), std::move(output_topics)));
  if (Status s = relay->CreateProducer(); !s.ok()) return s;
  return relay;
}

Status OutboxRelay::CreateProducer() {
  auto conf = MakeKafkaConf(props_, {{"enable.idempotence", "true"}, {"acks", "all"}});
  if (!conf.ok()) return conf.status();
  std::string errstr;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), errstr) !=
      RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("dr_cb: " + errstr);
  }
  producer_.reset(RdKafka::Producer::create(conf->get(), errstr));
  if (!producer_) return Status::KafkaError("cannot create producer: " + errstr);
  known_topics_.Learn(*producer_, output_topics_, kLearnTopicsTimeoutMs);
  return Status::Ok();
}

Status OutboxRelay::RecreateProducer() {
  std::string reason;
  const RdKafka::ErrorCode code = producer_->fatal_error(reason);
  reason = RdKafka::err2str(code) + ": " + reason;
  // Serve the reports of what the old producer still holds (each lands in delivered_ or
  // failed_), then drop it: destroying it ends every use of the values it read in place
  // (records_ keeps them until then).
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT |
                   RdKafka::Producer::PURGE_NON_BLOCKING);
  producer_->poll(0);
  known_topics_.Clear();
  producer_.reset();
  fatal_ = false;
  ForgetDelivered();  // what the old producer's last reports confirmed
  if (Status s = CreateProducer(); !s.ok()) {
    // No producer now: the relay stops, and every later Poll and Flush says why (the outbox
    // keeps what is unacknowledged for the next start).
    if (stopped_.ok()) {  // else a refused changelog record stopped it first: that reason stays
      stopped_ = Status::KafkaError("cannot replace the producer after a fatal error (" + reason +
                                    "): " + s.message());
    }
    return stopped_;
  }
  // Everything unacknowledged goes out again, in sequence order, but what was abandoned.
  if (!abandoned_.empty()) {
    const std::vector<uint64_t> given_up(abandoned_.begin(), abandoned_.end());
    if (Status s = db_.DeleteOutbox(given_up); !s.ok()) return s;
    for (uint64_t seq : given_up) Forget(seq);
    abandoned_.clear();
  }
  failed_.clear();
  produced_ = 0;
  queue_.clear();
  open_barriers_.clear();
  records_.ForEach([&](uint64_t seq, InFlight& held) {
    held.produced = false;
    queue_.push_back(seq);
  });
  if (on_recreated_) on_recreated_(reason);
  return Status::Ok();
}

OutboxRelay::~OutboxRelay() {
  // First: the producer's queued messages read their values in records_ (Produce).
  known_topics_.Clear();
  producer_.reset();
}

Status OutboxRelay::Publish(std::vector<OutboxEntry> entries,
                            const std::vector<SourceOffset>& offsets) {
  for (OutboxEntry& entry : entries) Send(entry.seq, std::move(entry.record));
  return Status::Ok();
}

void OutboxRelay::Send(uint64_t seq, v1::state::OutboxRecord&& record) {
  if (!records_.Insert(seq, InFlight{std::move(record)})) return;  // already in flight
  next_seq_ = std::max(next_seq_, seq + 1);
  const v1::state::OutboxRecord& held = records_.At(seq).record;
  bytes_ += held.key().size() + held.value().size();
  queue_.push_back(seq);
  Pump();
}

void OutboxRelay::Pump() {
  if (producer_ == nullptr) return;  // RecreateProducer failed: stopped_
  while (!queue_.empty()) {
    const uint64_t seq = queue_.front();
    InFlight& held = records_.At(seq);
    const v1::state::OutboxRecord& record = held.record;
    if (record.barrier()) {
      // Waits for everything before it, but goes out with the barriers just before it (one
      // commit's markers, each to its own changelog partition): one round trip per commit.
      if (produced_ != open_barriers_.size()) return;
      // Two barriers of one partition never fly together: a retried one could land second.
      for (uint64_t open : open_barriers_) {
        const v1::state::OutboxRecord& other = records_.At(open).record;
        if (other.topic() == record.topic() && other.partition() == record.partition()) return;
      }
    } else if (!open_barriers_.empty()) {
      return;  // nothing passes an unacknowledged barrier
    }
    queue_.pop_front();
    held.produced = true;
    ++produced_;
    if (record.barrier()) open_barriers_.insert(seq);
    Produce(seq);
  }
}

void OutboxRelay::Produce(uint64_t seq) {
  const v1::state::OutboxRecord& record = records_.At(seq).record;
  // Not copied: records_ holds the record, unchanged, until its report is served (a reroute
  // replaces it only after a report or a refused produce) or the producer is destroyed.
  const RdKafka::ErrorCode err =
      ProduceRecord(*producer_, record, reinterpret_cast<void*>(static_cast<uintptr_t>(seq)),
                    Payload::kKeptUntilReport);
  if (err == RdKafka::ERR_NO_ERROR) {
    CrashPoint("produce_queued");
    return;
  }
  if (err == RdKafka::ERR__FATAL) fatal_ = true;
  if (IsPermanentProduceError(err)) {
    OnPermanentError(seq, RdKafka::err2str(err));
    return;
  }
  // Not retriable right now (e.g. unknown topic): keep it in flight and retry on Poll.
  if (on_failed_) on_failed_(record.topic(), RdKafka::err2str(err));
  failed_.push_back(seq);
}

void OutboxRelay::OnPermanentError(uint64_t seq, const std::string& error) {
  v1::state::OutboxRecord& record = records_.At(seq).record;
  const UndeliverableAction action = Decide(policy_, record);
  if (on_undeliverable_) on_undeliverable_(record.topic(), action, error);
  switch (action) {
    case UndeliverableAction::kReroute:
      // Same place in the sequence (barriers wait for it as before), other bytes; the outbox
      // keeps the original, so a restart reroutes it again.
      bytes_ -= record.key().size() + record.value().size();
      record = Reroute(policy_, record, error);
      bytes_ += record.key().size() + record.value().size();
      failed_.push_back(seq);
      break;
    case UndeliverableAction::kDrop:
      dropped_.insert(seq);
      delivered_.emplace_back(seq, -1);
      break;
    case UndeliverableAction::kStop:
      stopped_ = Status::KafkaError(
          "a changelog record of " + PartitionName(record.topic(), record.partition()) +
          " cannot be produced (" + error +
          "); stopping rather than losing that partition's state: raise the topic's "
          "max.message.bytes and the producer's message.max.bytes, or lower the state limits");
      failed_.push_back(seq);  // kept: it is retried if the processor is restarted
      break;
  }
}

void OutboxRelay::dr_cb(RdKafka::Message& message) {
  const uint64_t seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()));
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    CrashPoint("delivery_report");
    delivered_.emplace_back(seq, message.offset());
  } else {
    if (message.err() == RdKafka::ERR__FATAL) fatal_ = true;
    if (IsPermanentProduceError(message.err()) && records_.Find(seq) != nullptr) {
      OnPermanentError(seq, message.errstr());
      return;
    }
    if (on_failed_) on_failed_(message.topic_name(), message.errstr());
    failed_.push_back(seq);
  }
}

Status OutboxRelay::ResendPending() {
  std::vector<std::pair<uint64_t, v1::state::OutboxRecord>> pending;
  Status s = db_.ForEachOutbox([&](uint64_t seq, v1::state::OutboxRecord record) {
    MoveCreateTimeToHeader(record);  // a forwarded record an earlier version stored
    pending.emplace_back(seq, std::move(record));
  });
  if (!s.ok()) return s;
  for (auto& [seq, record] : pending) Send(seq, std::move(record));
  return Status::Ok();
}

void OutboxRelay::ForgetDelivered() {
  for (const auto& [seq, offset] : delivered_) {
    open_barriers_.erase(seq);
    abandoned_.erase(seq);
    const InFlight* held = records_.Find(seq);
    if (held == nullptr) continue;
    const bool dropped = dropped_.erase(seq) > 0;
    if (on_delivered_ && !dropped) on_delivered_(held->record);
    if (on_acknowledged_ && !dropped) on_acknowledged_(held->record, offset);
    acknowledged_.push_back({seq, std::hash<std::string>{}(held->record.key())});
    Forget(seq);
  }
  delivered_.clear();
}

Status OutboxRelay::DeleteAcknowledged() {
  const uint64_t floor = records_.empty() ? next_seq_ : records_.first();
  if (floor <= deleted_below_) return Status::Ok();
  if (Status s = db_.DeleteOutboxRange(deleted_below_, floor); !s.ok()) return s;
  CrashPoint("outbox_delete");
  deleted_below_ = floor;
  std::erase_if(acknowledged_, [&](const Acknowledged& a) { return a.seq < floor; });
  return Status::Ok();
}

void OutboxRelay::Unproduce(InFlight& held) {
  if (!held.produced) return;
  held.produced = false;
  --produced_;
}

void OutboxRelay::Forget(uint64_t seq) {
  InFlight* held = records_.Find(seq);
  if (held == nullptr) return;
  Unproduce(*held);
  bytes_ -= held->record.key().size() + held->record.value().size();
  records_.Erase(seq);
}

Status OutboxRelay::Abandon(const std::string& topic, const std::vector<int32_t>& partitions) {
  const std::set<int32_t> lost(partitions.begin(), partitions.end());
  return GiveUp([&](const v1::state::OutboxRecord& r) {
    return r.topic() == topic && r.has_partition() && lost.count(r.partition()) > 0;
  });
}

Status OutboxRelay::Recall(const std::vector<std::string>& topics, const std::string& key) {
  const auto matches = [&](const v1::state::OutboxRecord& r) {
    return r.key() == key && std::find(topics.begin(), topics.end(), r.topic()) != topics.end();
  };
  // Acknowledged, forgotten, but still stored above the oldest record unacknowledged
  // (DeleteAcknowledged): a restart would send them again after the erasure. Only those with
  // the key's hash are read back (a changelog record, never stored, is not found).
  const size_t key_hash = std::hash<std::string>{}(key);
  std::vector<uint64_t> acknowledged;
  for (const Acknowledged& a : acknowledged_) {
    if (a.key_hash != key_hash) continue;
    if (Status s = db_.ForEachOutboxIn(a.seq, a.seq + 1,
                                       [&](uint64_t seq, const v1::state::OutboxRecord& r) {
                                         if (matches(r)) acknowledged.push_back(seq);
                                       });
        !s.ok()) {
      return s;
    }
  }
  if (Status s = db_.DeleteOutbox(acknowledged); !s.ok()) return s;
  return GiveUp(matches);
}

Status OutboxRelay::GiveUp(
    const std::function<bool(const v1::state::OutboxRecord&)>& matches_record) {
  auto matches = [&](uint64_t seq) { return matches_record(records_.At(seq).record); };
  std::vector<uint64_t> unsent;
  std::erase_if(queue_, [&](uint64_t seq) {
    if (!matches(seq)) return false;
    unsent.push_back(seq);
    return true;
  });
  std::erase_if(failed_, [&](uint64_t seq) {
    if (records_.Find(seq) == nullptr || !matches(seq)) return false;
    Unproduce(records_.At(seq));
    open_barriers_.erase(seq);
    unsent.push_back(seq);
    return true;
  });
  records_.ForEach([&](uint64_t seq, const InFlight& held) {
    if (held.produced && matches_record(held.record)) abandoned_.insert(seq);
  });
  if (unsent.empty()) return Status::Ok();
  if (Status s = db_.DeleteOutbox(unsent); !s.ok()) return s;
  for (uint64_t seq : unsent) Forget(seq);
  Pump();  // a barrier given up may have held others back
  return Status::Ok();
}

Status OutboxRelay::Poll(int timeout_ms) {
  if (!stopped_.ok()) return stopped_;
  producer_->poll(timeout_ms);
  if (!fatal_) {
    std::string ignored;
    fatal_ = producer_->fatal_error(ignored) != RdKafka::ERR_NO_ERROR;
  }
  if (fatal_) {
    if (Status s = RecreateProducer(); !s.ok()) return s;
    Pump();
    return DeleteAcknowledged();
  }
  ForgetDelivered();
  if (!stopped_.ok()) {
    if (Status s = DeleteAcknowledged(); !s.ok()) return s;
    return stopped_;
  }
  if (!failed_.empty()) {
    std::vector<uint64_t> retry;
    retry.swap(failed_);
    std::vector<uint64_t> given_up;
    for (uint64_t seq : retry) {
      const InFlight* held = records_.Find(seq);
      if (held == nullptr) continue;
      if (abandoned_.erase(seq) > 0) {
        given_up.push_back(seq);
      } else {
        Produce(seq);
      }
    }
    if (!given_up.empty()) {
      if (Status s = db_.DeleteOutbox(given_up); !s.ok()) return s;
      for (uint64_t seq : given_up) {
        open_barriers_.erase(seq);
        Forget(seq);  // no longer counted as produced
      }
    }
  }
  Pump();
  return DeleteAcknowledged();
}

Status OutboxRelay::Flush(int timeout_ms) {
  if (!stopped_.ok()) return stopped_;  // also when nothing is left to deliver
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!records_.empty() && std::chrono::steady_clock::now() < deadline) {
    if (Status s = Poll(50); !s.ok()) return s;
  }
  if (!records_.empty()) {
    return Status::KafkaError(std::to_string(records_.size()) +
                              " records not yet delivered; they stay in the outbox");
  }
  return Status::Ok();
}

}  // namespace touchstream
