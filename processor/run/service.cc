#include "processor/run/service.h"

#include "processor/kafka/outbox_relay.h"
#include "processor/kafka/transactional_relay.h"
#include "processor/run/log.h"

namespace touchstream {

StatusOr<std::unique_ptr<Service>> Service::Create(const Config& config, const RuleSet& rules,
                                                   Metrics& metrics, HealthState* health) {
  std::unique_ptr<Service> service(new Service());
  auto db = StateDb::Open(config.state_dir, config.sync_writes);
  if (!db.ok()) return db.status();
  service->db_ = std::move(*db);
  service->health_ = health;
  if (health) health->SetStoreOpen(true);
  KafkaProperties producer_props = config.kafka;
  for (const auto& [key, value] : config.kafka_producer) producer_props[key] = value;
  // Pre-create the delivery error series at zero for the topics the relay produces to.
  metrics.delivery_errors(config.triggers.name);
  metrics.delivery_errors(config.dead_letter.name);
  auto on_failed = [&metrics](const std::string& topic, const std::string& error) {
    metrics.delivery_errors(topic.empty() ? "transaction" : topic).Increment();
    LogWarn((topic.empty() ? "transaction" : "delivery to " + topic) + " failed, will retry: " +
            error);
  };
  if (config.exactly_once) {
    auto relay = TransactionalRelay::Create(producer_props, config.transactional_id,
                                            *service->db_);
    if (!relay.ok()) return relay.status();
    (*relay)->set_on_aborted([&metrics](const std::string& reason) {
      metrics.transactions_aborted().Increment();
      LogWarn("transaction aborted, retrying it: " + reason);
    });
    LogInfo("processing.guarantee: exactly_once (transactional.id " + config.transactional_id +
            ")");
    service->relay_ = std::move(*relay);
  } else {
    auto relay = OutboxRelay::Create(producer_props, *service->db_);
    if (!relay.ok()) return relay.status();
    (*relay)->set_on_recreated([&metrics](const std::string& reason) {
      metrics.producer_fatal_errors().Increment();
      LogError("producer fatal error (" + reason +
               "): replaced the producer; re-sending every unacknowledged outbox record");
    });
    service->relay_ = std::move(*relay);
  }
  service->relay_->set_on_failed(on_failed);
  service->processor_ = std::make_unique<Processor>(config, rules, *service->db_, *service->relay_,
                                                    metrics, service->clock_, health);
  if (Status s = service->processor_->Start(); !s.ok()) return s;
  return service;
}

Service::~Service() {
  processor_.reset();
  relay_.reset();
  if (health_) health_->SetStoreOpen(false);
  db_.reset();
}

}  // namespace touchstream
