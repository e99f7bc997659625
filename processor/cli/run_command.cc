// `touchstream run`: the processor against Kafka.
#include <iostream>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/diagnostics/log.h"
#include "processor/http/customer_view.h"
#include "processor/http/http_server.h"
#include "processor/kafka/kafka_conf.h"
#include "processor/metrics/allocator_collector.h"
#include "processor/rules/rule_registry.h"
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
      "run",
      "Run the processor: consume touchpoints from Kafka, keep customer state in "
      "RocksDB, produce triggers. Stops cleanly on SIGTERM/SIGINT.");
  cmd->add_option("--config", opts->config, "YAML config file")->required();
  cmd->add_option("-X", opts->x,
                  "librdkafka property key=value (repeatable); overrides the config's kafka "
                  "section and TOUCHSTREAM_KAFKA_* environment variables");
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = LoadConfigFile(opts->config);
      ApplyKafkaOverrides(config, environ, opts->x);
      if (Status s = CheckKafkaSections({{"kafka", config.kafka},
                                         {"kafka_consumer", config.kafka_consumer},
                                         {"kafka_producer", config.kafka_producer}});
          !s.ok()) {
        throw ConfigError(s.message());
      }
      const RuleSet rules = BuildRuleSet(config.rules);  // a bad rule fails here, exit 2
      std::atomic<bool>& stop = InstallStopSignals();
      LogInfo("allocator: " + DescribeThisAllocator());
      LogInfo("kafka properties:\n" + DescribeKafkaConfig(config.kafka));

      std::vector<std::string> rule_ids;
      for (const auto& rule : rules) rule_ids.push_back(rule->id());
      Metrics metrics(config.touchpoints.name, rule_ids, config.policy.channels.messageable);
      HealthState health;
      std::unique_ptr<HttpServer> http;
      if (!config.metrics_listen.empty()) {
        auto server = HttpServer::Start({config.metrics_listen, config.healthz_max_poll_age_ms,
                                         config.customers_endpoint, config.allocator_endpoint},
                                        metrics, health);
        if (!server.ok()) {
          std::cerr << "touchstream: config error: http.listen: " << server.status().message()
                    << "\n";
          return kExitUsage;
        }
        http = std::move(*server);
        LogInfo("serving /metrics, /healthz, /readyz" +
                std::string(config.customers_endpoint ? ", /customers/{id}" : "") +
                std::string(config.allocator_endpoint ? ", /debug/allocator" : "") + " on " +
                config.metrics_listen);
      }
      auto service = Service::Create(config, rules, metrics, &health, &stop);
      // A stop asked for during start-up ends it with exit 0, however it ended: a wait the stop
      // cut short (kDeadlineExceeded), or one that failed meanwhile (no broker: the topics'
      // check gives up after 10 s).
      if (!service.ok() &&
          (service.status().code() == Status::Code::kDeadlineExceeded || stop.load())) {
        LogWarn("stopped during start-up: " + service.status().message());
        return kExitOk;
      }
      if (!service.ok()) {
        LogError(service.status().message());
        return service.status().code() == Status::Code::kInvalidArgument ? kExitUsage
                                                                         : kExitFailure;
      }
      if (http && config.customers_endpoint) {
        http->SetCustomerLookup(MakeCustomerLookup((*service)->db(), config.policy));
      }
      Status s = (*service)->Run(stop);
      if (http) http->SetCustomerLookup(nullptr);  // before the store closes
      service->reset();
      if (!s.ok()) return kExitFailure;
      LogInfo("stopped cleanly");
      return kExitOk;
    };
  });
}

}  // namespace touchstream
