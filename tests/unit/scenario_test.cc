// Golden-file scenarios: each directory in tests/scenarios/ holds config.yaml (rules),
// events.jsonl and expected_triggers.jsonl. backtest over the events must print exactly the
// expected triggers. The integration tests run the same scenarios through `run` on Kafka.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

TEST_P(GoldenScenarioTest, BacktestPrintsTheExpectedTriggers) {
  const std::string dir = ScenarioRoot() + "/" + GetParam();
  Config config = LoadConfigFile(dir + "/config.yaml");
  std::ifstream events(dir + "/events.jsonl");
  ASSERT_TRUE(events) << dir;
  std::stringstream out, errors;
  BacktestReport report = RunBacktest(config, events, out, errors, {});
  EXPECT_EQ(report.rejected, 0u) << errors.str();
  const std::string expected = Read(dir + "/expected_triggers.jsonl");
  ASSERT_FALSE(expected.empty()) << "a scenario must expect at least one trigger";
  EXPECT_EQ(out.str(), expected);
}

// The same task behind `run`, record by record with a commit after each, in
// process.
TEST_P(GoldenScenarioTest, TheTestDriverDeliversTheExpectedTriggers) {
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
}

INSTANTIATE_TEST_SUITE_P(Scenarios, GoldenScenarioTest, ::testing::ValuesIn(ScenarioNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace touchstream
