// Prometheus metrics of the processor (prefix touchstream_, base units, counters end in
// _total, bounded labels only: never a customer id). Series are created at start-up so they
// exist at zero. Served on /metrics by processor/http/http_server.h.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "processor/core/event_validator.h"
#include "processor/core/state_limits.h"
#include "processor/metrics/policy_metrics.h"
#include "processor/metrics/allocator_collector.h"
#include "processor/metrics/process_collector.h"
#include "processor/metrics/rule_counters.h"
#include "processor/metrics/store_metrics.h"
#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace touchstream {

// Why local state was dropped and rebuilt from the changelog (README, "Corrupt local state").
enum class StateRebuildReason {
  kStoreUnopenable,    // RocksDB would not open the store: moved aside, one count per store
  kCorruptCheckpoint,  // an assigned partition's checkpoint did not parse: one per partition
  kCorruptState,       // a customer state (or timer key) read while processing: one per partition
  // The changelog held records but no commit a restore can prove (no fence of their writer): the
  // partition starts from its local state, or empty. One per partition restored so.
  kChangelogWithoutCommit,
};

// Safe for concurrent use (prometheus-cpp metrics are atomic).
class Metrics {
 public:
  // `rule_ids` pre-create the per-rule trigger series; `channels` (the messageable ones,
  // channels.messageable) the per-channel series of sent triggers.
  Metrics(const std::string& consume_topic, const std::vector<std::string>& rule_ids,
          const std::vector<v1::Channel>& channels = {});

  // Records consumed from the input topic (not the repartition topic), valid or not.
  prometheus::Counter& records_consumed() { return *records_consumed_; }
  // Valid events forwarded to the partition that owns their customer (the repartition stage).
  prometheus::Counter& records_repartitioned() { return *records_repartitioned_; }
  // Repartition holds that ended by processing.max_repartition_wait, not by the source catching
  // up (PartitionTask::WaitsForRepartition).
  prometheus::Counter& repartition_wait_timeouts() { return *repartition_wait_timeouts_; }
  prometheus::Counter& events_processed(v1::EventType type, v1::Channel channel);
  prometheus::Counter& events_invalid(RejectReason reason);
  prometheus::Counter& triggers_emitted(const std::string& rule_id, v1::TriggerType type);
  prometheus::Counter& delivery_errors(const std::string& topic);
  // Records Kafka refused for good (processor/kafka/undeliverable.h), by the topic they were
  // going to and what became of them: rerouted (to the dead-letter topic), dropped, stopped.
  prometheus::Counter& records_undeliverable(const std::string& topic, const std::string& action);
  // Held records read again: a source rewound to its next offset after a hold (a timer backlog,
  // a repartition wait), by source topic (processor/run/source_pauses.h).
  prometheus::Counter& input_rewinds(const std::string& topic);
  prometheus::Counter& input_records_kept(const std::string& topic);
  // The records kept now (processor/run/held_records.h), as their bound counts them.
  prometheus::Gauge& input_kept_bytes() { return *input_kept_bytes_; }
  // From the group consumer's statistics (processor/run/consumer_events.h): records fetched, by
  // source topic, and the bytes prefetched now.
  prometheus::Counter& records_fetched(const std::string& topic);
  prometheus::Gauge& consumer_queued_bytes() { return *consumer_queued_bytes_; }
  prometheus::Counter& producer_fatal_errors() { return *producer_fatal_errors_; }
  prometheus::Counter& transactions_aborted() { return *transactions_aborted_; }
  // The state-disk reserve (state.min_free_bytes): 1 while paused; pauses so far.
  prometheus::Gauge& state_writes_paused() { return *state_writes_paused_; }
  prometheus::Counter& state_disk_pauses() { return *state_disk_pauses_; }
  prometheus::Histogram& commit_duration() { return *commit_duration_; }
  prometheus::Histogram& commit_batch_events() { return *commit_batch_events_; }
  prometheus::Gauge& outbox_pending() { return *outbox_pending_; }
  // 1 while input is paused for the outbox backlog (processing.max_outbox_*), else 0.
  prometheus::Gauge& input_paused() { return *input_paused_; }
  // The write-back cache's estimated bytes (state/partition_state.h), sampled once a second.
  prometheus::Gauge& state_cache_bytes() { return *state_cache_bytes_; }
  // Timer backlogs (processing.max_timers_per_step): chunks fired after the first, and the
  // partitions paused until theirs is fired.
  prometheus::Counter& timer_chunks() { return *timer_chunks_; }
  // Timer index entries popped, and of them lagging entries re-armed (core/rule_timer.h).
  prometheus::Counter& timers_popped() { return *timers_popped_; }
  prometheus::Counter& timers_rearmed() { return *timers_rearmed_; }
  // Reads of the state store for customers not in the write-back cache (state.cache_bytes).
  prometheus::Counter& state_store_reads() { return *state_store_reads_; }
  prometheus::Gauge& timer_backlog_partitions() { return *timer_backlog_partitions_; }
  prometheus::Gauge& assigned_partitions() { return *assigned_partitions_; }
  prometheus::Counter& rebalances() { return *rebalances_; }
  // Changelog restores: records read, partitions being restored, time per partition.
  prometheus::Counter& restore_records() { return *restore_records_; }
  prometheus::Gauge& restoring_partitions() { return *restoring_partitions_; }
  prometheus::Histogram& restore_duration() { return *restore_duration_; }
  // From an assignment to every partition it brought restored (state.restore_threads at once).
  prometheus::Histogram& assignment_restore_duration() { return *assignment_restore_duration_; }
  // Local state dropped and rebuilt from the changelog, by reason.
  prometheus::Counter& state_rebuilds(StateRebuildReason reason);
  // Assigned partitions whose stored offset was below the earliest offset still in Kafka.
  prometheus::Counter& retention_gaps() { return *retention_gaps_; }
  prometheus::Gauge& watermark_seconds(int32_t partition);
  prometheus::Counter& events_deduplicated() { return *events_deduplicated_; }
  // Valid events dropped unprocessed, never dead-lettered: reason="erased" (the erasure memory,
  // core/erasure_memory.h).
  prometheus::Counter& events_dropped_erased() { return *events_dropped_erased_; }
  // Customer state entries trimmed to the limits (core/state_limits.h), by the limit.
  prometheus::Counter& state_trimmed(TrimReason reason);
  // Poll of a record -> the commit that made its effects durable.
  prometheus::Histogram& processing_latency() { return *processing_latency_; }
  // Event time of the causing event -> trigger committed to the outbox (event-caused only).
  prometheus::Histogram& event_to_trigger_latency() { return *event_to_trigger_latency_; }
  // Due time -> timer-fired trigger committed to the outbox.
  prometheus::Histogram& timer_fire_delay() { return *timer_fire_delay_; }

