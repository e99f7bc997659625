#include "processor/kafka/outbox_relay.h"

#include "tests/unit/relay_test_fixture.h"

namespace touchstream::testing {
namespace {

class OutboxRelayTest : public RelayTest {
 protected:
  void TearDown() override {
    relay_.reset();
    RelayTest::TearDown();
  }
  void CreateRelay(KafkaProperties props) {
    props["bootstrap.servers"] = kafka_->bootstrap_servers();
    auto relay = OutboxRelay::Create(props, *db_);
    ASSERT_TRUE(relay.ok()) << relay.status().message();
    relay_ = std::move(*relay);
  }
  // Commits `count` records to the outbox and hands them to the relay; returns their values.
  std::set<std::string> CommitAndSend(int count) {
    std::vector<OutboxEntry> entries = CommitToOutbox(count);
    std::set<std::string> values = Values(entries);
    EXPECT_TRUE(relay_->Publish(std::move(entries), {}, nullptr).ok());
    return values;
  }

  std::unique_ptr<OutboxRelay> relay_;
};

TEST_F(OutboxRelayTest, DeliversAndEmptiesTheOutbox) {
  CreateRelay({});
  const std::set<std::string> sent = CommitAndSend(50);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(relay_->in_flight(), 0u);
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

TEST_F(OutboxRelayTest, RecoverResendsWhatAnEarlierRunLeftInTheOutbox) {
  const std::set<std::string> left = Values(CommitToOutbox(10));
  CreateRelay({});
  ASSERT_TRUE(relay_->Recover().ok());
  EXPECT_EQ(relay_->in_flight(), 10u);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(left.size()), left);
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
}  // namespace touchstream::testing
