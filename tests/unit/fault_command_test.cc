#include "processor/embedded/fault_command.h"

#include <gtest/gtest.h>

#include <map>

#include "processor/core/partition_name.h"

namespace touchstream {
namespace {

// "kind field=value ..." with only the fields the kind uses, or "error: <reason>".
std::string Show(std::string_view line) {
  auto parsed = ParseFaultCommand(line);
  if (!parsed.ok()) return "error: " + parsed.status().message();
  const FaultCommand& c = *parsed;
  const std::string broker = " broker=" + std::to_string(c.broker_id);
  const std::string api = std::string(" api=") + c.api.name + "/" + std::to_string(c.api.key);
  const std::string error = " error=" + FaultErrorName(c.error);
  const std::string count = " count=" + std::to_string(c.count);
  const std::string delay = " ms=" + std::to_string(c.delay_ms);
  using Kind = FaultCommand::Kind;
  switch (c.kind) {
    case Kind::kHelp:
      return "help";
    case Kind::kBrokerDown:
      return "broker-down" + broker;
    case Kind::kBrokerUp:
      return "broker-up" + broker;
    case Kind::kLeader:
      return "leader " + PartitionName(c.topic, c.partition) + broker;
    case Kind::kCoordinator:
      return "coordinator " + c.key_type + " " + c.key + broker;
    case Kind::kRtt:
      return "rtt" + broker + delay;
    case Kind::kErrors:
      return "errors" + api + error + count;
    case Kind::kErrorsRtt:
      return "errors-rtt" + broker + api + error + delay + count;
    case Kind::kClearErrors:
      return "clear-errors" + api;
    case Kind::kPendingErrors:
      return "pending-errors" + broker + api;
  }
  return "?";
}

TEST(FaultCommandTest, ParsesEveryCommand) {
  EXPECT_EQ(Show("help"), "help");
  EXPECT_EQ(Show("broker-down 2"), "broker-down broker=2");
  EXPECT_EQ(Show("broker-up 3"), "broker-up broker=3");
  EXPECT_EQ(Show("broker-down all"), "broker-down broker=-1");
  EXPECT_EQ(Show("leader touchpoints 4 1"), "leader touchpoints/4 broker=1");
  EXPECT_EQ(Show("leader triggers 0 none"), "leader triggers/0 broker=-1");
  EXPECT_EQ(Show("coordinator group touchstream 3"), "coordinator group touchstream broker=3");
  EXPECT_EQ(Show("coordinator transaction tx-1 1"), "coordinator transaction tx-1 broker=1");
  EXPECT_EQ(Show("rtt 2 250"), "rtt broker=2 ms=250");
  EXPECT_EQ(Show("rtt all 0"), "rtt broker=-1 ms=0");
  EXPECT_EQ(Show("errors Produce NOT_LEADER_FOR_PARTITION"),
            "errors api=Produce/0 error=NOT_LEADER_FOR_PARTITION count=1");
  EXPECT_EQ(Show("errors Heartbeat NOT_COORDINATOR 5"),
            "errors api=Heartbeat/12 error=NOT_COORDINATOR count=5");
  EXPECT_EQ(Show("errors-rtt 1 Produce REQUEST_TIMED_OUT 800 3"),
            "errors-rtt broker=1 api=Produce/0 error=REQUEST_TIMED_OUT ms=800 count=3");
  EXPECT_EQ(Show("errors-rtt 2 Fetch NO_ERROR 300"),
            "errors-rtt broker=2 api=Fetch/1 error=NO_ERROR ms=300 count=1");
  EXPECT_EQ(Show("clear-errors"), "clear-errors api=/-1");
  EXPECT_EQ(Show("clear-errors OffsetCommit"), "clear-errors api=OffsetCommit/8");
  EXPECT_EQ(Show("pending-errors 3 JoinGroup"), "pending-errors broker=3 api=JoinGroup/11");
}

TEST(FaultCommandTest, NamesAreCaseInsensitiveAndSpacingIsFree) {
  EXPECT_EQ(Show("  BROKER-DOWN\t2  \r"), "broker-down broker=2");
  EXPECT_EQ(Show("Errors produce not_leader_for_partition 2"),
            "errors api=Produce/0 error=NOT_LEADER_FOR_PARTITION count=2");
  EXPECT_EQ(Show("errors findcoordinator RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE"),
            "errors api=FindCoordinator/10 error=COORDINATOR_NOT_AVAILABLE count=1");
  // Kafka's newer name for error 6.
  EXPECT_EQ(Show("errors Fetch NOT_LEADER_OR_FOLLOWER"),
            "errors api=Fetch/1 error=NOT_LEADER_FOR_PARTITION count=1");
  EXPECT_EQ(Show("errors Metadata _transport"), "errors api=Metadata/3 error=_TRANSPORT count=1");
  // Topic and group names keep their case.
  EXPECT_EQ(Show("leader Touch.Points 0 1"), "leader Touch.Points/0 broker=1");
}

TEST(FaultCommandTest, ApiKeysAreTheKafkaProtocolOnes) {
  std::map<std::string, int> keys;
  for (const FaultableApi& api : FaultableApis()) keys[api.name] = api.key;
  const std::map<std::string, int> expected = {
      {"Produce", 0},         {"Fetch", 1},      {"ListOffsets", 2},  {"Metadata", 3},
      {"OffsetCommit", 8},    {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},      {"LeaveGroup", 13}, {"SyncGroup", 14},   {"InitProducerId", 22},
      {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26}, {"TxnOffsetCommit", 28}};
  EXPECT_EQ(keys, expected);
}

TEST(FaultCommandTest, EveryBrokerErrorNameRoundTrips) {
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  size_t checked = 0;
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name == nullptr || descs[i].code <= 0) continue;
    auto parsed = ParseFaultCommand(std::string("errors Produce ") + descs[i].name);
    ASSERT_TRUE(parsed.ok()) << descs[i].name << ": " << parsed.status().message();
    EXPECT_EQ(parsed->error, descs[i].code) << descs[i].name;
    ++checked;
  }
  EXPECT_GT(checked, 50u);
}

