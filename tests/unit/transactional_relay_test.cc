// The exactly_once relay's error handling against the embedded Kafka, which runs the
// transaction protocol but does not isolate aborted records: so these tests check what the
// relay does on commit, on abortable, retriable and fatal errors, and on recovery, not what a
// read_committed consumer would see. (Nor does it store offsets committed in a transaction;
// that they are part of the transaction shows in InputOffsetsAreInTheTransaction.)
#include "processor/kafka/transactional_relay.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "tests/unit/relay_test_fixture.h"

namespace touchstream::testing {
namespace {

constexpr char kInputTopic[] = "relay-test-input";
constexpr char kGroup[] = "relay-test-group";

// What the relay reported, a line each (for failure messages and empty checks).
std::string Joined(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) joined += line + "\n";
  return joined;
}

class TransactionalRelayTest : public RelayTest {
 protected:
  void SetUp() override {
    RelayTest::SetUp();
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kInputTopic, 1}).ok());
    std::string errstr;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", kafka_->bootstrap_servers(), errstr);
    conf->set("group.id", kGroup, errstr);
    conf->set("enable.auto.commit", "false", errstr);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), errstr));
    ASSERT_TRUE(consumer_) << errstr;
  }
  void TearDown() override {
    relay_.reset();
    if (consumer_) consumer_->close();
    consumer_.reset();
    RelayTest::TearDown();
  }
  // `properties`: the producer's, besides bootstrap.servers.
  void CreateRelay(int timeout_ms = 5'000, KafkaProperties properties = {}) {
    properties["bootstrap.servers"] = kafka_->bootstrap_servers();
    auto relay =
        TransactionalRelay::Create(properties, "relay-test-txn", *db_, timeout_ms, {}, {kTopic});
    ASSERT_TRUE(relay.ok()) << relay.status().message();
    relay_ = std::move(*relay);
    EXPECT_EQ(relay_->known_output_topics(), 1u) << "its producer knows the output topic";
    EXPECT_FALSE(relay_->resends_stored_outbox())
        << "Recover drops the stored outbox: commits must not store their records";
    relay_->set_on_aborted([this](const std::string& reason) { aborts_.push_back(reason); });
    relay_->set_on_failed(
        [this](const std::string&, const std::string& error) { failures_.push_back(error); });
    ASSERT_TRUE(relay_->Recover().ok());
  }
  // A commit's records as TaskManager hands them to this relay: not stored in the outbox
  // (resends_stored_outbox is false), their seqs drawn.
  std::vector<OutboxEntry> Commit(int count) { return CommitToOutbox(count, /*stored=*/false); }
  Status Publish(std::vector<OutboxEntry> entries, int64_t input_offset) {
    relay_->set_consumer(consumer_.get());
    return relay_->Publish(std::move(entries), {{kInputTopic, 0, input_offset}});
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<TransactionalRelay> relay_;
  std::vector<std::string> aborts_;
  std::vector<std::string> failures_;
};

TEST_F(TransactionalRelayTest, CommitsRecordsAndInputOffsetsTogether) {
  CreateRelay();
  std::vector<OutboxEntry> entries = Commit(20);
  const std::set<std::string> sent = Values(entries);
  std::vector<std::string> delivered;
  relay_->set_on_delivered(
      [&](const v1::state::OutboxRecord& r) { delivered.push_back(r.value()); });
  ASSERT_TRUE(Publish(std::move(entries), 42).ok());
  EXPECT_EQ(delivered.size(), 20u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
  EXPECT_TRUE(aborts_.empty());
}

TEST_F(TransactionalRelayTest, InputOffsetsAreInTheTransaction) {
  CreateRelay();
  // Adding the group's offsets to the transaction fails once. A commit without input offsets
  // (a partition's fence) does not add them; the next commit does, and is aborted and redone.
  const rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kAddOffsetsToTxnApi, 1, &error);
  ASSERT_TRUE(relay_->Publish(Commit(1), {}).ok());
  EXPECT_TRUE(aborts_.empty());
  ASSERT_TRUE(Publish(Commit(3), 11).ok());
  ASSERT_EQ(aborts_.size(), 1u);
  EXPECT_NE(aborts_[0].find("GROUP_AUTHORIZATION_FAILED"), std::string::npos) << aborts_[0];
}

