#include "processor/metrics/metrics.h"

#include "processor/core/customer_aggregate.h"
#include "processor/metrics/labels.h"

#ifndef TOUCHSTREAM_VERSION
#define TOUCHSTREAM_VERSION "dev"
#endif
#ifndef TOUCHSTREAM_REVISION
#define TOUCHSTREAM_REVISION "unknown"
#endif

namespace touchstream {

Metrics::Metrics(const std::string& consume_topic, const std::vector<std::string>& rule_ids,
                 const std::vector<v1::Channel>& channels)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;

  BuildGauge()
      .Name("touchstream_build_info")
      .Help("Build of the running touchstream; always 1")
      .Register(*registry_)
      .Add({{"version", TOUCHSTREAM_VERSION}, {"revision", TOUCHSTREAM_REVISION}})
      .Set(1);

  records_consumed_ = &BuildCounter()
                           .Name("touchstream_records_consumed_total")
                           .Help("Records consumed from Kafka, valid or not")
                           .Register(*registry_)
                           .Add({{"topic", consume_topic}});
  records_repartitioned_ =
      &BuildCounter()
           .Name("touchstream_records_repartitioned_total")
           .Help(
               "Valid events read from an input partition that does not own their customer, "
               "forwarded to the owner through the repartition topic")
           .Register(*registry_)
           .Add({});
  repartition_wait_timeouts_ =
      &BuildCounter()
           .Name("touchstream_repartition_wait_timeouts_total")
           .Help(
               "Times a partition's input stopped waiting for its repartition source after "
               "processing.max_repartition_wait: forwarded events may then be applied late")
           .Register(*registry_)
           .Add({});

  events_processed_family_ = &BuildCounter()
                                  .Name("touchstream_events_processed_total")
                                  .Help("Valid events applied, by type and channel")
                                  .Register(*registry_);
  for (int t = 1; v1::EventType_IsValid(t); ++t) {
    for (int c = 1; v1::Channel_IsValid(c); ++c) {
      const auto channel = static_cast<v1::Channel>(c);
      events_processed_[{t, c}] = &events_processed_family_->Add(
          {{"type", EventTypeLabel(static_cast<v1::EventType>(t))},
           {"channel", ChannelLabel(channel)},
           {"offline", IsOfflineChannel(channel) ? "true" : "false"}});
    }
  }

  auto& invalid = BuildCounter()
                      .Name("touchstream_events_invalid_total")
                      .Help("Records sent to the dead-letter topic, by reason")
                      .Register(*registry_);
  for (RejectReason r : kAllRejectReasons) {
    events_invalid_[r] = &invalid.Add({{"reason", RejectReasonName(r)}});
  }

  triggers_family_ = &BuildCounter()
                          .Name("touchstream_triggers_emitted_total")
                          .Help("Triggers committed to the outbox, by rule and type")
                          .Register(*registry_);
  triggers_ = std::make_unique<RuleCounters>(
      *triggers_family_, v1::TriggerType_ARRAYSIZE, 1, [](const std::string& rule, int type, int) {
        return prometheus::Labels{{"rule", rule},
                                  {"type", TriggerLabel(static_cast<v1::TriggerType>(type))}};
      });
  for (const std::string& rule : rule_ids) {
    for (int t = 1; v1::TriggerType_IsValid(t); ++t) {
      triggers_->Get(rule, t);
    }
  }

  delivery_errors_family_ = &BuildCounter()
                                 .Name("touchstream_producer_delivery_errors_total")
                                 .Help("Failed deliveries of outbox records (each is retried)")
                                 .Register(*registry_);

  undeliverable_family_ = &BuildCounter()
                               .Name("touchstream_records_undeliverable_total")
                               .Help(
                                   "Outbox records Kafka refused for good (e.g. too large), by "
                                   "destination topic and action: rerouted to the dead-letter "
                                   "topic, dropped (a refused dead letter), stopped (changelog)")
                               .Register(*registry_);

