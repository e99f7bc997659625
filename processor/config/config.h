// The processor's configuration: one YAML file (see README, "Configuration"). Every option has
// a default; any error throws ConfigError naming the key.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "processor/config/rule_spec.h"
#include "processor/core/event_dedup.h"
#include "processor/core/event_validator.h"
#include "processor/core/partition_task.h"
#include "processor/core/rule.h"
#include "processor/core/state_limits.h"
#include "processor/core/status.h"
#include "processor/policy/policy_config.h"

namespace touchstream {

struct TopicConfig {
  std::string name;
  int partitions = 1;
};

struct Config {
  // librdkafka properties passed through to every client (bootstrap.servers, security, ...).
  std::map<std::string, std::string> kafka{{"bootstrap.servers", "127.0.0.1:9092"}};
  // Extra librdkafka properties for the consumer only / the producer only, on top of `kafka`.
  std::map<std::string, std::string> kafka_consumer;
  std::map<std::string, std::string> kafka_producer;

  TopicConfig touchpoints{"touchpoints", 6};
  TopicConfig triggers{"triggers", 6};
  TopicConfig dead_letter{"touchpoints-dlq", 1};
  // The suppression audit (proto/audit.proto): every policy decision but an immediate send.
  TopicConfig audit{"touchstream-audit", 1};
  // Committed state changes of the customers store, partitioned like `touchpoints`; compacted
  // in production. Default name: "<group_id>-customers-changelog".
  TopicConfig changelog{"touchstream-customers-changelog", 6};
  // The repartition stage's internal topic (processor/core/forwarded_record.h), partitioned like
  // `touchpoints`, cleanup.policy=delete. Default name: "<group_id>-touchpoints-repartition".
  TopicConfig repartition{"touchstream-touchpoints-repartition", 6};

  std::string group_id = "touchstream";
  std::string state_dir = "./touchstream-data";
  bool sync_writes = false;
  // Free space kept on the state filesystem: below it the instance stops writing and leaves
  // the group until space returns (state/disk_space.h says why). 0 turns the guard off.
  uint64_t min_free_disk_bytes = 512ull << 20;
  // The write-back cache of customer states (state/partition_state.h), estimated bytes for the
  // whole instance, shared evenly by the input's partitions.
  uint64_t cache_bytes = 256ull << 20;
  // RocksDB's block cache and memtables, the whole database (state/state_db.h, StoreMemory).
  uint64_t block_cache_bytes = 64ull << 20;
  uint64_t write_buffer_bytes = 128ull << 20;
  // The memtables in explicit huge pages the host reserved (state/huge_pages.h).
  bool memtable_huge_pages = false;
  // How much of a changelog partition a cold restore keeps in memory between its two passes
  // (a larger partition is read from Kafka twice); 0: always read twice.
  uint64_t restore_memory_bytes = 64ull << 20;
  // A cold restore that reads the changelog once writes a partition of at least this many
  // customers (erased ones and erasure memories included) as SST files ingested at once (state/restore_ingest.h), a smaller one through the
  // memtables: ingesting has a fixed cost (a flush, a MANIFEST write) that only larger
  // partitions repay (BM_RestoreWrite, benchmarks/RESULTS.md). 0: always ingest.
  uint64_t restore_ingest_customers = 16384;
  // How many partitions of one assignment are restored at once, each on its own thread with its
  // own changelog reader and its share of restore_memory_bytes.
  int restore_threads = 2;
  // How long the local copy of a partition this instance lost is kept before it is deleted
  // (state/released_partitions.h); never served meanwhile.
  DurationMs state_cleanup_delay_ms = 10 * 60'000;
  DurationMs commit_interval_ms = 100;
  int64_t commit_max_events = 5000;
  // Timers fired in one step at most (PartitionPipeline's chunk bound): a clock that jumped
  // fires its backlog in chunks, with polls and commits in between.
  int64_t max_timers_per_step = 10'000;
  // The records held sources delivered, kept in memory to apply once their hold ends, at most
  // (processor/run/held_records.h); past it a source is paused and rewound. 0: none kept. 64 MiB:
  // the e2e benchmark's holds passed 16 MiB in 5 of 11 runs; none passed this bound in 10 (at most
  // 31 MiB kept at a poll; benchmarks/RESULTS.md, forty-sixth session).
  int64_t max_held_bytes = 64ll << 20;
  // How long a partition's input waits for its repartition source to catch up before going on
  // (PartitionTask::WaitsForRepartition; Kafka Streams' max.task.idle.ms).
  DurationMs max_repartition_wait_ms = 5'000;
  // Input pauses while the relay holds more unacknowledged records or bytes than this
  // (processor/run/outbox_backpressure.h).
  int64_t max_outbox_records = 200'000;
  int64_t max_outbox_bytes = 256ll << 20;
  // How long a stop may spend on its last commit's delivery (Relay::StopBy): the exactly_once
  // transaction, at_least_once's flush of the outbox. Closing the consumer adds up to 10 s.
  DurationMs stop_timeout_ms = 20'000;
  // exactly_once: how long each transactional call (init, adding the offsets, commit, abort) may
  // wait for Kafka; a retriable failure repeats it, up to five calls (transactional_relay.h;
  // the same default as TransactionalRelay::kCallTimeoutMs).
  DurationMs transaction_call_timeout_ms = 30'000;
  // Input dedup: an event id seen for the customer within this event-time horizon is skipped.
  DedupPolicy dedup{24 * kHourMs, 512};
  // When an input partition's stored offset is below the earliest offset Kafka still has
  // (retention deleted unprocessed events): false = stop with an error (default); true = log,
  // count and continue from the earliest offset.
  bool skip_retention_gap = false;
  // processing.guarantee: false = at_least_once (default: idempotent producer, outbox re-sent
  // after a crash, deterministic trigger ids); true = exactly_once (one Kafka transaction per
  // commit, processor/kafka/transactional_relay.h; needs a real cluster to mean anything).
  bool exactly_once = false;
  // The instance's transactional.id (exactly_once): stable across its restarts, unique in the
  // cluster. Default "<group_id>-<hostname>" (a StatefulSet pod name is stable).
  std::string transactional_id;

