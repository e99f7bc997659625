// `touchstream run`: the processor against Kafka.
#include <iostream>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/run/log.h"
#include "processor/run/service.h"
#include "processor/run/shutdown.h"

extern char** environ;

namespace touchstream {

void AddRunCommand(CLI::App& app, Action* run) {
  struct Options {
    std::string config;
    std::vector<std::string> x;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the processor: consume touchpoints from Kafka, keep customer state in "
             "RocksDB, produce triggers. Stops cleanly on SIGTERM/SIGINT.");
  cmd->add_option("--config", opts->config, "YAML config file")->required();
  cmd->add_option("-X", opts->x,
                  "librdkafka property key=value (repeatable); overrides the config's kafka "
                  "section and TOUCHSTREAM_KAFKA_* environment variables");
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = LoadConfigFile(opts->config);
      ApplyKafkaOverrides(config, environ, opts->x);
      std::atomic<bool>& stop = InstallStopSignals();
      LogInfo("kafka properties:\n" + DescribeKafkaConfig(config.kafka));

      std::vector<std::string> rule_ids;
      for (const auto& rule : config.rules) rule_ids.push_back(rule->id());
      Metrics metrics(config.touchpoints.name, rule_ids);
      if (!config.metrics_listen.empty()) {
        try {
          metrics.Serve(config.metrics_listen);
          LogInfo("serving /metrics on " + config.metrics_listen);
        } catch (const std::exception& e) {
          std::cerr << "touchstream: config error: http.listen: cannot listen on "
                    << config.metrics_listen << ": " << e.what() << "\n";
          return kExitUsage;
        }
      }
      auto service = Service::Create(config, metrics);
      if (!service.ok()) {
        LogError(service.status().message());
        return service.status().code() == Status::Code::kInvalidArgument ? kExitUsage
                                                                         : kExitFailure;
      }
      Status s = (*service)->Run(stop);
      service->reset();
      if (!s.ok()) return kExitFailure;
      LogInfo("stopped cleanly");
      return kExitOk;
    };
  });
}

}  // namespace touchstream
