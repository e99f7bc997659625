#include "processor/kafka/transactional_relay.h"

#include <algorithm>

#include "processor/core/partition_name.h"
#include "processor/diagnostics/fault_points.h"
#include "processor/kafka/record_producer.h"

namespace touchstream {

namespace {

Status FromError(const std::string& what, const RdKafka::Error& error) {
  return Status::KafkaError(what + ": " + error.name() + ": " + error.str() +
                            (error.is_fatal() ? " (fatal)" : ""));
}

TransactionalRelay::AttemptError Describe(const RdKafka::Error& error) {
  return {error.name() + ": " + error.str(), error.is_fatal()};
}

Status LeftOpen(const std::string& reason) {
  return Status::DeadlineExceeded(
      "the stop's deadline passed before the transaction committed (" + reason +
      "): left undecided; it commits if its EndTxn reached the coordinator, else the next "
      "start's init_transactions (or the broker, after transaction.timeout.ms) aborts it");
}

}  // namespace

StatusOr<std::unique_ptr<TransactionalRelay>> TransactionalRelay::Create(
    const KafkaProperties& props, const std::string& transactional_id, StateDb& db, int timeout_ms,
    UndeliverablePolicy policy, const std::vector<std::string>& output_topics) {
  std::unique_ptr<TransactionalRelay> relay(
      new TransactionalRelay(db, timeout_ms, std::move(policy)));
  auto conf = MakeKafkaConf(
      props,
      {{"transactional.id", transactional_id}, {"enable.idempotence", "true"}, {"acks", "all"}});
  if (!conf.ok()) return conf.status();
  std::string errstr;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(relay.get()), errstr) !=
      RdKafka::Conf::CONF_OK) {
    return Status::InvalidArgument("dr_cb: " + errstr);
  }
  relay->producer_.reset(RdKafka::Producer::create(conf->get(), errstr));
  if (!relay->producer_) return Status::KafkaError("cannot create producer: " + errstr);
  relay->known_topics_.Learn(*relay->producer_, output_topics, kLearnTopicsTimeoutMs);
  return relay;
}

TransactionalRelay::~TransactionalRelay() {
  // An open transaction is aborted by the broker after transaction.timeout.ms,
  // or at once by the next incarnation's init_transactions.
  known_topics_.Clear();
  producer_.reset();
}

void TransactionalRelay::StopBy(std::chrono::steady_clock::time_point deadline) {
  if (!stop_by_ || deadline < *stop_by_) stop_by_ = deadline;
}

void TransactionalRelay::NoticeStop() {
  if (stop_ != nullptr && !stop_by_ && stop_->load()) {
    StopBy(std::chrono::steady_clock::now() + stop_timeout_);
  }
}

Status TransactionalRelay::LeaveUndecided(Status status) {
  left_undecided_ = status.message();
  return status;
}

bool TransactionalRelay::PastStopBy() const {
  return stop_by_ && std::chrono::steady_clock::now() >= *stop_by_;
}

std::unique_ptr<RdKafka::Error> TransactionalRelay::Waiting(const Call& call, Resume resume) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point attempt_end = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::unique_ptr<RdKafka::Error> error;
  for (bool resuming = false;; resuming = true) {
    NoticeStop();
    Clock::time_point until = attempt_end;
    if (stop_by_) until = std::min(until, *stop_by_);
    if (resume == Resume::kYes && stop_ != nullptr) {
      until = std::min(until, Clock::now() + std::chrono::milliseconds(kStopCheckMs));
    }
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    // librdkafka's own deadline is whole milliseconds, so a call that used its time returns a
    // moment before `until`. When that is the attempt's end, what is left is no time to resume in
    // (kMinResumeMs): the attempt ends, and Retrying's next one has its whole timeout. When it is
    // the stop deadline, the rest is called as before: no attempt follows it.
    const bool attempt_end_binds = until == attempt_end && (!stop_by_ || *stop_by_ > attempt_end);
    if (resuming && attempt_end_binds && wait < kMinResumeMs) return error;
    // At least 1 ms: librdkafka reads 0 as "do not wait" for some calls, -1 as "forever".
    error.reset(call(static_cast<int>(std::max<int64_t>(wait, 1))));
    if (on_waiting_) on_waiting_();
    // A resumable call that waited its whole slice timed out, whatever error it reports: on a
    // timeout librdkafka returns the last error of the work it retries inside the call (e.g.
    // init_transactions: CONCURRENT_TRANSACTIONS while the coordinator still aborts an earlier
    // transaction), not __TIMED_OUT. An error before the slice's end is the call's answer.
    // (librdkafka's deadline is whole milliseconds from its own clock: a little slack.)
    const bool slice_used = Clock::now() + std::chrono::milliseconds(5) >= until;
    const bool timed_out =
        error && error->is_retriable() &&
        (error->code() == RdKafka::ERR__TIMED_OUT || slice_used);
    if (!timed_out || resume == Resume::kNo || Clock::now() >= attempt_end) return error;
    NoticeStop();
    if (PastStopBy()) return error;
  }
}

