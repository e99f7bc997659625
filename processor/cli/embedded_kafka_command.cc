// `touchstream embedded-kafka`: librdkafka's mock cluster as a separate process.
#include <unistd.h>

#include <iostream>
#include <thread>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/kafka/embedded_kafka.h"
#include "processor/run/log.h"
#include "processor/run/shutdown.h"

namespace touchstream {

void AddEmbeddedKafkaCommand(CLI::App& app, Action* run) {
  struct Options {
    std::string config;
    int brokers = 3;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "embedded-kafka",
      "Start an embedded Kafka cluster (librdkafka's mock cluster) on 127.0.0.1, create the "
      "configured topics, print the bootstrap servers as the first line on stdout, and run "
      "until SIGTERM/SIGINT. For demos and tests, not production.");
  cmd->add_option("--config", opts->config,
                  "YAML config whose topics section names the topics to create (default: "
                  "touchpoints/6, triggers/6, touchpoints-dlq/1)");
  cmd->add_option("--brokers", opts->brokers, "number of brokers")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = opts->config.empty() ? Config{} : LoadConfigFile(opts->config);
      std::atomic<bool>& stop = InstallStopSignals();
      auto kafka = EmbeddedKafka::Start(opts->brokers);
      if (!kafka.ok()) {
        LogError(kafka.status().message());
        return kExitFailure;
      }
      if (Status s = (*kafka)->CreateTopics(config); !s.ok()) {
        LogError(s.message());
        return kExitFailure;
      }
      std::cout << (*kafka)->bootstrap_servers() << std::endl;
      LogInfo("embedded Kafka with " + std::to_string(opts->brokers) + " brokers at " +
              (*kafka)->bootstrap_servers() + "; topics " + config.touchpoints.name + "/" +
              std::to_string(config.touchpoints.partitions) + ", " + config.triggers.name +
              "/" + std::to_string(config.triggers.partitions) + ", " +
              config.dead_letter.name + "/" + std::to_string(config.dead_letter.partitions));
      while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      LogInfo("embedded Kafka stopping");
      return kExitOk;
    };
  });
}

}  // namespace touchstream