  input_rewinds_family_ =
      &BuildCounter()
           .Name("touchstream_input_rewinds_total")
           .Help(
               "Times a source partition was rewound to its next offset after its records were "
               "held (a timer backlog, a repartition wait): the consumer fetches again what it "
               "had read past that offset")
           .Register(*registry_);
  input_rewinds_family_->Add({{"topic", consume_topic}});  // at zero from start-up
  input_kept_family_ =
      &BuildCounter()
           .Name("touchstream_input_records_kept_total")
           .Help(
               "Records a held source partition delivered (a timer backlog, a repartition wait), "
               "kept in memory and applied once the hold ended, not fetched again "
               "(processing.max_held_bytes)")
           .Register(*registry_);
  input_kept_family_->Add({{"topic", consume_topic}});  // at zero from start-up
  records_fetched_family_ =
      &BuildCounter()
           .Name("touchstream_records_fetched_total")
           .Help(
               "Records the group consumer fetched from the brokers (librdkafka's statistics, "
               "every statistics.interval.ms): the records consumed plus those fetched again "
               "after a rewind or a rebalance")
           .Register(*registry_);
  records_fetched_family_->Add({{"topic", consume_topic}});  // at zero from start-up
  input_kept_bytes_ = &BuildGauge()
                           .Name("touchstream_input_kept_bytes")
                           .Help(
                               "Bytes of the records held source partitions delivered, kept in "
                               "memory until their hold ends, as processing.max_held_bytes "
                               "counts them (each record's bytes plus 256)")
                           .Register(*registry_)
                           .Add({});
  consumer_queued_bytes_ = &BuildGauge()
                                .Name("touchstream_consumer_queued_bytes")
                                .Help(
                                    "Bytes the group consumer holds prefetched and not yet "
                                    "consumed, all partitions (librdkafka's statistics)")
                                .Register(*registry_)
                                .Add({});

  producer_fatal_errors_ = &BuildCounter()
                                .Name("touchstream_producer_fatal_errors_total")
                                .Help(
                                    "Fatal producer errors; each replaced the producer and "
                                    "re-sent every unacknowledged outbox record")
                                .Register(*registry_)
                                .Add({});
  transactions_aborted_ = &BuildCounter()
                               .Name("touchstream_transactions_aborted_total")
                               .Help("exactly_once: transactions aborted and retried")
                               .Register(*registry_)
                               .Add({});
  state_writes_paused_ = &BuildGauge()
                              .Name("touchstream_state_writes_paused")
                              .Help(
                                  "1 while processing is paused because the state "
                                  "filesystem has less than state.min_free_bytes free")
                              .Register(*registry_)
                              .Add({});
  state_disk_pauses_ = &BuildCounter()
                            .Name("touchstream_state_disk_pauses_total")
                            .Help("Times processing paused for lack of state disk space")
                            .Register(*registry_)
                            .Add({});