TEST_F(TransactionalRelayTest, AbortableErrorAbortsAndRetriesTheWholeTransaction) {
  CreateRelay();
  // The first AddPartitionsToTxn fails: the transaction must be aborted.
  const rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kAddPartitionsToTxnApi, 1, &error);
  std::vector<OutboxEntry> entries = Commit(10);
  const std::set<std::string> sent = Values(entries);
  // No input offsets: the producer knows the topic from the start (known_topics.h), so the
  // partition is added as the first record is produced, and send_offsets_to_transaction, had it
  // run, could find the transaction failed first and report only its state (librdkafka logs the
  // cause itself, TXNERR). Without it, commit_transaction reports the cause.
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_EQ(aborts_.size(), 1u);
  EXPECT_NE(aborts_[0].find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos) << aborts_[0];
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

// A record the broker refuses for good (here MSG_SIZE_TOO_LARGE, as from a topic whose
// max.message.bytes is below the producer's) aborts the transaction; it is rerouted to the
// dead-letter topic, not retried until the instance stops and restarts into the same refusal.
TEST_F(TransactionalRelayTest, ARecordTheBrokerRefusesIsReroutedNotRetriedForever) {
  constexpr char kDeadLetters[] = "relay-test-txn-dlq";
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kDeadLetters, 1}).ok());
  auto relay = TransactionalRelay::Create(
      {{"bootstrap.servers", kafka_->bootstrap_servers()}}, "relay-test-txn", *db_, 5'000,
      UndeliverablePolicy{kDeadLetters, "changelog"}, {kTopic, kDeadLetters});
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  relay_ = std::move(*relay);
  relay_->set_on_aborted([this](const std::string& reason) { aborts_.push_back(reason); });
  ASSERT_TRUE(relay_->Recover().ok());
  std::vector<std::string> undeliverable;
  relay_->set_on_undeliverable(RecordUndeliverable(undeliverable));
  // Refused as often as the relay would try: the record, then the dead letter it becomes.
  const std::vector<rd_kafka_resp_err_t> refused(TransactionalRelay::kMaxAttempts,
                                                 RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kProduceApi, refused.size(),
                                          refused.data());
  const Status published = Publish(Commit(1), 7);
  rd_kafka_mock_clear_request_errors(kafka_->cluster(), kProduceApi);
  ASSERT_TRUE(published.ok()) << published.message();
  EXPECT_EQ(undeliverable, (std::vector<std::string>{std::string(kTopic) + " rerouted",
                                                     std::string(kDeadLetters) + " dropped"}));
  EXPECT_EQ(aborts_.size(), 0u) << "a refused record costs no retry";
  // The next commit goes through as usual.
  std::vector<OutboxEntry> next = Commit(3);
  const std::set<std::string> sent = Values(next);
  ASSERT_TRUE(Publish(std::move(next), 8).ok());
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

