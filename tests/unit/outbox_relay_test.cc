#include "processor/kafka/outbox_relay.h"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <optional>

#include "state/changelog.h"
#include "state/commit_batch.h"
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
    // A topic that does not exist is not learnt (known_topics.h).
    auto relay = OutboxRelay::Create(props, *db_, {}, {kTopic, "relay-test-absent"});
    ASSERT_TRUE(relay.ok()) << relay.status().message();
    relay_ = std::move(*relay);
    EXPECT_TRUE(relay_->resends_stored_outbox())
        << "Recover resends the stored outbox: commits must store their records";
  }
  // Commits `count` records to the outbox and hands them to the relay; returns their values.
  std::set<std::string> CommitAndSend(int count) {
    std::vector<OutboxEntry> entries = CommitToOutbox(count);
    std::set<std::string> values = Values(entries);
    EXPECT_TRUE(relay_->Publish(std::move(entries), {}).ok());
    return values;
  }

  // Partition 0 of `topic` led by `broker`; -1: no leader, so what is produced to it stays
  // unacknowledged until it gets one.
  rd_kafka_resp_err_t SetLeader(const std::string& topic, int32_t broker) {
    return rd_kafka_mock_partition_set_leader(kafka_->cluster(), topic.c_str(), 0, broker);
  }

  std::unique_ptr<OutboxRelay> relay_;
};

// Commits one record to the outbox.
OutboxEntry Committed(StateDb& db, const std::string& topic, std::string value,
                      bool barrier = false, const std::string& key = "customer-1",
                      std::optional<int32_t> partition = std::nullopt) {
  OutboxEntry e;
  e.record.set_topic(topic);
  if (partition) e.record.set_partition(*partition);
  e.record.set_key(key);
  e.record.set_value(std::move(value));
  e.record.set_barrier(barrier);
  CommitBatch batch(db);
  e.seq = batch.AddOutbox(e.record);
  EXPECT_TRUE(batch.Commit().ok());
  return e;
}

TEST_F(OutboxRelayTest, ARecordTooLargeToProduceGoesToTheDeadLetterTopicAndOutputGoesOn) {
  constexpr char kDeadLetters[] = "relay-test-dlq";
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kDeadLetters, 1}).ok());
  auto relay = OutboxRelay::Create(
      {{"bootstrap.servers", kafka_->bootstrap_servers()}, {"message.max.bytes", "100000"}}, *db_,
      UndeliverablePolicy{kDeadLetters, "changelog"});
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  relay_ = std::move(*relay);
  std::vector<std::string> undeliverable;
  relay_->set_on_undeliverable(RecordUndeliverable(undeliverable));
  const std::string big(300'000, 'x');  // librdkafka refuses it: over message.max.bytes
  std::vector<OutboxEntry> entries;
  entries.push_back(Committed(*db_, kTopic, "before"));
  entries.push_back(Committed(*db_, kTopic, big));
  entries.push_back(Committed(*db_, kTopic, "marker", /*barrier=*/true));
  entries.push_back(Committed(*db_, kTopic, "after"));
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  // The barrier behind the refused record clears, and everything leaves the outbox.
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(3), (std::set<std::string>{"before", "marker", "after"}));
  EXPECT_EQ(undeliverable, std::vector<std::string>{std::string(kTopic) + " rerouted"});
  EXPECT_EQ(TopicValues(1, std::chrono::milliseconds(0), kDeadLetters),
            std::set<std::string>{std::string(kMaxUndeliverableValueBytes, 'x')});
}

