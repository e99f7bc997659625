#include "processor/kafka/outbox_relay.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "processor/kafka/embedded_kafka.h"

namespace touchstream {
namespace {

constexpr char kTopic[] = "relay-test";
constexpr int16_t kProduceApi = 0;

// An in-process mock cluster, a state store in a temp directory, and a relay between them.
class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("outbox_relay_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto db = StateDb::Open(dir_.string(), false);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    auto kafka = EmbeddedKafka::Start(1);
    ASSERT_TRUE(kafka.ok()) << kafka.status().message();
    kafka_ = std::move(*kafka);
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kTopic, 1}).ok());
  }
  void TearDown() override {
    relay_.reset();
    db_.reset();
    kafka_.reset();
    std::filesystem::remove_all(dir_);
  }

  void CreateRelay(KafkaProperties props) {
    props["bootstrap.servers"] = kafka_->bootstrap_servers();
    auto relay = OutboxRelay::Create(props, *db_);
    ASSERT_TRUE(relay.ok()) << relay.status().message();
    relay_ = std::move(*relay);
  }

  // Commits `count` records to the outbox and hands them to the relay; returns their values.
  std::set<std::string> CommitAndSend(int count) {
    std::set<std::string> values;
    for (int i = 0; i < count; ++i) {
      v1::state::OutboxRecord record;
      record.set_topic(kTopic);
      record.set_key("customer-" + std::to_string(i % 7));
      record.set_value("record-" + std::to_string(next_++));
      rocksdb::WriteBatch batch;
      const uint64_t seq = db_->PutOutbox(batch, record);
      EXPECT_TRUE(db_->Commit(batch).ok());
      values.insert(record.value());
      relay_->Send(seq, std::move(record));
    }
    return values;
  }

  size_t OutboxSize() {
    size_t n = 0;
    EXPECT_TRUE(db_->ForEachOutbox([&](uint64_t, v1::state::OutboxRecord) { ++n; }).ok());
    return n;
  }

  // Every value in the topic, read from the beginning (duplicates counted once).
  std::set<std::string> TopicValues(size_t expected) {
    std::string errstr;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", kafka_->bootstrap_servers(), errstr);
    conf->set("group.id", "relay-test-reader", errstr);
    conf->set("fetch.wait.max.ms", "20", errstr);
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    std::vector<RdKafka::TopicPartition*> tps = {
        RdKafka::TopicPartition::create(kTopic, 0, RdKafka::Topic::OFFSET_BEGINNING)};
    consumer->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    std::set<std::string> values;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (values.size() < expected && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
      if (m->err() == RdKafka::ERR_NO_ERROR) {
        values.emplace(static_cast<const char*>(m->payload()), m->len());
      }
    }
    consumer->close();
    return values;
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<EmbeddedKafka> kafka_;
  std::unique_ptr<OutboxRelay> relay_;
  int next_ = 0;
};

TEST_F(OutboxRelayTest, DeliversAndEmptiesTheOutbox) {
  CreateRelay({});
  const std::set<std::string> sent = CommitAndSend(50);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(relay_->in_flight(), 0u);
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

TEST_F(OutboxRelayTest, FatalProducerErrorReplacesTheProducerAndLosesNothing) {
  // With the gap-less guarantee, a permanent produce error is fatal for the idempotent
  // producer: every later produce fails until the producer is replaced.
  CreateRelay({{"enable.gapless.guarantee", "true"}});
  std::vector<std::string> reasons;
  relay_->set_on_recreated([&](const std::string& reason) { reasons.push_back(reason); });
  const std::set<std::string> before = CommitAndSend(20);
  ASSERT_TRUE(relay_->Flush(15'000).ok());

  const rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kProduceApi, 1, &error);
  const std::set<std::string> after = CommitAndSend(30);
  ASSERT_TRUE(relay_->Flush(20'000).ok()) << "records left: " << relay_->in_flight();

  ASSERT_EQ(reasons.size(), 1u) << "the fatal error replaces the producer exactly once";
  EXPECT_NE(reasons[0].find("Gap-less ordering"), std::string::npos) << reasons[0];
  EXPECT_EQ(OutboxSize(), 0u);
  std::set<std::string> all = before;
  all.insert(after.begin(), after.end());
  EXPECT_EQ(TopicValues(all.size()), all) << "every record arrives after the replacement";

  // The replacement producer keeps working.
  const std::set<std::string> later = CommitAndSend(5);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  all.insert(later.begin(), later.end());
  EXPECT_EQ(TopicValues(all.size()), all);
}

TEST_F(OutboxRelayTest, RetriableErrorsAreRetriedWithoutReplacingTheProducer) {
  CreateRelay({});
  int replaced = 0;
  relay_->set_on_recreated([&](const std::string&) { ++replaced; });
  const rd_kafka_resp_err_t errors[] = {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT};
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kProduceApi, 2, errors);
  const std::set<std::string> sent = CommitAndSend(25);
  ASSERT_TRUE(relay_->Flush(20'000).ok());
  EXPECT_EQ(replaced, 0);
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

}  // namespace
}  // namespace touchstream
