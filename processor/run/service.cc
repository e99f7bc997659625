#include "processor/run/service.h"

#include "processor/diagnostics/log.h"
#include "processor/kafka/outbox_relay.h"
#include "processor/kafka/transactional_relay.h"
#include "processor/run/output_series.h"
#include "processor/run/producer_properties.h"
#include "state/corrupt_store.h"
#include "state/huge_pages.h"

namespace touchstream {

StatusOr<std::unique_ptr<Service>> Service::Create(const Config& config, const RuleSet& rules,
                                                   Metrics& metrics, HealthState* health,
                                                   const std::atomic<bool>* stop) {
  std::unique_ptr<Service> service(new Service());
  StoreMemory memory{config.block_cache_bytes, config.write_buffer_bytes};
  if (config.memtable_huge_pages) {
    const HugePagePlan plan = PlanMemtableHugePages(ReadHugePageOffer(), config.write_buffer_bytes);
    if (!plan.error.empty()) return Status::InvalidArgument(plan.error);
    if (plan.warning.empty()) {
      LogInfo(plan.info);
    } else {
      LogWarn(plan.warning);
    }
    memory.memtable_huge_page_bytes = plan.page_bytes;
  }
  auto opened = OpenOrMoveAside(config.state_dir, config.sync_writes,
                                std::chrono::system_clock::now(), memory);
  if (!opened.ok()) return opened.status();
  if (opened->moved_aside) {
    metrics.state_rebuilds(StateRebuildReason::kStoreUnopenable).Increment();
    LogError(opened->moved_aside->reason + ": moved the state store aside to " +
             opened->moved_aside->path + " (kept for inspection; delete it when done) and " +
             "opened an empty one: every assigned partition is restored from " +
             config.changelog.name);
  }
  service->db_ = std::move(opened->db);
  service->health_ = health;
  if (health) health->SetStoreOpen(true);
  const KafkaProperties producer_props = RelayProducerProperties(config);
  CreateOutputSeries(config, metrics);
  const UndeliverablePolicy undeliverable{config.dead_letter.name, config.changelog.name};
  // Every topic a relay produces to, known to its producer before the first record.
  const std::vector<std::string> output_topics{config.triggers.name, config.audit.name,
                                               config.dead_letter.name, config.changelog.name,
                                               config.repartition.name};
  auto on_failed = [&metrics](const std::string& topic, const std::string& error) {
    metrics.delivery_errors(topic.empty() ? "transaction" : topic).Increment();
    LogWarn((topic.empty() ? "transaction" : "delivery to " + topic) +
            " failed, will retry: " + error);
  };
  if (!config.privacy.remembers()) {
    LogWarn(
        "privacy.hash_key is not set: erasure requests erase the customer, but the erasure is "
        "not remembered (late events of an erased customer start a new profile) and ERASED audit "
        "records carry no customer hash");
  }
  if (config.exactly_once) {
    auto relay = TransactionalRelay::Create(producer_props, config.transactional_id, *service->db_,
                                            static_cast<int>(config.transaction_call_timeout_ms),
                                            undeliverable, output_topics);
    if (!relay.ok()) return relay.status();
    (*relay)->set_on_aborted([&metrics](const std::string& reason) {
      metrics.transactions_aborted().Increment();
      LogWarn("transaction aborted, retrying it: " + reason);
    });
    LogInfo("processing.guarantee: exactly_once (transactional.id " + config.transactional_id +
            ")");
    service->relay_ = std::move(*relay);
  } else {
    auto relay = OutboxRelay::Create(producer_props, *service->db_, undeliverable, output_topics);
    if (!relay.ok()) return relay.status();
    (*relay)->set_on_recreated([&metrics](const std::string& reason) {
      metrics.producer_fatal_errors().Increment();
      LogError("producer fatal error (" + reason +
               "): replaced the producer; re-sending every unacknowledged "
               "outbox record");
    });
    service->relay_ = std::move(*relay);
  }
  service->relay_->set_on_failed(on_failed);
  // A stop during start-up ends the relay's waits there (Recover's init_transactions).
  service->relay_->WatchStop(stop, std::chrono::milliseconds(config.stop_timeout_ms));
  service->relay_->set_on_undeliverable(
      [&metrics](const std::string& topic, UndeliverableAction action, const std::string& error) {
        const char* what = action == UndeliverableAction::kReroute ? "rerouted"
                           : action == UndeliverableAction::kDrop  ? "dropped"
                                                                   : "stopped";
        metrics.records_undeliverable(topic, what).Increment();
        LogError("a record to " + topic + " was refused for good (" + error + "): " + what);
      });
  service->loop_ =
      std::make_unique<ConsumeLoop>(config, rules, *service->db_, *service->relay_, metrics,
                                    LoopClocks{service->clock_, service->steady_clock_}, health);
  if (Status s = service->loop_->Start(); !s.ok()) return s;
  return service;
}

Service::~Service() {
  loop_.reset();
  relay_.reset();
  if (health_) health_->SetStoreOpen(false);
  db_.reset();
}

}  // namespace touchstream