std::unique_ptr<RdKafka::Error> TransactionalRelay::Retrying(const Call& call, Resume resume) {
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<RdKafka::Error> error = Waiting(call, resume);
    NoticeStop();  // a stop requested during a call that cannot be resumed
    if (!error || !error->is_retriable() || attempt >= kMaxAttempts || PastStopBy()) {
      return error;
    }
    if (on_failed_) on_failed_("", error->str() + " (retrying)");
  }
}

Status TransactionalRelay::Recover() {
  if (auto error = Retrying([&](int timeout_ms) { return producer_->init_transactions(timeout_ms); },
                            Resume::kYes)) {
    if (PastStopBy() && !error->is_fatal()) {
      return Status::DeadlineExceeded("a stop came before init_transactions completed (" +
                                      error->str() + ")");
    }
    return FromError("init_transactions", *error);
  }
  std::vector<uint64_t> seqs;
  if (Status s = db_.ForEachOutbox(
          [&](uint64_t seq, const v1::state::OutboxRecord&) { seqs.push_back(seq); });
      !s.ok()) {
    return s;
  }
  if (seqs.empty()) return Status::Ok();
  return db_.DeleteOutbox(seqs);
}

void TransactionalRelay::dr_cb(RdKafka::Message& message) {
  if (message.err() == RdKafka::ERR_NO_ERROR || !IsPermanentProduceError(message.err())) return;
  refused_[static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()))] =
      message.errstr();
}

Status TransactionalRelay::ReplaceRefused(std::vector<OutboxEntry>& entries,
                                          std::set<uint64_t>& dropped) {
  const std::map<uint64_t, std::string> refused = std::exchange(refused_, {});
  for (OutboxEntry& entry : entries) {
    auto it = refused.find(entry.seq);
    if (it == refused.end() || dropped.count(entry.seq) != 0) continue;
    const UndeliverableAction action = Decide(policy_, entry.record);
    if (on_undeliverable_) on_undeliverable_(entry.record.topic(), action, it->second);
    switch (action) {
      case UndeliverableAction::kStop:
        return Status::KafkaError("a changelog record of " +
                                  PartitionName(entry.record.topic(), entry.record.partition()) +
                                  " was refused by Kafka (" + it->second +
                                  "); stopping rather than losing that partition's state");
      case UndeliverableAction::kReroute:
        entry.record = Reroute(policy_, entry.record, it->second);
        break;
      case UndeliverableAction::kDrop:
        dropped.insert(entry.seq);
        break;
    }
  }
  return Status::Ok();
}

std::optional<TransactionalRelay::AttemptError> TransactionalRelay::Attempt(
    std::vector<OutboxEntry>& entries, std::set<uint64_t>& dropped,
    const std::vector<RdKafka::TopicPartition*>& offsets) {
  if (std::unique_ptr<RdKafka::Error> error(producer_->begin_transaction()); error) {
    return Describe(*error);
  }
  for (OutboxEntry& entry : entries) {
    if (dropped.count(entry.seq) != 0) continue;
    const RdKafka::ErrorCode err = ProduceRecord(
        *producer_, entry.record, reinterpret_cast<void*>(static_cast<uintptr_t>(entry.seq)));
    if (IsPermanentProduceError(err)) {
      const std::string error = RdKafka::err2str(err);
      const UndeliverableAction action = Decide(policy_, entry.record);
      if (on_undeliverable_) on_undeliverable_(entry.record.topic(), action, error);
      if (action == UndeliverableAction::kStop) {
        return AttemptError{"a changelog record of " +
                                PartitionName(entry.record.topic(), entry.record.partition()) +
                                " cannot be produced (" + error +
                                "); stopping rather than losing that partition's state",
                            true};
      }
      if (action == UndeliverableAction::kReroute) {
        entry.record = Reroute(policy_, entry.record, error);
      } else {
        dropped.insert(entry.seq);
      }
      return AttemptError{"rerouted an undeliverable record to " + policy_.dead_letter_topic, false,
                          true};
    }
    if (err != RdKafka::ERR_NO_ERROR) {
      // The transaction cannot hold this record: abort it (commit would fail
      // anyway).
      if (on_failed_) on_failed_(entry.record.topic(), RdKafka::err2str(err));
      return AttemptError{
          "cannot produce to " + entry.record.topic() + ": " + RdKafka::err2str(err),
          err == RdKafka::ERR__FATAL};
    }
  }
  CrashPoint("produce_queued");
  if (!offsets.empty() && consumer_ != nullptr) {
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> group(consumer_->groupMetadata());
    if (auto error = Retrying(
            [&](int timeout_ms) {
              return producer_->send_offsets_to_transaction(offsets, group.get(), timeout_ms);
            },
            Resume::kNo)) {
      AttemptError failed = Describe(*error);
      const RdKafka::ErrorCode code = error->code();
      // Not FENCED_INSTANCE_ID: another live consumer holds this member's group.instance.id,
      // and a rejoin under it would fence that one (fatal, as in Kafka's own clients).
      failed.membership_lost =
          code == RdKafka::ERR_ILLEGAL_GENERATION || code == RdKafka::ERR_UNKNOWN_MEMBER_ID;
      return failed;
    }
  }
  if (auto error = Retrying(
          [&](int timeout_ms) { return producer_->commit_transaction(timeout_ms); },
          Resume::kYes)) {
    AttemptError failed = Describe(*error);
    failed.undecided = error->is_retriable();
    return failed;
  }
  return std::nullopt;
}

