// Which input sources the consumer delivers (processor/run/source_pauses.h): a hold pauses a
// source that keeps no records in memory, the outbox's bound pauses them all, and a source is
// delivered again only once neither reason holds. Through a fake consumer that records what it
// was told.
#include "processor/run/source_pauses.h"

#include <map>
#include <set>

#include "processor/rules/cart_abandonment_rule.h"
#include "tests/driver/driver_test.h"
#include "tests/unit/test_rules.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;
using testing::WithItem;
using Source = SourceSwitch::Source;

// A consumer's pauses and positions, as librdkafka keeps them.
class FakeSwitch final : public SourceSwitch {
 public:
  std::vector<Source> assigned;
  std::set<Source> paused;
  std::map<Source, int64_t> sought;  // the last Seek of each source

  std::vector<Source> Assigned() override { return assigned; }
  void Pause(const std::vector<Source>& sources) override {
    paused.insert(sources.begin(), sources.end());
  }
  void Resume(const std::vector<Source>& sources) override {
    for (const Source& s : sources) paused.erase(s);
  }
  Status Seek(const Source& source, int64_t offset) override {
    sought[source] = offset;
    return Status::Ok();
  }
};

class SourcePausesTest : public testing::DriverTest {
 protected:
  void SetUp() override {
    RuleSet rules = testing::CartRule();
    testing::DriverOptions options;
    options.max_timers_per_step = 1;
    DriverTest::Start(std::move(rules), options);
    input_ = {driver_->config().touchpoints.name, 0};
    input_switch_.assigned = {input_};
  }

  static v1::TouchpointEvent Add(const std::string& id, const std::string& customer, TimeMs t) {
    return WithItem(Event(id, customer, t, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 1000);
  }

  // Three carts left at kT0, then a record two hours later: its time makes the three timers due,
  // one fires, and the input holds behind the other two (a backlog, fired one per step).
  void BeginBacklog() {
    for (const char* customer : {"amy", "bob", "cy"}) {
      driver_->Pipe(Add(std::string("e-") + customer, customer, kT0));
    }
    late_ = Add("e-late", "dee", kT0 + 2 * kHourMs).SerializeAsString();
    const InputRecord record{input_.first, 0, 3, std::nullopt, late_, std::nullopt, {}};
    StatusOr<bool> began_hold = tasks().Process(record, TaskTime{kT0 + 2 * kHourMs, 0});
    ASSERT_TRUE(began_hold.ok());
    ASSERT_TRUE(tasks().Find(0)->timer_backlog());
    ASSERT_TRUE(tasks().Find(0)->held(input_.first));
  }

  void FireBacklog() {
    while (tasks().Find(0)->timer_backlog()) ASSERT_TRUE(tasks().FireTimerBacklogs().ok());
  }

  SourcePauses::Released Update() {
    return pauses_.Update(input_switch_, tasks(), held_, driver_->metrics(), 0);
  }

  TaskManager& tasks() { return driver_->task_manager(); }

  Source input_;
  std::string late_;
  FakeSwitch input_switch_;
  HeldRecords held_{0};  // keeps nothing: every held source is paused
  SourcePauses pauses_{"touchpoints", ""};
};

TEST_F(SourcePausesTest, AHeldSourceIsPausedThenResumedAndRewoundToTheRecordItHeldOn) {
  BeginBacklog();
  Update();
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  FireBacklog();
  const SourcePauses::Released released = Update();
  EXPECT_TRUE(input_switch_.paused.empty());
  EXPECT_EQ(input_switch_.sought[input_], 3);
  EXPECT_EQ(released.rewound, std::vector<Source>{input_});
}

TEST_F(SourcePausesTest, TheOutboxsBoundPausesEverySourceAssignedWhileItIsOver) {
  const Source other{input_.first, 1};
  pauses_.SetOutboxFull(input_switch_, true);
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  // Assigned meanwhile: paused at the next call.
  input_switch_.assigned.push_back(other);
  pauses_.SetOutboxFull(input_switch_, true);
  EXPECT_EQ(input_switch_.paused, (std::set<Source>{input_, other}));
  pauses_.SetOutboxFull(input_switch_, false);
  EXPECT_TRUE(input_switch_.paused.empty());
}

TEST_F(SourcePausesTest, ASourceAHoldPausedStaysPausedWhenTheOutboxGetsBackUnderItsBound) {
  BeginBacklog();
  Update();
  pauses_.SetOutboxFull(input_switch_, true);
  Update();
  pauses_.SetOutboxFull(input_switch_, false);
  // Still held: resumed, it would deliver records its task can only drop, to be fetched again.
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  Update();
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  EXPECT_TRUE(input_switch_.sought.empty());
  // Once the hold ends it is resumed and rewound.
  FireBacklog();
  Update();
  EXPECT_TRUE(input_switch_.paused.empty());
  EXPECT_EQ(input_switch_.sought[input_], 3);
}

TEST_F(SourcePausesTest, AHoldThatEndsWhileTheOutboxIsOverItsBoundResumesNothingUntilItIsUnder) {
  BeginBacklog();
  Update();
  pauses_.SetOutboxFull(input_switch_, true);
  FireBacklog();
  Update();
  // The outbox's bound still holds the source.
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  pauses_.SetOutboxFull(input_switch_, false);
  Update();
  EXPECT_TRUE(input_switch_.paused.empty());
  EXPECT_EQ(input_switch_.sought[input_], 3);
}

TEST_F(SourcePausesTest, APartitionAssignedAgainWhileTheOutboxIsOverItsBoundStaysPaused) {
  BeginBacklog();
  Update();
  pauses_.SetOutboxFull(input_switch_, true);
  // Lost and assigned again (its hold goes with the task it had).
  driver_->DropAllPartitions();
  v1::state::PartitionCheckpoint fresh;
  ASSERT_TRUE(tasks().Assign(0, fresh, 2).ok());
  Update();
  EXPECT_EQ(input_switch_.paused, std::set<Source>{input_});
  pauses_.SetOutboxFull(input_switch_, false);
  EXPECT_TRUE(input_switch_.paused.empty());
}

}  // namespace
}  // namespace touchstream