TEST(FaultCommandTest, RejectsGarbageWithAReason) {
  EXPECT_EQ(Show(""), "error: empty command (try 'help')");
  EXPECT_EQ(Show(" \t "), "error: empty command (try 'help')");
  EXPECT_EQ(Show("reboot 1"), "error: unknown command 'reboot' (try 'help')");
  EXPECT_EQ(Show("help me"), "error: usage: help");
  EXPECT_EQ(Show("broker-down"), "error: usage: broker-down <broker-id|all>");
  EXPECT_EQ(Show("broker-up 1 2"), "error: usage: broker-up <broker-id|all>");
  EXPECT_EQ(Show("broker-down two"),
            "error: broker id: 'two' is not an integer (or 'all')");
  EXPECT_EQ(Show("broker-down 0"),
            "error: broker id: 0 is out of range [1, 2147483647] (or 'all')");
  EXPECT_EQ(Show("broker-down 99999999999"),
            "error: broker id: 99999999999 is out of range [1, 2147483647] (or 'all')");
  EXPECT_EQ(Show("leader touchpoints -1 2"),
            "error: partition: -1 is out of range [0, 2147483647]");
  EXPECT_EQ(Show("leader touchpoints 0 all"),
            "error: broker id: 'all' is not an integer (or 'none')");
  EXPECT_EQ(Show("coordinator consumer g 1"),
            "error: coordinator type must be 'group' or 'transaction', not 'consumer'");
  EXPECT_EQ(Show("coordinator group g"),
            "error: usage: coordinator group|transaction <id> <broker-id>");
  EXPECT_EQ(Show("coordinator group g none"), "error: broker id: 'none' is not an integer");
  EXPECT_EQ(Show("rtt 1 5ms"), "error: ms: '5ms' is not an integer");
  EXPECT_EQ(Show("rtt 1 3600001"), "error: ms: 3600001 is out of range [0, 3600000]");
  EXPECT_EQ(Show("errors Produce NO_ERROR"),
            "error: NO_ERROR injects nothing; use errors-rtt to delay responses without an error");
  EXPECT_EQ(Show("errors Produce NOT_LEADER_FOR_PARTITION 0"),
            "error: count: 0 is out of range [1, 100000]");
  EXPECT_EQ(Show("errors Produce _BAD_MSG"),
            "error: error _BAD_MSG is librdkafka-internal, no broker returns it (only "
            "_TRANSPORT, a disconnect, is)");
  EXPECT_EQ(Show("errors-rtt 1 Produce NO_ERROR"),
            "error: usage: errors-rtt <broker-id> <api> <error> <ms> [count]");
  EXPECT_EQ(Show("pending-errors all Produce"), "error: broker id: 'all' is not an integer");
  EXPECT_EQ(Show("broker-down 1\x01"), "error: broker id: '1\x01' is not an integer (or 'all')");
}

TEST(FaultCommandTest, UnknownNamesListWhatIsAccepted) {
  const std::string api = Show("errors Prodcue NOT_LEADER_FOR_PARTITION");
  EXPECT_EQ(api.rfind("error: unknown API 'Prodcue' (one of: Produce, Fetch,", 0), 0u) << api;
  const std::string err = Show("errors Produce NOT_A_LEADER");
  EXPECT_EQ(err.rfind("error: unknown error name 'NOT_A_LEADER' (a Kafka error name such as", 0),
            0u)
      << err;
  // The first bad word is the one reported.
  EXPECT_EQ(Show("errors-rtt 0 Nope NOPE x"),
            "error: broker id: 0 is out of range [1, 2147483647]");
}

TEST(FaultCommandTest, UsageNamesEveryCommandAndTheSummaryIsOneLine) {
  const std::string usage = FaultCommandUsage();
  const std::string summary = FaultCommandSummary();
  for (const char* verb : {"broker-down", "broker-up", "leader", "coordinator", "rtt", "errors",
                           "errors-rtt", "clear-errors", "pending-errors", "help"}) {
    const std::string line = std::string("  ") + verb;
    EXPECT_TRUE(usage.find(line + " ") != std::string::npos ||
                usage.find(line + ":") != std::string::npos)
        << verb;
    EXPECT_NE(summary.find(verb), std::string::npos) << verb;
  }
  EXPECT_EQ(summary.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace touchstream
