// Caught up or behind, from the partitions' high watermarks (processor/run/source_ends.h): the
// end-of-partition event alone misses a partition assigned again at an end it reported before,
// and transaction markers past the last record.
#include "processor/run/source_ends.h"

#include <map>

#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/driver_test.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;

// Watermarks as a fake consumer and broker give them.
struct FakeWatermarks {
  std::map<std::pair<std::string, int32_t>, int64_t> cached;  // absent: not fetched yet
  std::map<std::pair<std::string, int32_t>, int64_t> broker;
  int broker_queries = 0;

  SourceEnds::WatermarkReader Reader() {
    return [this](const std::string& topic, int32_t partition, bool fresh, int64_t* low,
                  int64_t* high) {
      auto& from = fresh ? broker : cached;
      if (fresh) ++broker_queries;
      auto it = from.find({topic, partition});
      if (it == from.end()) return false;
      *low = 0;
      *high = it->second;
      return true;
    };
  }
};

class SourceEndsTest : public testing::DriverTest {
 protected:
  void SetUp() override {
    RuleSet rules = testing::CartRule();
    DriverTest::Start(std::move(rules), testing::DriverOptions{});
  }
  // Pipes `n` page views into the input (partition 0).
  void Pipe(int n) {
    for (int i = 0; i < n; ++i) {
      const int k = next_++;
      driver_->Pipe(Event("e" + std::to_string(k), "amy", kT0 + k, v1::EVENT_TYPE_PAGE_VIEW), 0);
    }
  }
  bool caught_up() const { return driver_->task(0)->caught_up(input()); }
  std::string input() const { return driver_->config().touchpoints.name; }

  FakeWatermarks watermarks_;
  int next_ = 0;
};

TEST_F(SourceEndsTest, AtTheHighWatermarkIsCaughtUpBelowItIsBehind) {
  SourceEnds ends({input()}, watermarks_.Reader());
  Pipe(3);  // next offset 3
  watermarks_.broker[{input(), 0}] = 3;
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_TRUE(caught_up());
  watermarks_.cached[{input(), 0}] = 5;  // two records fetched, not yet applied
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_FALSE(caught_up());
  Pipe(2);
  ends.JudgeAll(driver_->task_manager());
  EXPECT_TRUE(caught_up());
}

TEST_F(SourceEndsTest, AnAssignmentAtAnEndReportedBeforeIsJudgedByTheBrokersWatermark) {
  // No end-of-partition event comes (librdkafka sent it in an earlier assignment) and nothing
  // is fetched yet: the broker's watermark decides, once per assignment.
  SourceEnds ends({input()}, watermarks_.Reader());
  Pipe(4);
  watermarks_.broker[{input(), 0}] = 4;
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_TRUE(caught_up());
  EXPECT_EQ(watermarks_.broker_queries, 1);
  // A cached watermark older than the assignment (the previous one's) does not make it behind,
  // nor ahead: the broker's is the floor.
  watermarks_.cached[{input(), 0}] = 2;
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_TRUE(caught_up());
  EXPECT_EQ(watermarks_.broker_queries, 1);
}

TEST_F(SourceEndsTest, TransactionMarkersPastTheLastRecordDoNotKeepASourceBehind) {
  // Three records, then a transaction's commit marker at offset 3: the high watermark is 4, the
  // next offset to apply 3 for good. The end-of-partition event says where the end is.
  SourceEnds ends({input()}, watermarks_.Reader());
  Pipe(3);
  watermarks_.cached[{input(), 0}] = 4;
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_FALSE(caught_up());
  ends.OnEndOfPartition(input(), 0, 4, driver_->task_manager());
  EXPECT_TRUE(caught_up());
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_TRUE(caught_up()) << "nothing was written since the end";
  watermarks_.cached[{input(), 0}] = 6;  // another transaction
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_FALSE(caught_up());
}

TEST_F(SourceEndsTest, AnEndReportedBeforeARewindDoesNotMakeTheSourceCaughtUp) {
  // The consumer delivered up to offset 8 and reported the end there while the task held its
  // input at offset 3 (a timer backlog, a repartition wait); then the source was sought back to
  // 3 to read 3..7 again. Until they are applied the source is behind.
  SourceEnds ends({input()}, watermarks_.Reader());
  Pipe(3);  // next offset 3
  watermarks_.cached[{input(), 0}] = 8;
  ends.OnEndOfPartition(input(), 0, 8, driver_->task_manager());
  ends.OnRewound(input(), 0, driver_->task_manager());
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_FALSE(caught_up()) << "five records to read again";
  Pipe(5);
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_TRUE(caught_up());
}

TEST_F(SourceEndsTest, RecordsDeliveredAndKeptUnappliedKeepTheSourceBehind) {
  // The consumer delivered up to offset 8 and reported the end there; the records 3..7 wait in
  // memory (kept while the task held its input, or being applied a batch at a time). Judged
  // caught up, the partition's clock would follow the wall clock at the next commit.
  bool kept = true;
  SourceEnds ends({input()}, watermarks_.Reader(),
                  [&](const std::string& topic, int32_t partition) {
                    return kept && topic == input() && partition == 0;
                  });
  Pipe(3);  // next offset 3
  watermarks_.cached[{input(), 0}] = 8;
  ends.OnEndOfPartition(input(), 0, 8, driver_->task_manager());
  EXPECT_FALSE(caught_up()) << "five records kept unapplied";
  ends.JudgeAll(driver_->task_manager());
  EXPECT_FALSE(caught_up());
  Pipe(5);
  kept = false;
  ends.JudgeAll(driver_->task_manager());
  EXPECT_TRUE(caught_up());
  kept = true;  // records kept again (a new hold) while the high watermark stands
  ends.Judge(input(), 0, driver_->task_manager());
  EXPECT_FALSE(caught_up());
}

}  // namespace
}  // namespace touchstream
