// A fixture for relay tests: an in-process embedded Kafka, a state store in a temp directory,
// helpers to commit records to the outbox and to read a topic back.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "processor/embedded/embedded_kafka.h"
#include "processor/kafka/relay.h"
#include "state/commit_batch.h"
#include "state/state_db.h"

namespace touchstream::testing {

// Kafka protocol ApiKeys the tests inject errors into.
inline constexpr int16_t kProduceApi = 0;
inline constexpr int16_t kAddPartitionsToTxnApi = 24;
inline constexpr int16_t kAddOffsetsToTxnApi = 25;
inline constexpr int16_t kEndTxnApi = 26;
inline constexpr int16_t kTxnOffsetCommitApi = 28;
inline constexpr int16_t kInitProducerIdApi = 22;

class RelayTest : public ::testing::Test {
 protected:
  static constexpr char kTopic[] = "relay-test";

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("relay_test_" + std::to_string(::getpid()) + "_" +
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
    db_.reset();
    kafka_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A relay's undeliverable callback that appends "<topic> rerouted|dropped|stopped" to `out`.
  static Relay::UndeliverableFn RecordUndeliverable(std::vector<std::string>& out) {
    return [&out](const std::string& topic, UndeliverableAction action, const std::string&) {
      out.push_back(topic + (action == UndeliverableAction::kReroute ? " rerouted"
                             : action == UndeliverableAction::kDrop  ? " dropped"
                                                                     : " stopped"));
    };
  }

  // Commits `count` records to the outbox; returns them (their values are unique).
  // `stored` false: as a commit for a relay that does not resend the stored outbox
  // (Relay::resends_stored_outbox): nothing is written, the seqs are drawn.
  std::vector<OutboxEntry> CommitToOutbox(int count, bool stored = true) {
    std::vector<OutboxEntry> entries;
    for (int i = 0; i < count; ++i) {
      OutboxEntry entry;
      entry.record.set_topic(kTopic);
      entry.record.set_key("customer-" + std::to_string(i % 7));
      entry.record.set_value("record-" + std::to_string(next_++));
      CommitBatch batch(*db_);
      entry.seq = stored ? batch.AddOutbox(entry.record) : batch.DrawOutboxSeq();
      EXPECT_TRUE(batch.Commit().ok());
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  static std::set<std::string> Values(const std::vector<OutboxEntry>& entries) {
    std::set<std::string> values;
    for (const OutboxEntry& e : entries) values.insert(e.record.value());
    return values;
  }

  size_t OutboxSize() {
    size_t n = 0;
    EXPECT_TRUE(db_->ForEachOutbox([&](uint64_t, v1::state::OutboxRecord) { ++n; }).ok());
    return n;
  }

  // A consumer of `topic`'s `partitions`, each assigned from its beginning.
  std::unique_ptr<RdKafka::KafkaConsumer> Reader(const std::string& topic,
                                                 const std::vector<int32_t>& partitions = {0},
                                                 const std::string& group = "relay-test-reader") {
    std::string errstr;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", kafka_->bootstrap_servers(), errstr);
    conf->set("group.id", group, errstr);
    conf->set("fetch.wait.max.ms", "20", errstr);
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    std::vector<RdKafka::TopicPartition*> tps;
    for (int32_t p : partitions) {
      tps.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
    }
    consumer->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    return consumer;
  }

  // Every value in the topic, read from the beginning until `expected` distinct values arrived
  // or 15 s passed (then `settle` more, to see unexpected extras).
  std::set<std::string> TopicValues(
      size_t expected, std::chrono::milliseconds settle = std::chrono::milliseconds(0),
      const std::string& topic = kTopic) {
    std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(topic);
    std::set<std::string> values;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool settling = false;
    while (std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
      if (m->err() == RdKafka::ERR_NO_ERROR) {
        values.emplace(static_cast<const char*>(m->payload()), m->len());
      }
      if (!settling && values.size() >= expected) {
        settling = true;
        deadline = std::chrono::steady_clock::now() + settle;
      }
    }
    consumer->close();
    return values;
  }

  // The headers (name, value) of the first record in `topic`'s partition 0 (empty if none
  // arrives within 15 s).
  std::vector<std::pair<std::string, std::string>> FirstRecordHeaders(
      const std::string& topic = kTopic) {
    std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(topic);
    std::vector<std::pair<std::string, std::string>> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      if (RdKafka::Headers* h = m->headers()) {
        for (const RdKafka::Headers::Header& header : h->get_all()) {
          out.emplace_back(header.key(),
                           std::string(static_cast<const char*>(header.value()),
                                       header.value_size()));
        }
      }
      break;
    }
    consumer->close();
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<EmbeddedKafka> kafka_;
  int next_ = 0;
};

}  // namespace touchstream::testing
