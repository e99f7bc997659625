// Commands fail clearly where they cannot do what was asked. `state-dump` and `state-compact`
// exited 0: a dump to a file that cannot be written said nothing and wrote nothing; a compaction
// of a state.dir holding no store (a typo) created an empty store there. `run` named a bad
// librdkafka property of kafka_consumer or kafka_producer as the kafka section's.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

TEST(StateCommandsTest, AStateDumpThatCannotWriteItsOutputFails) {
  TempDir dir;
  const std::string config = dir.Write("config.yaml", "state: {dir: " + dir.path() + "/state}\n");
  {  // A store holding one customer.
    auto db = StateDb::Open(dir.path() + "/state", false);
    ASSERT_TRUE(db.ok()) << db.status().message();
    v1::state::CustomerState amy;
    amy.set_customer_id("amy");
    amy.set_first_seen_ms(1);
    const std::string value = amy.SerializeAsString();
    CommitBatch batch(**db);
    batch.PutCustomerValue(0, "amy", &value);
    ASSERT_TRUE(batch.Commit().ok());
  }
  ChildProcess dump(
      {TouchstreamBin(), "state-dump", "--config", config, "--output", dir.path() + "/dump.jsonl"},
      dir.path() + "/dump");
  ASSERT_EQ(dump.Wait(std::chrono::seconds(30)), 0) << dump.Stderr();
  ChildProcess dump_nowhere({TouchstreamBin(), "state-dump", "--config", config, "--output",
                             dir.path() + "/no/such/dir/dump.jsonl"},
                            dir.path() + "/dump-nowhere");
  EXPECT_EQ(dump_nowhere.Wait(std::chrono::seconds(30)), 1) << dump_nowhere.Stderr();
  ChildProcess dump_full(
      {TouchstreamBin(), "state-dump", "--config", config, "--output", "/dev/full"},
      dir.path() + "/dump-full");
  EXPECT_EQ(dump_full.Wait(std::chrono::seconds(30)), 1) << dump_full.Stderr();
  EXPECT_NE(dump_full.Stderr().find("cannot write /dev/full"), std::string::npos)
      << dump_full.Stderr();
}

TEST(StateCommandsTest, AStateCompactWhereNoStoreIsFailsAndCreatesNothing) {
  TempDir dir;
  const std::string typo = dir.path() + "/stat";
  const std::string config = dir.Write("config.yaml", "state: {dir: " + typo + "}\n");
  ChildProcess compact({TouchstreamBin(), "state-compact", "--config", config},
                       dir.path() + "/compact");
  EXPECT_EQ(compact.Wait(std::chrono::seconds(30)), 1) << compact.Stderr();
  EXPECT_NE(compact.Stderr().find("no state store in " + typo), std::string::npos)
      << compact.Stderr();
  EXPECT_FALSE(std::filesystem::exists(typo)) << "an empty store was created";
}

TEST(RunConfigErrorsTest, ABadLibrdkafkaPropertyIsNamedWithItsSectionAtStartUp) {
  TempDir dir;
  for (const std::string section : {"kafka_consumer", "kafka_producer", "kafka"}) {
    const std::string config = dir.Write(
        section + ".yaml", "state: {dir: " + dir.path() + "/state}\nhttp: {listen: \"\"}\n" +
                               section + ": {no.such.property: 1}\n");
    ChildProcess run({TouchstreamBin(), "run", "--config", config}, dir.path() + "/" + section);
    EXPECT_EQ(run.Wait(std::chrono::seconds(30)), 2) << run.Stderr();
    EXPECT_NE(run.Stderr().find("config error: " + section +
                                ".no.such.property: No such "
                                "configuration property"),
              std::string::npos)
        << run.Stderr();
  }
}

}  // namespace
}  // namespace touchstream::testing