  commit_duration_ =
      &BuildHistogram()
           .Name("touchstream_commit_duration_seconds")
           .Help("Time to build and write one commit batch")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  commit_batch_events_ =
      &BuildHistogram()
           .Name("touchstream_commit_batch_events")
           .Help("Records per commit batch")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 1000, 5000, 10000, 50000});
  state_cache_bytes_ = &BuildGauge()
                            .Name("touchstream_state_cache_bytes")
                            .Help(
                                "Estimated memory of the customer states in the write-back "
                                "cache, all partitions (state.cache_bytes bounds it)")
                            .Register(*registry_)
                            .Add({});
  input_paused_ = &BuildGauge()
                       .Name("touchstream_input_paused")
                       .Help(
                           "1 while input is paused because too many outbox records wait for "
                           "Kafka's acknowledgement (processing.max_outbox_records/bytes)")
                       .Register(*registry_)
                       .Add({});
  timers_popped_ = &BuildCounter()
                        .Name("touchstream_timers_popped_total")
                        .Help(
                            "Timer index entries popped as their due time passed: fired, re-armed "
                            "at a later due time, or dropped as stale")
                        .Register(*registry_)
                        .Add({});
  timers_rearmed_ = &BuildCounter()
                         .Name("touchstream_timers_rearmed_total")
                         .Help(
                             "Of the timer index entries popped, those re-armed at their rule's "
                             "later due time (an entry stays put when events postpone its timer)")
                         .Register(*registry_)
                         .Add({});
  state_store_reads_ = &BuildCounter()
                           .Name("touchstream_state_store_reads_total")
                           .Help(
                               "Reads of the state store (RocksDB) for customers not in the "
                               "write-back cache, found or not: against the events applied, how "
                               "well state.cache_bytes holds the working set")
                           .Register(*registry_)
                           .Add({});
  timer_chunks_ = &BuildCounter()
                       .Name("touchstream_timer_chunks_total")
                       .Help(
                           "Chunks of due timers fired for a partition whose backlog exceeded "
                           "processing.max_timers_per_step, with polls and commits in between")
                       .Register(*registry_)
                       .Add({});
  timer_backlog_partitions_ =
      &BuildGauge()
           .Name("touchstream_timer_backlog_partitions")
           .Help("Partitions paused while their backlog of due timers is fired in chunks")
           .Register(*registry_)
           .Add({});
  outbox_pending_ = &BuildGauge()
                         .Name("touchstream_outbox_pending")
                         .Help("Outbox records produced but not yet acknowledged")
                         .Register(*registry_)
                         .Add({});
  assigned_partitions_ = &BuildGauge()
                              .Name("touchstream_assigned_partitions")
                              .Help("Input partitions assigned to this instance")
                              .Register(*registry_)
                              .Add({});
  rebalances_ = &BuildCounter()
                     .Name("touchstream_rebalances_total")
                     .Help("Consumer group rebalances seen by this instance")
                     .Register(*registry_)
                     .Add({});
  restore_records_ = &BuildCounter()
                          .Name("touchstream_restore_records_total")
                          .Help("Changelog records read to restore assigned partitions")
                          .Register(*registry_)
                          .Add({});
  restoring_partitions_ = &BuildGauge()
                               .Name("touchstream_restoring_partitions")
                               .Help("Assigned partitions being restored from the changelog")
                               .Register(*registry_)
                               .Add({});
  restore_duration_ = &BuildHistogram()
                           .Name("touchstream_restore_duration_seconds")
                           .Help("Time to bring one assigned partition up to its changelog")
                           .Register(*registry_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{
                                        0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900});
  assignment_restore_duration_ =
      &BuildHistogram()
           .Name("touchstream_assignment_restore_duration_seconds")
           .Help("Time to bring every partition of one assignment up to its changelog "
                 "(state.restore_threads partitions at a time)")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30,
                                                            60, 300, 900});
  retention_gaps_ = &BuildCounter()
                         .Name("touchstream_input_retention_gaps_total")
                         .Help(
                             "Input partitions whose stored offset had been deleted by "
                             "retention (processing.on_retention_gap decides what follows)")
                         .Register(*registry_)
                         .Add({});
  auto& rebuilds = BuildCounter()
                       .Name("touchstream_state_rebuilds_total")
                       .Help(
                           "Local state dropped as corrupt and rebuilt from the changelog: "
                           "store_unopenable (the store moved aside), corrupt_checkpoint and "
                           "corrupt_state (one partition each); changelog_without_commit: a "
                           "partition restored from a changelog holding no provable commit")
                       .Register(*registry_);
  for (const auto& [reason, label] :
       {std::pair{StateRebuildReason::kStoreUnopenable, "store_unopenable"},
        std::pair{StateRebuildReason::kCorruptCheckpoint, "corrupt_checkpoint"},
        std::pair{StateRebuildReason::kCorruptState, "corrupt_state"},
        std::pair{StateRebuildReason::kChangelogWithoutCommit, "changelog_without_commit"}}) {
    state_rebuilds_[reason] = &rebuilds.Add({{"reason", label}});
  }
  watermark_family_ = &BuildGauge()
                           .Name("touchstream_partition_watermark_seconds")
                           .Help("Event-time watermark of each assigned input partition")
                           .Register(*registry_);
  events_deduplicated_ = &BuildCounter()
                              .Name("touchstream_events_deduplicated_total")
                              .Help("Valid events skipped because their event_id was seen")
                              .Register(*registry_)
                              .Add({});
  events_dropped_erased_ =
      &BuildCounter()
           .Name("touchstream_events_dropped_total")
           .Help(
               "Valid events dropped unprocessed and not dead-lettered, by reason (erased: the "
               "customer was erased after the event's time, within privacy.erasure_memory)")
           .Register(*registry_)
           .Add({{"reason", "erased"}});
  auto& trimmed = BuildCounter()
                      .Name("touchstream_state_trimmed_total")
                      .Help(
                          "Entries of customer states (cart lines, browsed skus, remembered "
                          "event ids) trimmed to the per-customer limits, by limit")
                      .Register(*registry_);
  for (TrimReason r : kAllTrimReasons) {
    state_trimmed_[static_cast<int>(r)] = &trimmed.Add({{"reason", TrimReasonName(r)}});
  }
  processing_latency_ =
      &BuildHistogram()
           .Name("touchstream_processing_latency_seconds")
           .Help("Poll of a record to the commit of its effects")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  const prometheus::Histogram::BucketBoundaries delay_buckets{
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
  event_to_trigger_latency_ =
      &BuildHistogram()
           .Name("touchstream_event_to_trigger_latency_seconds")
           .Help("Event time of the causing event to the trigger committed to the outbox")
           .Register(*registry_)
           .Add({}, delay_buckets);
  timer_fire_delay_ = &BuildHistogram()
                           .Name("touchstream_timer_fire_delay_seconds")
                           .Help("Due time of a timer to its trigger committed to the outbox")
                           .Register(*registry_)
                           .Add({}, delay_buckets);
  lag_family_ = &BuildGauge()
                     .Name("touchstream_consumer_lag_records")
                     .Help("Log end offset minus next offset to process, per assigned partition")
                     .Register(*registry_);
  max_event_time_family_ = &BuildGauge()
                                .Name("touchstream_partition_max_event_time_seconds")
                                .Help("Latest event time processed, per assigned partition")
                                .Register(*registry_);
  store_ = std::make_unique<StoreMetrics>(*registry_);
  policy_ = std::make_unique<PolicyMetrics>(*registry_, rule_ids, channels);
  process_ = std::make_shared<ProcessCollector>();
  allocator_ = std::make_shared<AllocatorCollector>();
}

