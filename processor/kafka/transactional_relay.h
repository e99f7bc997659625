// The exactly_once Relay (see relay.h): one Kafka transaction per commit holding the commit's
// triggers, dead letters, changelog records and markers, and its input offsets (sent to the
// consumer group's coordinator with the group metadata, KIP-447, so a zombie of an older
// generation is fenced). One transactional producer per instance; `transactional.id` must be
// stable across restarts of that instance and unique in the cluster.
//
// Recovery: init_transactions aborts whatever transaction an earlier incarnation left open
// (one whose EndTxn reached the coordinator commits instead). A commit's records then either
// reached Kafka with it or did not (so the changelog lacks the commit, the restore on
// assignment rewinds the partition to the last commit the changelog has, and the input is
// processed again, producing the same records). Either way they must not be sent again, so
// commits do not store them in the outbox at all (resends_stored_outbox); Recover drops what an
// earlier at_least_once run (or an older version) left there.
//
// Errors of one transaction attempt, as librdkafka classifies them: retriable (e.g. a timeout)
// repeats the call; abortable (e.g. a failed produce) aborts and repeats the whole
// transaction with the same records, up to kMaxAttempts, except the records Kafka refused for
// good (IsPermanentProduceError, in their delivery reports: a broker's or topic's smaller
// message.max.bytes, an invalid record), which are replaced as a refused produce is
// (rerouted to the dead-letter topic, dropped, or for the changelog: stop) before the next
// attempt, counted as no retry; fatal (fenced by a newer instance, or
// an unrecoverable producer state) stops processing. A commit_transaction still failing retriably
// after kMaxAttempts attempts (e.g. a coordinator that does not answer EndTxn) stops processing
// too, with the transaction left undecided as below (kDeadlineExceeded, as at a stop's deadline):
// librdkafka still runs the commit, so it cannot be aborted.
// After StopBy, each call waits at most until the deadline and nothing is retried past it: a
// transaction not yet committed then is left undecided (it commits if its EndTxn reached the
// coordinator; else the next incarnation's init_transactions aborts it, or the broker after
// transaction.timeout.ms), and the next start recovers either outcome as after a crash. Under
// WatchStop the calls librdkafka can resume (init, commit and abort) wait in slices of
// kStopCheckMs, so that a stop requested meanwhile sets that deadline; send_offsets_to_transaction
// cannot be resumed and waits its whole timeout (or until a deadline already set).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "processor/kafka/kafka_conf.h"
#include "processor/kafka/known_topics.h"
#include "processor/kafka/relay.h"
#include "state/state_db.h"

namespace touchstream {

// Owned by the consume thread.
class TransactionalRelay : public Relay, private RdKafka::DeliveryReportCb {
 public:
  static constexpr int kMaxAttempts = 5;
  static constexpr int kStopCheckMs = 500;
  // A call librdkafka resumes is not resumed with less than this left of its attempt: the attempt
  // ends there, and the next one calls with its whole timeout (a stop deadline is waited for to
  // its end, as no attempt follows it). commit_transaction and
  // abort_transaction begin with a step they cannot resume: if a short call times out in it (its
  // request not yet served by librdkafka's main thread, as can happen on a busy machine), the call
  // is forgotten, the step's late answer is taken for the next call's, and the transaction fails
  // with an invalid state (librdkafka 2.0.2's rdkafka_txnmgr.c; the likely cause of one failure of
  // the retriable-error test under a loaded CI run).
  static constexpr int kMinResumeMs = 100;
  // How long each transactional call may wait by default (Create's timeout_ms;
  // processing.transaction_call_timeout).
  static constexpr int kCallTimeoutMs = 30'000;

  // Called after each aborted attempt, with librdkafka's reason.
  using AbortedFn = std::function<void(const std::string& reason)>;

  // `db` must outlive the relay. `timeout_ms` bounds each transactional call. `output_topics`:
  // the topics records go to, learnt when the producer is created (known_topics.h).
  static StatusOr<std::unique_ptr<TransactionalRelay>> Create(
      const KafkaProperties& props, const std::string& transactional_id, StateDb& db,
      int timeout_ms = kCallTimeoutMs, UndeliverablePolicy policy = {},
      const std::vector<std::string>& output_topics = {});
  ~TransactionalRelay() override;

  void set_on_aborted(AbortedFn fn) { on_aborted_ = std::move(fn); }
  void set_consumer(RdKafka::KafkaConsumer* consumer) override { consumer_ = consumer; }
  void StopBy(std::chrono::steady_clock::time_point deadline) override;
  void WatchStop(const std::atomic<bool>* stop, std::chrono::milliseconds timeout) override {
    stop_ = stop;
    stop_timeout_ = timeout;
  }
  void set_on_waiting(std::function<void()> fn) override { on_waiting_ = std::move(fn); }