Status TransactionalRelay::Publish(std::vector<OutboxEntry> entries,
                                   const std::vector<SourceOffset>& source_offsets) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const SourceOffset& o : source_offsets) {
    offsets.push_back(RdKafka::TopicPartition::create(o.topic, o.partition, o.next_offset));
  }
  struct Destroy {
    std::vector<RdKafka::TopicPartition*>& list;
    ~Destroy() { RdKafka::TopicPartition::destroy(list); }
  } destroy{offsets};
  if (!left_undecided_.empty()) {
    return Status::DeadlineExceeded("an earlier transaction is still undecided (" +
                                    left_undecided_ + "): this instance commits nothing more");
  }
  std::set<uint64_t> dropped;
  for (int attempt = 1;; ++attempt) {
    refused_.clear();
    const std::optional<AttemptError> error = Attempt(entries, dropped, offsets);
    if (!error) break;
    if (error->fatal) return Status::KafkaError("transaction failed: " + error->text + " (fatal)");
    const std::string& reason = error->text;
    if (PastStopBy()) return LeaveUndecided(LeftOpen(reason));
    if (error->undecided) {
      return LeaveUndecided(Status::DeadlineExceeded(
          "commit_transaction did not complete in " + std::to_string(kMaxAttempts) +
          " attempts of up to " + std::to_string(timeout_ms_) + " ms (" + reason +
          "): the transaction is left undecided (it commits if its EndTxn reached the "
          "coordinator; else the next start's init_transactions, or the broker after "
          "transaction.timeout.ms, aborts it)"));
    }
    // An error that is neither abortable nor retriable (e.g. a produce refused
    // locally) still leaves an open transaction: abort it as well.
    if (on_failed_) on_failed_("", reason);
    if (auto abort_error = Retrying(
            [&](int timeout_ms) { return producer_->abort_transaction(timeout_ms); },
            Resume::kYes)) {
      if (PastStopBy()) {
        return LeaveUndecided(LeftOpen(reason + "; abort_transaction: " + abort_error->str()));
      }
      return FromError("abort_transaction after " + reason, *abort_error);
    }
    producer_->poll(0);  // the aborted attempt's last delivery reports
    if (error->membership_lost) {
      if (on_aborted_) on_aborted_(reason);
      return Status::MembershipLost("the group coordinator refused this commit's input offsets (" +
                                    reason +
                                    "): the group moved on without this member; the "
                                    "transaction is aborted");
    }
    if (error->rerouted) {
      --attempt;  // the next attempt goes without the refused record: not a retry
      continue;
    }
    if (!refused_.empty()) {
      if (Status s = ReplaceRefused(entries, dropped); !s.ok()) return s;
      --attempt;  // likewise, for records the broker refused
      continue;
    }
    if (on_aborted_) on_aborted_(reason);
    if (attempt >= kMaxAttempts) {
      return Status::KafkaError("transaction failed " + std::to_string(attempt) +
                                " times, last: " + reason);
    }
  }
  CrashPoint("delivery_report");
  // Nothing to delete: a commit stores no record for this relay (resends_stored_outbox).
  if (on_delivered_) {
    for (const OutboxEntry& entry : entries) {
      if (dropped.count(entry.seq) == 0) on_delivered_(entry.record);
    }
  }
  return Status::Ok();
}

Status TransactionalRelay::Poll(int timeout_ms) {
  producer_->poll(timeout_ms);
  return Status::Ok();
}

}  // namespace touchstream
