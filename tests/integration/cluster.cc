#include "tests/integration/cluster.h"

#include <gtest/gtest.h>

#include <iostream>

namespace touchstream::testing {

std::string ConfigYaml(const ClusterConfig& config, const std::string& state_dir) {
  const std::string partitions = std::to_string(config.partitions);
  std::string yaml = "topics:\n  touchpoints: {name: touchpoints, partitions: " + partitions +
                     (config.touchpoints.empty() ? "" : ", " + config.touchpoints) +
                     "}\n"
                     "  triggers: {name: triggers, partitions: 1}\n"
                     "  dead_letter: {name: touchpoints-dlq, partitions: 1}\n";
  if (!config.changelog.empty()) {
    yaml += "  changelog: {name: " + config.changelog + ", partitions: " + partitions + "}\n";
  }
  yaml += "consumer: {group_id: " + config.group_id + "}\n";
  yaml += "processing: {" + config.processing + "}\n";
  if (!config.timers.empty()) yaml += "timers: {" + config.timers + "}\n";
  yaml += "http: {" + config.http + "}\n";
  yaml += "kafka_consumer: {" + config.kafka_consumer + "}\n";
  yaml += config.extra;
  yaml += config.rules;
  yaml += "state: {dir: " + state_dir + (config.state.empty() ? "" : ", " + config.state) + "}\n";
  return yaml;
}

Cluster::Cluster(const TempDir& dir, ClusterConfig config, FaultChannel faults, int brokers)
    : dir_(dir), config_(std::move(config)) {
  const std::string kafka_config = Config("kafka");
  const std::string log_prefix = dir_.path() + "/kafka";
  kafka_ = faults == FaultChannel::kYes
               ? std::make_unique<EmbeddedKafkaProcess>(kafka_config, log_prefix, brokers)
               : std::make_unique<EmbeddedKafkaProcess>(kafka_config, log_prefix);
}

std::string Cluster::Config(const std::string& name) const {
  return WriteConfig(name, name, config_);
}

std::string Cluster::WriteConfig(const std::string& file, const std::string& state,
                                 const ClusterConfig& config) const {
  const std::string root = config.state_root.empty() ? dir_.path() : config.state_root;
  return dir_.Write(file + ".yaml", ConfigYaml(config, root + "/state-" + state));
}

ChildProcess& Cluster::Start(const std::string& name) { return Run(name, Config(name)); }

ChildProcess& Cluster::Run(const std::string& name, const std::string& config_path,
                           const std::vector<std::string>& env) {
  std::vector<std::string> args;
  if (!env.empty()) {
    args.push_back("/usr/bin/env");
    args.insert(args.end(), env.begin(), env.end());
  }
  args.insert(args.end(), {TouchstreamBin(), "run", "--config", config_path, "-X",
                           "bootstrap.servers=" + bootstrap()});
  auto& instance = running_[name];
  instance = std::make_unique<ChildProcess>(
      args, dir_.path() + "/" + name + "-" + std::to_string(launches_++));
  return *instance;
}

void Cluster::Stop(const std::string& name) {
  ChildProcess& instance = *running_.at(name);
  EXPECT_EQ(instance.Stop(), 0) << name << ":\n" << instance.Stderr();
  finished_logs_.push_back(instance.Stderr());
  running_.erase(name);
}

void Cluster::Kill(const std::string& name) {
  running_.at(name)->Kill();
  finished_logs_.push_back(running_.at(name)->Stderr());
  running_.erase(name);
}

bool Cluster::WaitForLog(const std::string& name, const std::string& needle,
                         std::chrono::milliseconds timeout) {
  ChildProcess& instance = *running_.at(name);
  return WaitFor([&] { return instance.Stderr(); }, needle, timeout);
}

void Cluster::Produce(const std::vector<std::pair<std::string, std::string>>& key_values) {
  ProduceRaw(bootstrap(), "touchpoints", key_values);
}

std::vector<Record> Cluster::Consume(const std::string& topic, size_t count,
                                     std::chrono::milliseconds timeout,
                                     std::chrono::milliseconds settle) {
  return ConsumeAll(bootstrap(), topic, count, timeout, settle);
}

std::map<int32_t, std::vector<std::string>> Cluster::ReadInput(size_t count) {
  return ReadPartitions(bootstrap(), "touchpoints", config_.partitions, count);
}

std::string Cluster::AwaitState(const std::string& name, const std::string& expected,
                                std::chrono::seconds timeout,
                                const std::function<bool()>& keep_going) {
  return testing::AwaitState(Config(name), expected, dir_.path() + "/dump", timeout, keep_going);
}

std::vector<Record> Cluster::ExpectOracleFrom(const std::string& last, const Oracle& oracle,
                                              std::chrono::seconds timeout,
                                              const std::function<bool()>& keep_going) {
  const std::string dumped = AwaitState(last, oracle.state, timeout, keep_going);
  const std::vector<Record> output = Consume("triggers", oracle.triggers.size(),
                                             std::chrono::seconds(30), std::chrono::seconds(1));
  Stop(last);
  ExpectInvariants(oracle, output, dumped, dir_.path());
  return output;
}

std::vector<std::pair<std::string, std::string>> Part(
    const std::vector<std::pair<std::string, std::string>>& records, size_t i, size_t parts) {
  const size_t size = records.size() / parts;
  return {records.begin() + i * size,
          i + 1 == parts ? records.end() : records.begin() + (i + 1) * size};
}

::testing::AssertionResult Applied(EmbeddedKafkaProcess& kafka, const std::string& command) {
  const std::string reply = kafka.Control(command);
  std::cout << "fault: " << command << " -> " << reply << std::endl;
  if (reply.rfind("ok", 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << command << "' -> '" << reply << "'";
}

size_t RecordCount(const std::map<int32_t, std::vector<std::string>>& partitions) {
  size_t count = 0;
  for (const auto& [partition, values] : partitions) count += values.size();
  return count;
}

}  // namespace touchstream::testing
