// Golden-file scenarios: each directory in tests/scenarios/ holds config.yaml (rules and
// policies), events.jsonl, expected_triggers.jsonl and expected_audit.jsonl (the policy stage's
// audit records; empty when every trigger went out at once). backtest over the events must print
// exactly the expected triggers and audit records. The integration tests run the same scenarios
// through `run` on Kafka against the same files.
//
// Regenerating a scenario's goldens after an intended change (then read the diff line by line),
// as one command:
//   build/touchstream backtest --config tests/scenarios/S/config.yaml
//     --input tests/scenarios/S/events.jsonl --output tests/scenarios/S/expected_triggers.jsonl
//     --audit-out tests/scenarios/S/expected_audit.jsonl
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "audit.pb.h"
#include "processor/backtest/backtest.h"
#include "processor/json/json_lines.h"
#include "tests/driver/test_driver.h"

namespace touchstream {
namespace {

std::string ScenarioRoot() { return std::string(TOUCHSTREAM_SOURCE_DIR_PATH) + "/tests/scenarios"; }

std::vector<std::string> ScenarioNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(ScenarioRoot())) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class GoldenScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenScenarioTest, BacktestPrintsTheExpectedTriggersAndAudit) {
  const std::string dir = ScenarioRoot() + "/" + GetParam();
  Config config = LoadConfigFile(dir + "/config.yaml");
  std::ifstream events(dir + "/events.jsonl");
  ASSERT_TRUE(events) << dir;
  ASSERT_TRUE(std::filesystem::exists(dir + "/expected_audit.jsonl"))
      << "a scenario states its audit records, if none with an empty file";
  std::stringstream out, audit, errors;
  BacktestOptions options;
  options.audit_out = &audit;
  BacktestReport report = RunBacktest(config, events, out, errors, options);
  EXPECT_EQ(report.rejected, 0u) << errors.str();
  const std::string expected = Read(dir + "/expected_triggers.jsonl");
  ASSERT_FALSE(expected.empty()) << "a scenario must expect at least one trigger";
  EXPECT_EQ(out.str(), expected);
  EXPECT_EQ(audit.str(), Read(dir + "/expected_audit.jsonl"));
}

// The same task behind `run`, record by record with a commit after each, in
// process: the trigger topic and the audit topic.
TEST_P(GoldenScenarioTest, TheTestDriverDeliversTheExpectedTriggersAndAudit) {
  const std::string dir = ScenarioRoot() + "/" + GetParam();
  auto driver = testing::TestDriver::FromYaml(Read(dir + "/config.yaml"));
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  std::ifstream events(dir + "/events.jsonl");
  std::string line;
  std::string out;
  while (std::getline(events, line)) {
    if (IsBlankOrComment(line)) continue;
    for (const v1::Trigger& t : driver->PipeJson(line)) out += ToJsonLine(t) + "\n";
    ASSERT_TRUE(driver->status().ok()) << line << ": " << driver->status().message();
  }
  EXPECT_TRUE(driver->DeadLetters().empty());
  EXPECT_EQ(out, Read(dir + "/expected_triggers.jsonl"));
  std::string audit;
  for (const auto& record : driver->Delivered(driver->config().audit.name)) {
    v1::AuditRecord a;
    ASSERT_TRUE(a.ParseFromString(record.value()));
    EXPECT_EQ(record.key(), a.trigger().customer_id());
    audit += ToJsonLine(a) + "\n";
  }
  EXPECT_EQ(audit, Read(dir + "/expected_audit.jsonl"));
}

INSTANTIATE_TEST_SUITE_P(Scenarios, GoldenScenarioTest, ::testing::ValuesIn(ScenarioNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace touchstream
