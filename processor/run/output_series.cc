#include "processor/run/output_series.h"

namespace touchstream {

void CreateOutputSeries(const Config& config, Metrics& metrics) {
  for (const std::string* topic :
       {&config.triggers.name, &config.audit.name, &config.dead_letter.name, &config.changelog.name,
        &config.repartition.name}) {
    metrics.delivery_errors(*topic);
  }
  if (config.exactly_once) metrics.delivery_errors("transaction");  // a failed transaction call
  // What a refused record of each topic becomes (processor/kafka/undeliverable.h).
  for (const std::string* topic : {&config.triggers.name, &config.audit.name,
                                   &config.dead_letter.name, &config.repartition.name}) {
    metrics.records_undeliverable(*topic, "rerouted");
  }
  metrics.records_undeliverable(config.dead_letter.name, "dropped");
  metrics.records_undeliverable(config.changelog.name, "stopped");
}

}  // namespace touchstream