  // init_transactions (fences earlier incarnations), then drops the outbox (see above). Errors:
  // kDeadlineExceeded if a stop (WatchStop) ended the wait.
  Status Recover() override;
  // One transaction: every entry (held in memory only, not in the outbox), then the offsets,
  // then commit. Errors: fatal, still failing after kMaxAttempts, or left undecided
  // (kDeadlineExceeded: not committed by the StopBy deadline, or the commit call itself still
  // failing after kMaxAttempts; from then on every Publish returns kDeadlineExceeded at once);
  // the restore on the next assignment then redoes the commit if Kafka does not have it.
  Status Publish(std::vector<OutboxEntry> entries,
                 const std::vector<SourceOffset>& offsets) override;
  // Publish is synchronous: nothing is ever in flight between calls.
  Status Poll(int timeout_ms) override;
  Status Flush(int timeout_ms) override { return Status::Ok(); }
  size_t in_flight() const override { return 0; }
  bool commits_offsets() const override { return true; }
  bool resends_stored_outbox() const override { return false; }
  // How many of the output topics the producer learnt (known_topics.h).
  size_t known_output_topics() const { return known_topics_.size(); }

 public:
  struct AttemptError {
    std::string text;  // librdkafka's name and message
    bool fatal = false;
    bool rerouted = false;  // a record was replaced: try again at once, no attempt counted
    // commit_transaction still failed retriably after its kMaxAttempts calls: librdkafka still
    // runs it, so it cannot be aborted (abort_transaction would only meet __CONFLICT), and
    // whether it commits is not known here.
    bool undecided = false;
    // The group coordinator refused the input offsets for this member's generation: every retry
    // would be refused alike until the member rejoins.
    bool membership_lost = false;
  };

 private:
  TransactionalRelay(StateDb& db, int timeout_ms, UndeliverablePolicy policy)
      : db_(db), timeout_ms_(timeout_ms), policy_(std::move(policy)) {}
  // One attempt. nullopt on commit.
  // A record Kafka refuses for good is replaced in `entries` (rerouted, or dropped: added to
  // `dropped`) before the error returns; the next attempt goes without it.
  std::optional<AttemptError> Attempt(std::vector<OutboxEntry>& entries,
                                      std::set<uint64_t>& dropped,
                                      const std::vector<RdKafka::TopicPartition*>& offsets);
  // A transactional call, given how long it may wait.
  using Call = std::function<RdKafka::Error*(int timeout_ms)>;
  enum class Resume { kNo, kYes };  // whether librdkafka resumes the call after its timeout
  // Repeats Waiting(call) while it fails with a retriable error, at most kMaxAttempts times and
  // not past the stop deadline.
  std::unique_ptr<RdKafka::Error> Retrying(const Call& call, Resume resume);
  // One attempt of `call`: up to timeout_ms_, and not past the stop deadline; a resumable call
  // under WatchStop waits in slices of kStopCheckMs, resumed until the attempt's time is up
  // (but not for its last kMinResumeMs) or the stop deadline.
  std::unique_ptr<RdKafka::Error> Waiting(const Call& call, Resume resume);
  // A stop requested through WatchStop's flag sets the deadline, once.
  void NoticeStop();
  // Keeps the records of the attempt that Kafka refused for good (refused_).
  void dr_cb(RdKafka::Message& message) override;
  // Replaces each entry refused_ names as Attempt replaces a refused produce; Kafka error for a
  // changelog record (kStop). Clears refused_.
  Status ReplaceRefused(std::vector<OutboxEntry>& entries, std::set<uint64_t>& dropped);
  // Remembers that a transaction is left undecided (`status`, kDeadlineExceeded), and returns it.
  Status LeaveUndecided(Status status);
  bool PastStopBy() const;

  // Constant after construction.
  StateDb& db_;
  const int timeout_ms_;
  const UndeliverablePolicy policy_;

  RdKafka::KafkaConsumer* consumer_ = nullptr;  // see set_consumer
  std::optional<std::chrono::steady_clock::time_point> stop_by_;  // see StopBy
  // Why a transaction was left undecided; empty: none. librdkafka may still run its commit, so
  // no later transaction can begin (begin_transaction or abort_transaction would meet
  // __CONFLICT): every later Publish returns kDeadlineExceeded at once.
  std::string left_undecided_;
  const std::atomic<bool>* stop_ = nullptr;                       // see WatchStop
  std::chrono::milliseconds stop_timeout_{0};
  std::function<void()> on_waiting_;  // see set_on_waiting

  std::unique_ptr<RdKafka::Producer> producer_;
  KnownTopics known_topics_;  // of producer_: cleared before it is destroyed
  AbortedFn on_aborted_;
  std::map<uint64_t, std::string> refused_;  // seq -> why, from this attempt's delivery reports
};

}  // namespace touchstream
