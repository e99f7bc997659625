// The restore's progress callback can end it (ChangelogRestorer::ProgressFn): the instance checks
// the state disk's reserve there, so that a restore larger than the room above the reserve
// pauses the instance instead of filling the disk (GroupMembership::RestoreOne). What the
// stopped restore wrote has no checkpoint: the next restore starts again.
#include "processor/kafka/changelog_restorer.h"

#include <gtest/gtest.h>

#include "processor/kafka/record_producer.h"
#include "state/changelog.h"
#include "state/commit_batch.h"
#include "tests/unit/relay_test_fixture.h"

namespace touchstream::testing {
namespace {

constexpr char kChangelog[] = "restorer-test-changelog";
constexpr int kCustomers = 3'500;

class ChangelogRestorerTest : public RelayTest {
 protected:
  // Produces `records` (with their stamps as headers) and waits for every acknowledgement.
  void ProduceAll(const std::vector<v1::state::OutboxRecord>& records) {
    std::string errstr;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", kafka_->bootstrap_servers(), errstr);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
    ASSERT_TRUE(producer) << errstr;
    for (const auto& record : records) {
      ASSERT_EQ(ProduceRecord(*producer, record, nullptr), RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer->flush(10'000), RdKafka::ERR_NO_ERROR);
  }

  void SetUp() override {
    RelayTest::SetUp();
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kChangelog, 1}).ok());
    // One owner's fence, then one commit of kCustomers states and its marker.
    const changelog::Writer writer{"owner-1", 1};
    v1::state::ChangelogMarker fence;
    fence.set_epoch(1);
    fence.mutable_checkpoint()->set_owner(writer.owner);
    std::vector<v1::state::OutboxRecord> records{changelog::FenceRecord(kChangelog, 0, fence)};
    for (int i = 0; i < kCustomers; ++i) {
      v1::state::CustomerState state;
      state.set_customer_id("c" + std::to_string(i));
      state.set_first_seen_ms(1);
      const std::string value = state.SerializeAsString();
      records.push_back(
          changelog::SerializedStateRecord(kChangelog, 0, writer, 1, state.customer_id(), &value));
    }
    v1::state::ChangelogMarker commit;
    commit.mutable_checkpoint()->set_owner(writer.owner);
    commit.mutable_checkpoint()->set_commit_seq(1);
    commit.mutable_checkpoint()->set_next_offset(kCustomers);
    records.push_back(changelog::CommitRecord(kChangelog, 0, writer, commit));
    ASSERT_NO_FATAL_FAILURE(ProduceAll(records));
    auto restorer = ChangelogRestorer::Create({{"bootstrap.servers", kafka_->bootstrap_servers()}},
                                              kChangelog, "touchpoints");
    ASSERT_TRUE(restorer.ok()) << restorer.status().message();
    restorer_ = std::move(*restorer);
  }
  void TearDown() override {
    restorer_.reset();
    RelayTest::TearDown();
  }
  std::unique_ptr<ChangelogRestorer> restorer_;
};

TEST_F(ChangelogRestorerTest, TheWholeChangelogIsRestored) {
  int steps = 0;
  auto restored = restorer_->Restore(0, *db_, 64 << 20, 0, [&](uint64_t, int64_t) {
    ++steps;
    return Status::Ok();
  });
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  EXPECT_EQ(restored->customers, static_cast<uint64_t>(kCustomers));
  EXPECT_GT(steps, 3);
  EXPECT_TRUE(db_->ReadCheckpoint("touchpoints", 0)->has_value());
}

// Into files ingested at once (ingest_min_customers 0) and through the memtables alike.
TEST_F(ChangelogRestorerTest, AProgressStepThatFailsEndsTheRestoreWithItsError) {
  for (const uint64_t ingest_min_customers : {uint64_t{0}, uint64_t{1'000'000}}) {
    int steps = 0;
    auto restored =
        restorer_->Restore(0, *db_, 64 << 20, ingest_min_customers, [&](uint64_t, int64_t) {
          // Once the customers are being written.
          return ++steps < 4 ? Status::Ok() : Status::Unavailable("disk low");
        });
    ASSERT_FALSE(restored.ok()) << ingest_min_customers;
    EXPECT_EQ(restored.status().code(), Status::Code::kUnavailable);
    EXPECT_EQ(steps, 4) << "the restore went on after the failed step";
    EXPECT_FALSE(db_->ReadCheckpoint("touchpoints", 0)->has_value())
        << "a checkpoint for a restore cut short";
  }
}

// An owner that was writing its whole local state to a changelog lacking it (TaskManager::Assign
// after a recreated topic) stopped before that commit's marker: its fence names a state the log
// does not hold. A new instance took the fence for the latest commit and started from its offset
// with no state, without a word; now it is a changelog without a provable commit (an error and
// touchstream_state_rebuilds_total{reason="changelog_without_commit"}), and the owner's own
// store, restoring again, keeps its local state to write it again, with no such alarm.
TEST_F(ChangelogRestorerTest, AFenceWhoseWholeStateNeverArrivedIsNoValidCommit) {
  constexpr char kRecreated[] = "restorer-test-recreated";
  ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{kRecreated, 1}).ok());
  const changelog::Writer writer{"owner-2", 1};
  v1::state::ChangelogMarker fence;
  fence.set_epoch(1);
  fence.set_prev_owner("owner-of-the-old-topic");
  fence.set_prev_seq(7);
  fence.mutable_checkpoint()->set_owner(writer.owner);
  fence.mutable_checkpoint()->set_next_offset(500);
  fence.mutable_checkpoint()->set_changelog_incomplete(true);
  std::vector<v1::state::OutboxRecord> records{changelog::FenceRecord(kRecreated, 0, fence)};
  for (const std::string id : {"ann", "bob"}) {  // of its whole state, and no marker
    v1::state::CustomerState state;
    state.set_customer_id(id);
    const std::string value = state.SerializeAsString();
    records.push_back(changelog::SerializedStateRecord(kRecreated, 0, writer, 1, id, &value));
  }
  ASSERT_NO_FATAL_FAILURE(ProduceAll(records));
  auto restorer = ChangelogRestorer::Create({{"bootstrap.servers", kafka_->bootstrap_servers()}},
                                            kRecreated, "touchpoints");
  ASSERT_TRUE(restorer.ok()) << restorer.status().message();

  // A new instance: nothing local.
  auto fresh = (*restorer)->Restore(0, *db_, 64 << 20, 0, nullptr);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_TRUE(fresh->unproven);
  EXPECT_FALSE(fresh->checkpoint.has_value()) << fresh->checkpoint->DebugString();
  EXPECT_EQ(fresh->customers, 0u);

  // The owner's own store: its checkpoint is the fence's, read against the whole log (the first
  // restore's hint, which a tail read would use, replaced by one past the log's end).
  CommitBatch own(*db_);
  own.PutCheckpoint("touchpoints", 0, fence.checkpoint());
  v1::state::RestoreHint past_the_end;
  past_the_end.set_last_offset(1'000'000);
  own.PutRestoreHint(kRecreated, 0, past_the_end);
  ASSERT_TRUE(own.Commit().ok());
  auto again = (*restorer)->Restore(0, *db_, 64 << 20, 0, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(again->tail_only);
  EXPECT_FALSE(again->unproven);
  ASSERT_TRUE(again->checkpoint.has_value());
  EXPECT_TRUE(again->checkpoint->changelog_incomplete()) << "written there whole again";
  EXPECT_EQ(again->checkpoint->next_offset(), 500);
}

}  // namespace
}  // namespace touchstream::testing