prometheus::Counter& Metrics::events_processed(v1::EventType type, v1::Channel channel) {
  return *events_processed_.at({type, channel});
}

prometheus::Counter& Metrics::state_trimmed(TrimReason reason) {
  return *state_trimmed_[static_cast<int>(reason)];
}

prometheus::Counter& Metrics::events_invalid(RejectReason reason) {
  return *events_invalid_.at(reason);
}

prometheus::Counter& Metrics::triggers_emitted(const std::string& rule_id, v1::TriggerType type) {
  return triggers_->Get(rule_id, type);
}

prometheus::Counter& Metrics::state_rebuilds(StateRebuildReason reason) {
  return *state_rebuilds_.at(reason);
}

prometheus::Counter& Metrics::records_undeliverable(const std::string& topic,
                                                    const std::string& action) {
  return undeliverable_family_->Add({{"topic", topic}, {"action", action}});
}

prometheus::Counter& Metrics::input_rewinds(const std::string& topic) {
  return input_rewinds_family_->Add({{"topic", topic}});
}

prometheus::Counter& Metrics::input_records_kept(const std::string& topic) {
  return input_kept_family_->Add({{"topic", topic}});
}

prometheus::Counter& Metrics::records_fetched(const std::string& topic) {
  return records_fetched_family_->Add({{"topic", topic}});
}

prometheus::Counter& Metrics::delivery_errors(const std::string& topic) {
  return delivery_errors_family_->Add({{"topic", topic}});
}

prometheus::Gauge& Metrics::watermark_seconds(int32_t partition) {
  return watermark_family_->Add({{"partition", std::to_string(partition)}});
}

prometheus::Gauge& Metrics::consumer_lag(int32_t partition) {
  return lag_family_->Add({{"partition", std::to_string(partition)}});
}

prometheus::Gauge& Metrics::max_event_time_seconds(int32_t partition) {
  return max_event_time_family_->Add({{"partition", std::to_string(partition)}});
}

void Metrics::RemovePartition(int32_t partition) {
  const prometheus::Labels labels{{"partition", std::to_string(partition)}};
  for (auto* family : {watermark_family_, lag_family_, max_event_time_family_}) {
    if (family->Has(labels)) family->Remove(&family->Add(labels));
  }
}

}  // namespace touchstream