// A broker that bounds timestamps (message.timestamp.after.max.ms, one hour by default since
// Kafka 4.0) refuses every record while this host's clock is off by more than that: librdkafka
// stamps each record with the local clock as it is produced. Such records were undeliverable:
// every trigger went to the dead-letter topic, which refused it too, and was dropped. They are
// retried until the clocks agree again, then delivered: nothing rerouted, nothing lost.
TEST_F(OutboxRelayTest, RecordsTheBrokerRefusesForTheirTimestampWaitForTheClock) {
  constexpr char kDeadLetters[] = "relay-test-dlq";
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kDeadLetters, 1}).ok());
  auto relay = OutboxRelay::Create({{"bootstrap.servers", kafka_->bootstrap_servers()}}, *db_,
                                   UndeliverablePolicy{kDeadLetters, "changelog"});
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  relay_ = std::move(*relay);
  std::vector<std::string> undeliverable;
  relay_->set_on_undeliverable(RecordUndeliverable(undeliverable));
  // The next produce requests, then no more (the clock set right).
  const std::vector<rd_kafka_resp_err_t> refused(5, RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP);
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kProduceApi, refused.size(),
                                          refused.data());
  std::vector<OutboxEntry> entries;
  entries.push_back(Committed(*db_, kTopic, "a trigger"));
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE(relay_->Flush(20'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(undeliverable, std::vector<std::string>{});
  EXPECT_EQ(TopicValues(1, std::chrono::seconds(5)), std::set<std::string>{"a trigger"});
  EXPECT_EQ(TopicValues(0, std::chrono::milliseconds(500), kDeadLetters), std::set<std::string>{});
  rd_kafka_mock_clear_request_errors(kafka_->cluster(), kProduceApi);
}

// A dead letter of a record without key or value is produced with both null.
TEST_F(OutboxRelayTest, ANullKeyAndANullValueAreProducedNull) {
  CreateRelay({});
  std::vector<OutboxEntry> entries;
  entries.push_back(Committed(*db_, kTopic, ""));
  entries.back().record.set_null_key(true);
  entries.back().record.set_null_value(true);
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE(relay_->Flush(10'000).ok());
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(kTopic);
  std::unique_ptr<RdKafka::Message> m;
  for (int i = 0; i < 300; ++i) {
    m.reset(consumer->consume(50));
    if (m->err() == RdKafka::ERR_NO_ERROR) break;
  }
  ASSERT_EQ(m->err(), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(m->key_pointer(), nullptr);
  EXPECT_EQ(m->payload(), nullptr);
  consumer->close();
}

TEST_F(OutboxRelayTest, AChangelogRecordTooLargeToProduceStopsTheRelay) {
  auto relay = OutboxRelay::Create(
      {{"bootstrap.servers", kafka_->bootstrap_servers()}, {"message.max.bytes", "100000"}}, *db_,
      UndeliverablePolicy{"dlq", kTopic});
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  relay_ = std::move(*relay);
  std::vector<OutboxEntry> entries;
  entries.push_back(Committed(*db_, kTopic, std::string(300'000, 's')));
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  const Status s = relay_->Flush(5'000);
  EXPECT_EQ(s.code(), Status::Code::kKafkaError);
  EXPECT_NE(s.message().find("stopping rather than losing"), std::string::npos) << s.message();
  EXPECT_EQ(OutboxSize(), 1u) << "the changelog record stays in the outbox";
}

TEST_F(OutboxRelayTest, AChangelogRecordsStampIsProducedAsItsThreeHeadersAfterItsOwn) {
  CreateRelay({});
  std::string value = "state";
  OutboxEntry entry;
  entry.seq = 1;  // changelog records are relayed from memory, never stored
  entry.record = changelog::SerializedStateRecord(kTopic, 0, {"owner-1", 12}, 345, "ann", &value);
  v1::state::RecordHeader* own = entry.record.add_headers();
  own->set_key("other");
  own->set_value("x");
  std::vector<OutboxEntry> entries;
  entries.push_back(std::move(entry));
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(FirstRecordHeaders(), (std::vector<std::pair<std::string, std::string>>{
                                      {"other", "x"},
                                      {changelog::kOwnerHeader, "owner-1"},
                                      {changelog::kEpochHeader, "12"},
                                      {changelog::kSeqHeader, "345"}}));
}

TEST_F(OutboxRelayTest, ItsProducerKnowsTheOutputTopicsThatExist) {
  CreateRelay({});
  EXPECT_EQ(relay_->known_output_topics(), 1u);
}

TEST_F(OutboxRelayTest, DeliversAndEmptiesTheOutbox) {
  CreateRelay({});
  const std::set<std::string> sent = CommitAndSend(50);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(relay_->in_flight(), 0u);
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
}

// A commit's records are acknowledged by output partition, so the acknowledged seqs of one poll
// are scattered: a tombstone each cost a memtable insert per trigger. Everything below the oldest
// record unacknowledged leaves by one range deletion instead.
TEST_F(OutboxRelayTest, AcknowledgedRecordsLeaveTheOutboxByARangeDeletionNotATombstoneEach) {
  CreateRelay({});
  const std::set<std::string> sent = CommitAndSend(12);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(sent.size()), sent);
  for (const StateDb::FamilyStats& family : db_->ReadStats().families) {
    if (family.name == "outbox") {
      EXPECT_EQ(family.memtable_deletions, 0u);
    }
  }
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
  EXPECT_EQ(relay_->known_output_topics(), 1u) << "the replacement learnt the output topic too";
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

TEST_F(OutboxRelayTest, AReplacementProducerThatCannotBeCreatedStopsTheRelayWithItsError) {
  // The test's own handle keeps the plugin (and its count) loaded across the producers.
  void* plugin = dlopen(TOUCHSTREAM_REFUSING_CONF_PLUGIN_PATH, RTLD_NOW);
  ASSERT_NE(plugin, nullptr) << dlerror();
  auto refuse_after =
      reinterpret_cast<void (*)(int)>(dlsym(plugin, "touchstream_test_refuse_after"));
  ASSERT_NE(refuse_after, nullptr);
  refuse_after(2);  // the first producer loads it (two calls); its replacement's is refused
  CreateRelay({{"enable.gapless.guarantee", "true"},
               {"plugin.library.paths", TOUCHSTREAM_REFUSING_CONF_PLUGIN_PATH}});
  CommitAndSend(10);
  ASSERT_TRUE(relay_->Flush(15'000).ok());

  const rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
  rd_kafka_mock_push_request_errors_array(kafka_->cluster(), kProduceApi, 1, &error);
  CommitAndSend(5);
  const Status failed = relay_->Flush(20'000);
  ASSERT_FALSE(failed.ok()) << "the producer could not be replaced";
  EXPECT_NE(failed.message().find("refused by the test plugin"), std::string::npos)
      << failed.message();

  // Every later call answers with that error; none reaches for the missing producer.
  EXPECT_TRUE(relay_->Publish(CommitToOutbox(3), {}).ok()) << "the outbox holds them";
  EXPECT_EQ(relay_->Poll(0).message(), failed.message());
  EXPECT_EQ(relay_->Flush(100).message(), failed.message());
  EXPECT_GE(OutboxSize(), 8u) << "what was not acknowledged stays for the next start";
  relay_.reset();
  refuse_after(-1);
  dlclose(plugin);
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

// Barriers (changelog markers) against a slow broker (400 ms per response): a commit's markers wait
// for its other records' acknowledgements and then go out together; nothing after them goes out
// before they are acknowledged. Produce times show it (a record's timestamp is when it was
// produced).
// An erasure recalls the customer's triggers committed but not yet produced (queued behind an
// unacknowledged changelog marker): they leave the outbox unsent; another customer's stay.
TEST_F(OutboxRelayTest, RecalledRecordsOfAnErasedCustomerAreNeverSent) {
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"changelog", 1}).ok());
  CreateRelay({{"linger.ms", "0"}});
  ASSERT_EQ(SetLeader("changelog", -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<OutboxEntry> entries;
  auto add = [&](const std::string& topic, const std::string& key, bool barrier) {
    const std::optional<int32_t> partition =
        topic == "changelog" ? std::optional<int32_t>(0) : std::nullopt;
    entries.push_back(Committed(*db_, topic, key + "@" + topic, barrier, key, partition));
  };
  add("changelog", "marker", true);  // produced, stuck: everything after it waits
  add(kTopic, "amy", false);
  add(kTopic, "bob", false);
  add(kTopic, "amy", false);
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE(relay_->Poll(100).ok());
  ASSERT_EQ(relay_->in_flight(), 4u);

  ASSERT_TRUE(relay_->Recall({kTopic}, "amy").ok());
  EXPECT_EQ(relay_->in_flight(), 2u);
  EXPECT_EQ(OutboxSize(), 2u);
  ASSERT_EQ(SetLeader("changelog", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
  EXPECT_EQ(TopicValues(1, std::chrono::milliseconds(500)),
            std::set<std::string>{"bob@" + std::string(kTopic)});
}

// The outbox is deleted up to the oldest record unacknowledged, so records acknowledged after it
// stay stored, and a restart would send them again. An erasure deletes the customer's among them.
TEST_F(OutboxRelayTest, RecallDeletesTheCustomersAcknowledgedRecordsTheOutboxStillHolds) {
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"stuck", 1}).ok());
  CreateRelay({{"linger.ms", "0"}});
  // "stuck" has no leader: its record stays unacknowledged, the oldest one held.
  ASSERT_EQ(SetLeader("stuck", -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<OutboxEntry> entries;
  for (const auto& [topic, key] : std::vector<std::pair<std::string, std::string>>{
           {"stuck", "cid"}, {kTopic, "amy"}, {kTopic, "bob"}}) {
    entries.push_back(Committed(*db_, topic, key + "@" + topic, /*barrier=*/false, key));
  }
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (relay_->in_flight() > 1 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(relay_->Poll(50).ok());
  }
  ASSERT_EQ(relay_->in_flight(), 1u) << "amy's and bob's records are acknowledged";
  ASSERT_EQ(OutboxSize(), 3u) << "and still stored behind the stuck one";

  ASSERT_TRUE(relay_->Recall({kTopic}, "amy").ok());
  std::set<std::string> stored;
  ASSERT_TRUE(
      db_->ForEachOutbox([&](uint64_t, v1::state::OutboxRecord r) { stored.insert(r.value()); })
          .ok());
  EXPECT_EQ(stored, (std::set<std::string>{"cid@stuck", "bob@" + std::string(kTopic)}));

  ASSERT_EQ(SetLeader("stuck", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);
}

TEST_F(OutboxRelayTest, AbandonedRecordsOfALostPartitionAreNeverSent) {
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"changelog", 2}).ok());
  CreateRelay({{"linger.ms", "0"}});
  // Changelog partition 0 has no leader: its first marker waits in the producer, and the
  // records after it in the relay.
  ASSERT_EQ(SetLeader("changelog", -1), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<OutboxEntry> entries;
  auto add = [&](int32_t partition, const std::string& value, bool barrier) {
    entries.push_back(Committed(*db_, "changelog", value, barrier, "k", partition));
  };
  add(0, "marker-0", true);  // produced, stuck
  add(0, "state-0", false);  // queued behind it
  add(1, "state-1", false);  // another partition's, queued behind it too
  ASSERT_TRUE(relay_->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE(relay_->Poll(100).ok());
  EXPECT_EQ(relay_->in_flight(), 3u);

  // The instance lost partition 0.
  ASSERT_TRUE(relay_->Abandon("changelog", {0}).ok());
  EXPECT_EQ(relay_->in_flight(), 2u) << "the queued record left at once, the produced one not";
  EXPECT_EQ(OutboxSize(), 2u);
  ASSERT_EQ(SetLeader("changelog", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(relay_->Flush(15'000).ok());
  EXPECT_EQ(OutboxSize(), 0u);

  std::map<int32_t, std::vector<std::string>> arrived;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader("changelog", {0, 1}, "abandon-reader");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    arrived[m->partition()].emplace_back(static_cast<const char*>(m->payload()), m->len());
  }
  consumer->close();
  // What the producer already had still arrives (within message.timeout.ms); nothing else of
  // partition 0 does; partition 1 is untouched.
  EXPECT_EQ(arrived[0], std::vector<std::string>{"marker-0"});
  EXPECT_EQ(arrived[1], std::vector<std::string>{"state-1"});
}

TEST(OutboxRelayBarrierTest, MarkersOfACommitGoTogetherAfterItsRecordsAndBeforeTheNext) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("outbox_relay_barrier_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto db = StateDb::Open(dir.string(), false);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto kafka = EmbeddedKafka::Start(1);
  ASSERT_TRUE(kafka.ok()) << kafka.status().message();
  ASSERT_TRUE((*kafka)->CreateTopic(TopicConfig{"data", 1}).ok());
  ASSERT_TRUE((*kafka)->CreateTopic(TopicConfig{"markers", 2}).ok());
  rd_kafka_mock_cluster_t* cluster = (*kafka)->cluster();
  auto relay = OutboxRelay::Create(
      {{"bootstrap.servers", (*kafka)->bootstrap_servers()}, {"linger.ms", "0"}}, **db);
  ASSERT_TRUE(relay.ok()) << relay.status().message();
  // Warm up (metadata, producer id), then slow down every response.
  std::vector<OutboxEntry> warmup(1);
  warmup[0].record.set_topic("data");
  warmup[0].record.set_value("warmup");
  ASSERT_TRUE((*relay)->Publish(std::move(warmup), {}).ok());
  ASSERT_TRUE((*relay)->Flush(10'000).ok());
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster, 1, 400), RD_KAFKA_RESP_ERR_NO_ERROR);

  // Commit 1: two records, markers to both marker partitions. Commit 2: one record, a marker.
  std::vector<OutboxEntry> entries;
  auto add = [&](const std::string& topic, int32_t partition, const std::string& value,
                 bool barrier) {
    entries.push_back(Committed(**db, topic, value, barrier, /*key=*/"",
                                partition >= 0 ? std::optional<int32_t>(partition) : std::nullopt));
  };
  add("data", 0, "d1", false);
  add("data", 0, "d2", false);
  add("markers", 0, "m1-0", true);
  add("markers", 1, "m1-1", true);
  add("data", 0, "d3", false);
  add("markers", 0, "m2-0", true);
  ASSERT_TRUE((*relay)->Publish(std::move(entries), {}).ok());
  ASSERT_TRUE((*relay)->Flush(20'000).ok());
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster, 1, 0), RD_KAFKA_RESP_ERR_NO_ERROR);

  // Produce time of every record, by value.
  std::map<std::string, int64_t> produced_at;
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", (*kafka)->bootstrap_servers(), errstr);
  conf->set("group.id", "barrier-reader", errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  std::vector<RdKafka::TopicPartition*> tps = {
      RdKafka::TopicPartition::create("data", 0, RdKafka::Topic::OFFSET_BEGINNING),
      RdKafka::TopicPartition::create("markers", 0, RdKafka::Topic::OFFSET_BEGINNING),
      RdKafka::TopicPartition::create("markers", 1, RdKafka::Topic::OFFSET_BEGINNING)};
  consumer->assign(tps);
  RdKafka::TopicPartition::destroy(tps);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (produced_at.size() < 7 && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    produced_at[std::string(static_cast<const char*>(m->payload()), m->len())] =
        m->timestamp().timestamp;
  }
  consumer->close();
  ASSERT_EQ(produced_at.size(), 7u);
  // The 400 ms round trip of d1/d2 passes before commit 1's markers are produced...
  EXPECT_GE(produced_at["m1-0"] - produced_at["d2"], 300);
  // ...which go out together (one round trip, not one each)...
  EXPECT_LE(std::abs(produced_at["m1-1"] - produced_at["m1-0"]), 100);
  // ...and d3 only after they are acknowledged, m2-0 only after d3 is.
  EXPECT_GE(produced_at["d3"] - produced_at["m1-1"], 300);
  EXPECT_GE(produced_at["m2-0"] - produced_at["d3"], 300);
  relay->reset();
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace touchstream::testing