  // Per-customer limits on the stored state (core/state_limits.h). max_state_bytes plus
  // kRecordHeadroomBytes must stay below the producer's message.max.bytes (checked at load).
  StateLimits limits;
  ValidationLimits validation;
  DurationMs allowed_lateness_ms = 0;
  ClockMode clock = ClockMode::kHybrid;

  // host:port for /metrics, /healthz, /readyz (and /customers/{id}, /debug/allocator); empty
  // disables them.
  std::string metrics_listen = "127.0.0.1:9464";
  // /healthz fails when the consume loop has not polled Kafka for longer than this.
  DurationMs healthz_max_poll_age_ms = 30'000;
  // Serve GET /customers/{id} (one customer's state as JSON). Off: it exposes customer data.
  bool customers_endpoint = false;
  // Serve GET /debug/allocator (jemalloc's statistics report). Off: each report takes the
  // allocator's locks for a moment, which any client of http.listen could then do at will.
  bool allocator_endpoint = false;

  // The `rules` section, in config order: ids and kinds checked, each kind's parameters not
  // yet. BuildRuleSet (processor/rules/rule_registry.h) builds the rules, once at start-up.
  std::vector<RuleSpec> rules;

  // The policy stage (processor/policy/policy_stage.h): the `channels` and `policies` sections
  // and each rule's policy keys (policy.rules, by rule id).
  PolicyConfig policy;

  // The `privacy` section (config/privacy_section.h): erasure memory and customer hashes.
  PrivacySettings privacy;
};

// Room a changelog record needs besides its value: its key (a customer id, at most
// validation.max_field_bytes) and this much for its headers and the record's framing.
inline constexpr int64_t kRecordHeadroomBytes = 1024;

// librdkafka's default message.max.bytes.
inline constexpr int64_t kDefaultMessageMaxBytes = 1'000'000;

// The per-partition task's settings (processing, validation, timers, the dead-letter topic).
TaskSettings MakeTaskSettings(const Config& config);

// "<group_id>-<hostname>".
std::string DefaultTransactionalId(const Config& config);

// Parses YAML text. `source` names the file in errors.
Config ParseConfig(const std::string& yaml_text, const std::string& source);
Config LoadConfigFile(const std::string& path);

// Adds command-line `-X key=value` librdkafka items to `props` (later items win).
// InvalidArgument "-X <item>: expected key=value" for an item without a key or an '='.
Status AddPropertyItems(const std::vector<std::string>& items,
                        std::map<std::string, std::string>& props);

// Applies librdkafka overrides: TOUCHSTREAM_KAFKA_* environment variables (upper snake case,
// e.g. TOUCHSTREAM_KAFKA_BOOTSTRAP_SERVERS=...), then `-X key=value` items, in that order, and
// checks the state limits against the resulting message.max.bytes (CheckStateFitsRecord).
void ApplyKafkaOverrides(Config& config, char** environ_vars,
                         const std::vector<std::string>& x_items);

// Throws ConfigError naming limits.max_state_bytes unless the largest state plus its key and
// headers (kRecordHeadroomBytes) is below the producer's message.max.bytes (kafka_producer, else
// kafka, else librdkafka's default), so that every changelog record can be produced. ParseConfig
// and ApplyKafkaOverrides call it.
void CheckStateFitsRecord(const Config& config);

// The kafka section as "key=value" lines with secrets (passwords, keys, secrets) redacted.
std::string DescribeKafkaConfig(const std::map<std::string, std::string>& kafka);

}  // namespace touchstream