  // Per assigned input partition: log end offset minus the next offset to process, and the
  // max event time processed. Created on assignment, removed on revocation (another instance
  // then reports the partition).
  prometheus::Gauge& consumer_lag(int32_t partition);
  prometheus::Gauge& max_event_time_seconds(int32_t partition);
  void RemovePartition(int32_t partition);

  // RocksDB and state-disk gauges, sampled by the consume thread.
  StoreMetrics& store() { return *store_; }
  // What the policy stage decided: sent, suppressed, deferred, holdout, deferrals pending.
  PolicyMetrics& policy() { return *policy_; }

  // Everything to serialize on /metrics: the registry, the process and allocator collectors.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const {
    return {registry_, process_, allocator_};
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;

  prometheus::Counter* records_consumed_;
  prometheus::Counter* records_repartitioned_;
  prometheus::Counter* repartition_wait_timeouts_;
  prometheus::Family<prometheus::Counter>* events_processed_family_;
  std::map<std::pair<int, int>, prometheus::Counter*> events_processed_;
  std::map<RejectReason, prometheus::Counter*> events_invalid_;
  prometheus::Family<prometheus::Counter>* triggers_family_;
  std::unique_ptr<RuleCounters> triggers_;  // of triggers_family_
  prometheus::Family<prometheus::Counter>* delivery_errors_family_;
  prometheus::Family<prometheus::Counter>* undeliverable_family_;
  prometheus::Family<prometheus::Counter>* input_rewinds_family_;
  prometheus::Family<prometheus::Counter>* records_fetched_family_;
  prometheus::Gauge* consumer_queued_bytes_;
  prometheus::Gauge* input_kept_bytes_;
  prometheus::Family<prometheus::Counter>* input_kept_family_;
  prometheus::Counter* producer_fatal_errors_;
  prometheus::Counter* transactions_aborted_;
  prometheus::Gauge* state_writes_paused_;
  prometheus::Counter* state_disk_pauses_;
  prometheus::Histogram* commit_duration_;
  prometheus::Histogram* commit_batch_events_;
  prometheus::Gauge* outbox_pending_;
  prometheus::Gauge* input_paused_;
  prometheus::Gauge* state_cache_bytes_;
  prometheus::Counter* timer_chunks_;
  prometheus::Counter* timers_popped_;
  prometheus::Counter* timers_rearmed_;
  prometheus::Counter* state_store_reads_;
  prometheus::Gauge* timer_backlog_partitions_;
  prometheus::Gauge* assigned_partitions_;
  prometheus::Counter* rebalances_;
  prometheus::Counter* restore_records_;
  prometheus::Gauge* restoring_partitions_;
  prometheus::Histogram* restore_duration_;
  prometheus::Histogram* assignment_restore_duration_;
  prometheus::Counter* retention_gaps_;
  std::map<StateRebuildReason, prometheus::Counter*> state_rebuilds_;
  prometheus::Family<prometheus::Gauge>* watermark_family_;
  prometheus::Counter* events_deduplicated_;
  prometheus::Counter* events_dropped_erased_;
  prometheus::Counter* state_trimmed_[std::size(kAllTrimReasons)];
  prometheus::Histogram* processing_latency_;
  prometheus::Histogram* event_to_trigger_latency_;
  prometheus::Histogram* timer_fire_delay_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  prometheus::Family<prometheus::Gauge>* max_event_time_family_;
  std::unique_ptr<StoreMetrics> store_;
  std::unique_ptr<PolicyMetrics> policy_;
  std::shared_ptr<ProcessCollector> process_;
  std::shared_ptr<AllocatorCollector> allocator_;
};

}  // namespace touchstream