TEST_F(TransactionalRelayTest, RetriableErrorRepeatsTheCallWithoutAborting) {
  CreateRelay(1'000);
  // The coordinator answers the first EndTxn after 2.5 s: commit_transaction times out
  // (retriable) and is called again, which completes the same transaction.
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 2'500),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<OutboxEntry> entries = Commit(5);
  const std::set<std::string> sent = Values(entries);
  const Status s = Publish(std::move(entries), 3);
  // On a failure, what each call reported (a loaded machine once made this test fail without
  // saying why).
  ASSERT_TRUE(s.ok()) << s.message() << "\n" << Joined(failures_);
  EXPECT_TRUE(aborts_.empty()) << Joined(failures_);
  ASSERT_FALSE(failures_.empty()) << "the timeout should have been reported and retried";
  EXPECT_NE(failures_[0].find("retrying"), std::string::npos) << failures_[0];
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

// The calls that test makes, as librdkafka logs them (debug=eos, on stderr): a commit that timed
// out is resumed only with time to run its first step, never with the moment librdkafka's
// rounding leaves of an attempt (a 1 ms call once lost the commit on a busy machine:
// TransactionalRelay::kMinResumeMs).
TEST_F(TransactionalRelayTest, ATimedOutCommitIsResumedWithTimeToRun) {
  CreateRelay(1'000, {{"debug", "eos"}});
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 2'500),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ::testing::internal::CaptureStderr();
  const Status s = Publish(Commit(3), 3);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok()) << s.message();
  const std::string called = "Transactional API called: commit_transaction (";
  std::vector<int> timeouts;
  for (size_t at = log.find(called); at != std::string::npos; at = log.find(called, at + 1)) {
    // On the call's own line (begin_transaction's line says "API timeout 0").
    const std::string line = log.substr(at, log.find('\n', at) - at);
    const size_t timeout = line.find("API timeout ");
    ASSERT_NE(timeout, std::string::npos) << line;
    timeouts.push_back(std::atoi(line.c_str() + timeout + std::strlen("API timeout ")));
  }
  ASSERT_GE(timeouts.size(), 3u) << "timed out twice, then committed\n" << log;
  for (int timeout : timeouts) {
    EXPECT_GE(timeout, TransactionalRelay::kMinResumeMs) << log;
  }
}

// A commit whose coordinator answers late waits within its retry budget (up to kMaxAttempts
// calls of transaction_call_timeout): /healthz heard nothing of it and failed after
// http.healthz_max_poll_age (30 s), so Kubernetes' liveness probe killed the pod in the middle of
// the transaction. Each slice of the wait is reported (ConsumeLoop: as restore progress is).
TEST_F(TransactionalRelayTest, ACommitWaitingForTheCoordinatorReportsItsWait) {
  CreateRelay(30'000);
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 2'500),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::atomic<bool> stop{false};
  relay_->WatchStop(&stop, std::chrono::milliseconds(300));
  int waits = 0;
  relay_->set_on_waiting([&] { ++waits; });
  const Status s = Publish(Commit(3), 3);
  relay_->set_on_waiting(nullptr);
  relay_->WatchStop(nullptr, {});
  ASSERT_TRUE(s.ok()) << s.message();
  // The commit call waits 2.5 s in slices of at most kStopCheckMs.
  EXPECT_GE(waits, 5);
}

TEST_F(TransactionalRelayTest, ACommitThatNeverCompletesIsLeftUndecidedNotAborted) {
  CreateRelay(1'000);
  // EndTxn unanswered for 20 s: each of the kMaxAttempts commit calls times out. librdkafka still
  // runs the commit, so abort_transaction would only meet __CONFLICT ("Conflicting
  // commit_transaction API call is already in progress"): not called.
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 20'000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  const Status s = Publish(Commit(2), 5);
  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded) << s.message();
  EXPECT_NE(s.message().find("did not complete in 5 attempts"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("left undecided"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("Conflicting"), std::string::npos) << s.message();
  EXPECT_EQ(Joined(failures_).find("Conflicting"), std::string::npos) << Joined(failures_);
  EXPECT_TRUE(aborts_.empty());
  // Nothing more can be committed while librdkafka still runs that commit: the next Publish
  // says so at once instead of beginning a transaction (which would meet __CONFLICT too).
  const auto before = std::chrono::steady_clock::now();
  const Status next = Publish(Commit(1), 6);
  EXPECT_EQ(next.code(), Status::Code::kDeadlineExceeded) << next.message();
  EXPECT_NE(next.message().find("an earlier transaction is still undecided"), std::string::npos)
      << next.message();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
}

TEST_F(TransactionalRelayTest, AStopsDeadlineEndsTheTransactionLeftOpen) {
  CreateRelay(30'000);
  // The coordinator would answer EndTxn after 20 s, well inside each call's 30 s; the stop's
  // deadline comes first: the transaction is left undecided (a restart drops it, Recover, and
  // the restore redoes its commit).
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 20'000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  relay_->StopBy(std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
  const Status s = Publish(Commit(4), 9);
  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded) << s.message();
  EXPECT_NE(s.message().find("left undecided"), std::string::npos) << s.message();
  EXPECT_TRUE(aborts_.empty());
  // Waited for to the deadline in one attempt: no retry reported on the way.
  EXPECT_EQ(Joined(failures_), "");
}

TEST_F(TransactionalRelayTest, AStopRequestedWhileACommitWaitsEndsIt) {
  CreateRelay(30'000);
  // As above, but the stop comes while commit_transaction waits: the call, waiting in slices,
  // sees it and ends within the stop timeout instead of waiting for the answer.
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(kafka_->cluster(), 1, kEndTxnApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 20'000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::atomic<bool> stop{false};
  relay_->WatchStop(&stop, std::chrono::milliseconds(300));
  std::thread signal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    stop.store(true);
  });
  const Status s = Publish(Commit(4), 9);
  signal.join();
  relay_->WatchStop(nullptr, {});
  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded) << s.message();
  EXPECT_NE(s.message().find("left undecided"), std::string::npos) << s.message();
  EXPECT_TRUE(aborts_.empty());
  EXPECT_EQ(Joined(failures_), "");
}

TEST_F(TransactionalRelayTest, ACoordinatorStillBusyAtStartUpIsWaitedForUnderAStopWatch) {
  // The coordinator answers InitProducerId with CONCURRENT_TRANSACTIONS for a while (an earlier
  // incarnation's transaction still being aborted): librdkafka retries it inside
  // init_transactions, and a call that times out returns that error instead of a timeout. Under
  // a stop watch the call waits in slices; each slice that ends so is resumed, not counted as
  // a failed attempt.
  std::vector<rd_kafka_resp_err_t> busy(12, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kInitProducerIdApi, busy.size(),
                                          busy.data());
  std::atomic<bool> stop{false};
  auto relay = TransactionalRelay::Create({{"bootstrap.servers", kafka_->bootstrap_servers()}},
                                          "relay-test-txn", *db_, 30'000, {}, {kTopic});
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  (*relay)->WatchStop(&stop, std::chrono::milliseconds(300));
  const Status recovered = (*relay)->Recover();
  EXPECT_TRUE(recovered.ok()) << recovered.message();
}

TEST_F(TransactionalRelayTest, FencedProducerIsFatal) {
  CreateRelay();
  const rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kEndTxnApi, 1, &error);
  const Status s = Publish(Commit(4), 9);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fatal"), std::string::npos) << s.message();
  EXPECT_TRUE(aborts_.empty());
}

// The group moved on without this member (a session that timed out, a poll interval passed):
// the group coordinator refuses the input offsets of its old generation, and so would every
// retry of the same transaction (the member's generation changes only when it rejoins). The
// transaction is aborted once and the relay says the membership is lost, so that the instance
// rejoins instead of stopping after five aborted attempts (KIP-447; Kafka Streams' task
// migration).
TEST_F(TransactionalRelayTest, AnOldGenerationAbortsOnceAndReportsTheMembershipLost) {
  CreateRelay();
  const std::vector<rd_kafka_resp_err_t> refused(5, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kTxnOffsetCommitApi, refused.size(),
                                          refused.data());
  const Status s = Publish(Commit(3), 7);
  EXPECT_EQ(s.code(), Status::Code::kMembershipLost) << s.message();
  EXPECT_NE(s.message().find("ILLEGAL_GENERATION"), std::string::npos) << s.message();
  EXPECT_EQ(aborts_.size(), 1u) << Joined(aborts_);
  // The relay goes on: the next commit (after the rejoin) is a transaction of its own.
  rd_kafka_mock_clear_request_errors(kafka_->cluster(), kTxnOffsetCommitApi);
  EXPECT_TRUE(Publish(Commit(2), 9).ok());
}

TEST_F(TransactionalRelayTest, RecoverDropsWhatAnEarlierRunLeftInTheOutbox) {
  CommitToOutbox(6);
  CreateRelay();  // Recover
  EXPECT_EQ(OutboxSize(), 0u);
  // The producer works after recovery, and the dropped records were never sent.
  std::vector<OutboxEntry> entries = Commit(2);
  const std::set<std::string> sent = Values(entries);
  ASSERT_TRUE(Publish(std::move(entries), 1).ok());
  EXPECT_EQ(TopicValues(sent.size(), std::chrono::milliseconds(500)), sent);
}

}  // namespace
}  // namespace touchstream::testing
