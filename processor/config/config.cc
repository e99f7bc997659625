#include "processor/config/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "processor/config/policy_section.h"
#include "processor/config/privacy_section.h"
#include "processor/config/yaml_reader.h"
#include "processor/core/rule_timer.h"
#include "processor/core/text_file.h"
#include "processor/policy/time_zone_catalog.h"

namespace touchstream {

TaskSettings MakeTaskSettings(const Config& config) {
  TaskSettings settings;
  settings.allowed_lateness_ms = config.allowed_lateness_ms;
  settings.dedup = config.dedup;
  settings.limits = config.limits;
  settings.validation = config.validation;
  settings.clock = config.clock;
  settings.dead_letter_topic = config.dead_letter.name;
  settings.input_topic = config.touchpoints.name;
  settings.repartition_topic = config.repartition.name;
  settings.max_timers_per_step = static_cast<size_t>(config.max_timers_per_step);
  settings.max_repartition_wait_ms = config.max_repartition_wait_ms;
  settings.privacy = config.privacy;
  return settings;
}

std::string DefaultTransactionalId(const Config& config) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "localhost");
  }
  return config.group_id + "-" + host;
}

namespace {

// Every address of the comma-separated list civetweb takes is 127.0.0.0/8, localhost or [::1],
// with a port: civetweb then binds nothing else.
bool IsLoopbackListen(const std::string& listen) {
  size_t start = 0;
  while (true) {
    const size_t comma = listen.find(',', start);
    const std::string_view address =
        std::string_view(listen).substr(start, comma == std::string::npos ? comma : comma - start);
    if (!(address.rfind("127.", 0) == 0 || address.rfind("localhost:", 0) == 0 ||
          address.rfind("[::1]:", 0) == 0)) {
      return false;
    }
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

// Each topic is one stream: output written back to the input (or to another output) would be
// read again, or mixed with records of another contract (a dead letter consumed as input is
// dead-lettered again, forever).
void CheckTopicsDiffer(const Config& config) {
  const std::pair<const char*, const std::string*> topics[] = {
      {"touchpoints", &config.touchpoints.name}, {"triggers", &config.triggers.name},
      {"dead_letter", &config.dead_letter.name}, {"audit", &config.audit.name},
      {"changelog", &config.changelog.name},     {"repartition", &config.repartition.name}};
  for (size_t i = 0; i < std::size(topics); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (*topics[i].second == *topics[j].second) {
        throw ConfigError(std::string("topics.") + topics[i].first + ".name: '" +
                          *topics[i].second + "' is also topics." + topics[j].first +
                          "'s: every topic must differ");
      }
    }
  }
}

// The keys every topic has; the caller finishes `t` (a topic may have keys of its own).
TopicConfig ReadTopic(YamlReader& t, TopicConfig fallback) {
  TopicConfig topic;
  topic.name = t.String("name", fallback.name);
  if (topic.name.empty()) throw ConfigError(t.Key("name") + ": must not be empty");
  topic.partitions = static_cast<int>(t.Int("partitions", fallback.partitions, 1, 10000));
  return topic;
}

TopicConfig ReadTopic(YamlReader& topics, const std::string& key, TopicConfig fallback) {
  YamlReader t = topics.Child(key);
  TopicConfig topic = ReadTopic(t, fallback);
  t.Finish();
  return topic;
}

void ReadKafkaSection(YamlReader& root, const std::string& section,
                      std::map<std::string, std::string>& out) {
  YAML::Node kafka = root.Raw(section);
  if (!kafka || kafka.IsNull()) return;
  if (!kafka.IsMap()) throw ConfigError(section + ": expected a mapping of librdkafka properties");
  RejectDuplicateKeys(kafka, section);
  for (const auto& entry : kafka) {
    const std::string key = entry.first.Scalar();
    if (!entry.second.IsScalar()) {
      throw ConfigError(section + "." + key + ": expected a single value");
    }
    out[key] = entry.second.Scalar();
  }
}

}  // namespace

Config ParseConfig(const std::string& yaml_text, const std::string& source) {
  YAML::Node doc;
  try {
    doc = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": not valid YAML: " + e.what());
  }
  Config config;
  YamlReader root(doc, "");
  ReadKafkaSection(root, "kafka", config.kafka);
  ReadKafkaSection(root, "kafka_consumer", config.kafka_consumer);
  ReadKafkaSection(root, "kafka_producer", config.kafka_producer);

  YamlReader topics = root.Child("topics");
  YamlReader touchpoints = topics.Child("touchpoints");
  config.touchpoints = ReadTopic(touchpoints, config.touchpoints);
  // Schema ids are non-negative int32s; the list pins Confluent-framed input to them.
  for (int64_t id : touchpoints.IntList("schema_ids", 0, std::numeric_limits<int32_t>::max())) {
    config.validation.schema_ids.push_back(static_cast<int32_t>(id));
  }
  touchpoints.Finish();
  config.triggers = ReadTopic(topics, "triggers", config.triggers);
  config.dead_letter = ReadTopic(topics, "dead_letter", config.dead_letter);
  config.audit = ReadTopic(topics, "audit", config.audit);
  YamlReader changelog = topics.Child("changelog");
  const std::string changelog_name = changelog.String("name", "");
  const int64_t changelog_partitions =
      changelog.Int("partitions", config.touchpoints.partitions, 1, 10000);
  changelog.Finish();
  YamlReader repartition = topics.Child("repartition");
  const std::string repartition_name = repartition.String("name", "");
  const int64_t repartition_partitions =
      repartition.Int("partitions", config.touchpoints.partitions, 1, 10000);
  repartition.Finish();
  topics.Finish();
  if (repartition_partitions != config.touchpoints.partitions) {
    throw ConfigError("topics.repartition.partitions: must equal topics.touchpoints.partitions (" +
                      std::to_string(config.touchpoints.partitions) +
                      "): repartition/N is read by the owner of touchpoints/N");
  }
  if (changelog_partitions != config.touchpoints.partitions) {
    throw ConfigError("topics.changelog.partitions: must equal topics.touchpoints.partitions (" +
                      std::to_string(config.touchpoints.partitions) +
                      "): the changelog is partitioned like the input");
  }

  YamlReader consumer = root.Child("consumer");
  config.group_id = consumer.String("group_id", config.group_id);
  if (config.group_id.empty()) throw ConfigError("consumer.group_id: must not be empty");
  consumer.Finish();
  config.changelog = {
      changelog_name.empty() ? config.group_id + "-customers-changelog" : changelog_name,
      config.touchpoints.partitions};
  config.repartition = {
      repartition_name.empty() ? config.group_id + "-touchpoints-repartition" : repartition_name,
      config.touchpoints.partitions};
  CheckTopicsDiffer(config);

  YamlReader state = root.Child("state");
  config.state_dir = state.String("dir", config.state_dir);
  if (config.state_dir.empty()) throw ConfigError("state.dir: must not be empty");
  config.sync_writes = state.Bool("sync_writes", config.sync_writes);
  config.min_free_disk_bytes = static_cast<uint64_t>(state.Int(
      "min_free_bytes", static_cast<int64_t>(config.min_free_disk_bytes), 0, int64_t{1} << 50));
  config.state_cleanup_delay_ms = state.Duration("cleanup_delay", config.state_cleanup_delay_ms);
  config.cache_bytes = static_cast<uint64_t>(state.Int(
      "cache_bytes", static_cast<int64_t>(config.cache_bytes), 1 << 20, int64_t{1} << 40));
  config.block_cache_bytes = static_cast<uint64_t>(
      state.Int("block_cache_bytes", static_cast<int64_t>(config.block_cache_bytes), 1 << 20,
                int64_t{1} << 40));
  config.restore_memory_bytes = static_cast<uint64_t>(
      state.Int("restore_memory_bytes", static_cast<int64_t>(config.restore_memory_bytes), 0,
                int64_t{1} << 40));
  config.restore_threads =
      static_cast<int>(state.Int("restore_threads", config.restore_threads, 1, 64));
  config.restore_ingest_customers = static_cast<uint64_t>(
      state.Int("restore_ingest_customers", static_cast<int64_t>(config.restore_ingest_customers),
                0, int64_t{1} << 40));
  config.write_buffer_bytes = static_cast<uint64_t>(
      state.Int("write_buffer_bytes", static_cast<int64_t>(config.write_buffer_bytes), 4 << 20,
                int64_t{1} << 40));
  config.memtable_huge_pages = state.Bool("memtable_huge_pages", config.memtable_huge_pages);
  state.Finish();

  YamlReader processing = root.Child("processing");
  config.commit_interval_ms = processing.Duration("commit_interval", config.commit_interval_ms);
  if (config.commit_interval_ms <= 0) {
    throw ConfigError("processing.commit_interval: must be greater than 0");
  }
  config.commit_max_events =
      processing.Int("commit_max_events", config.commit_max_events, 1, 10'000'000);
  config.max_timers_per_step =
      processing.Int("max_timers_per_step", config.max_timers_per_step, 1, 10'000'000);
  config.max_held_bytes = processing.Int("max_held_bytes", config.max_held_bytes, 0, 1ll << 34);
  config.max_repartition_wait_ms =
      processing.Duration("max_repartition_wait", config.max_repartition_wait_ms);
  if (config.max_repartition_wait_ms > 3'600'000) {
    throw ConfigError("processing.max_repartition_wait: must be at most 1h");
  }
  config.stop_timeout_ms = processing.Duration("stop_timeout", config.stop_timeout_ms);
  if (config.stop_timeout_ms <= 0 || config.stop_timeout_ms > 600'000) {
    throw ConfigError("processing.stop_timeout: must be greater than 0 and at most 10m");
  }
  config.transaction_call_timeout_ms =
      processing.Duration("transaction_call_timeout", config.transaction_call_timeout_ms);
  // At most 30 s: a commit's calls (adding the offsets, committing) of five attempts each must
  // end within the consumer's max.poll.interval.ms (300 s by default), or librdkafka leaves the
  // group while the commit is undecided. At least 1 s: a call much shorter can time out in a
  // step librdkafka cannot resume (TransactionalRelay::kMinResumeMs).
  if (config.transaction_call_timeout_ms < 1'000 || config.transaction_call_timeout_ms > 30'000) {
    throw ConfigError("processing.transaction_call_timeout: must be at least 1s and at most 30s");
  }
  config.max_outbox_records =
      processing.Int("max_outbox_records", config.max_outbox_records, 1, 100'000'000);
  config.max_outbox_bytes =
      processing.Int("max_outbox_bytes", config.max_outbox_bytes, 1 << 20, 1ll << 40);
  config.dedup.horizon_ms = processing.Duration("dedup_horizon", config.dedup.horizon_ms);
  config.dedup.max_ids =
      static_cast<int>(processing.Int("dedup_max_ids", config.dedup.max_ids, 1, 100'000));
  config.skip_retention_gap = processing.Enum("on_retention_gap", "fail",
                                              {"fail", "skip_to_earliest"}) == "skip_to_earliest";
  config.exactly_once = processing.Enum("guarantee", "at_least_once",
                                        {"at_least_once", "exactly_once"}) == "exactly_once";
  config.transactional_id = processing.String("transactional_id", "");
  processing.Finish();
  if (config.transactional_id.empty()) config.transactional_id = DefaultTransactionalId(config);

  YamlReader validation = root.Child("validation");
  ValidationLimits& limits = config.validation;
  limits.max_future_skew_ms = validation.Duration("max_future_skew", limits.max_future_skew_ms);
  limits.max_wall_clock_skew_ms =
      validation.Duration("max_wall_clock_skew", limits.max_wall_clock_skew_ms);
  if (limits.max_wall_clock_skew_ms < 0) {
    throw ConfigError("validation.max_wall_clock_skew: must be 0 (off) or more");
  }
  limits.max_field_bytes = validation.Int("max_field_bytes", limits.max_field_bytes, 1, 1 << 20);
  limits.max_items = validation.Int("max_items", limits.max_items, 0, 100000);
  limits.max_attributes = validation.Int("max_attributes", limits.max_attributes, 0, 100000);
  // Each bound keeps a quantity × price product, and a sum of 100,000 of them, inside int64.
  limits.max_quantity = validation.Int("max_quantity", limits.max_quantity, 1, 1'000'000'000);
  limits.max_price_minor =
      validation.Int("max_price_minor", limits.max_price_minor, 0, 1'000'000'000'000'000);
  limits.max_amount_minor =
      validation.Int("max_amount_minor", limits.max_amount_minor, 0, 1'000'000'000'000'000);
  validation.Finish();

  YamlReader limits_section = root.Child("limits");
  config.limits.max_cart_lines = static_cast<int>(
      limits_section.Int("max_cart_lines", config.limits.max_cart_lines, 1, 1'000'000));
  config.limits.max_state_bytes = static_cast<size_t>(limits_section.Int(
      "max_state_bytes", static_cast<int64_t>(config.limits.max_state_bytes), 1, 1ll << 30));
  limits_section.Finish();

  YamlReader timers = root.Child("timers");
  config.allowed_lateness_ms = timers.Duration("allowed_lateness", config.allowed_lateness_ms);
  config.clock = timers.Enum("clock", "hybrid", {"event_time", "hybrid"}) == "event_time"
                     ? ClockMode::kEventTime
                     : ClockMode::kHybrid;
  timers.Finish();

  YamlReader http = root.Child("http");
  config.metrics_listen = http.String("listen", config.metrics_listen);
  config.healthz_max_poll_age_ms =
      http.Duration("healthz_max_poll_age", config.healthz_max_poll_age_ms);
  if (config.healthz_max_poll_age_ms <= 0) {
    throw ConfigError("http.healthz_max_poll_age: must be greater than 0");
  }
  config.customers_endpoint = http.Bool("customers_endpoint", config.customers_endpoint);
  if (config.customers_endpoint && config.metrics_listen.empty()) {
    throw ConfigError("http.customers_endpoint: needs http.listen (it is empty)");
  }
  config.allocator_endpoint = http.Bool("allocator_endpoint", config.allocator_endpoint);
  if (config.allocator_endpoint && config.metrics_listen.empty()) {
    throw ConfigError("http.allocator_endpoint: needs http.listen (it is empty)");
  }
  // /customers/{id} shows one person's data: never beyond the host (or pod) it runs on.
  if (config.customers_endpoint && !IsLoopbackListen(config.metrics_listen)) {
    throw ConfigError(
        "http.customers_endpoint: serves customer data, so only on a loopback "
        "http.listen (127.0.0.1:PORT, localhost:PORT or [::1]:PORT), not '" +
        config.metrics_listen + "'; reach it with kubectl port-forward or exec");
  }
  http.Finish();

  config.privacy = ReadPrivacySection(root.Child("privacy"));

  config.rules = ReadRuleSpecs(root.Raw("rules"));
  for (const RuleSpec& spec : config.rules) config.policy.rules[spec.id] = spec.common.policy;
  ReadPolicySections(root, config.rules, TimeZoneCatalog::System(), config.policy);
  root.Finish();
  // What no trim can shorten must fit, or a state could stay over the limit.
  const size_t max_field = config.validation.max_field_bytes;
  const size_t floor = MinStateBytes(max_field, config.rules.size());
  if (config.limits.max_state_bytes < floor) {
    throw ConfigError("limits.max_state_bytes: must be at least " + std::to_string(floor) +
                      " with validation.max_field_bytes " + std::to_string(max_field) + " and " +
                      std::to_string(config.rules.size()) +
                      " rules (the ids and fields of a state that are never trimmed)");
  }
  CheckStateFitsRecord(config);
  return config;
}

Config LoadConfigFile(const std::string& path) {
  const std::optional<std::string> text = ReadTextFile(path);
  if (!text) throw ConfigError(path + ": cannot read config file");
  return ParseConfig(*text, path);
}

void ApplyKafkaOverrides(Config& config, char** environ_vars,
                         const std::vector<std::string>& x_items) {
  static constexpr std::string_view kPrefix = "TOUCHSTREAM_KAFKA_";
  for (char** env = environ_vars; env != nullptr && *env != nullptr; ++env) {
    std::string_view item(*env);
    if (item.substr(0, kPrefix.size()) != kPrefix) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(item.substr(kPrefix.size(), eq - kPrefix.size()));
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) {
      return c == '_' ? '.' : static_cast<char>(std::tolower(c));
    });
    config.kafka[key] = std::string(item.substr(eq + 1));
  }
  if (Status s = AddPropertyItems(x_items, config.kafka); !s.ok()) {
    throw ConfigError(s.message());
  }
  CheckStateFitsRecord(config);
}

void CheckStateFitsRecord(const Config& config) {
  static constexpr char kProperty[] = "message.max.bytes";
  std::string source = "librdkafka's default";
  int64_t max_message = kDefaultMessageMaxBytes;
  using Section = std::pair<const char*, const std::map<std::string, std::string>*>;
  // The producer's own section wins over the one every client shares.
  for (const auto& [section, props] :
       {Section{"kafka_producer", &config.kafka_producer}, Section{"kafka", &config.kafka}}) {
    auto it = props->find(kProperty);
    if (it == props->end()) continue;
    source = std::string(section) + "." + kProperty;
    try {
      size_t used = 0;
      max_message = std::stoll(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw ConfigError(source + ": expected an integer, got '" + it->second + "'");
    }
    break;
  }
  // The state's rules may each add their timer bookkeeping beyond the limit (core/rule_timer.h).
  const int64_t record_max =
      static_cast<int64_t>(config.limits.max_state_bytes) +
      static_cast<int64_t>(config.validation.max_field_bytes) + kRecordHeadroomBytes +
      static_cast<int64_t>(config.rules.size() * kLaggingEntryMaxBytes);
  if (record_max >= max_message) {
    throw ConfigError("limits.max_state_bytes: " + std::to_string(config.limits.max_state_bytes) +
                      " plus " + std::to_string(record_max - config.limits.max_state_bytes) +
                      " bytes for a changelog record's key, headers and timer bookkeeping must "
                      "be below the producer's message.max.bytes (" +
                      std::to_string(max_message) + ", " + source +
                      "); lower limits.max_state_bytes or raise message.max.bytes");
  }
}

Status AddPropertyItems(const std::vector<std::string>& items,
                        std::map<std::string, std::string>& props) {
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("-X " + item + ": expected key=value");
    }
    props[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return Status::Ok();
}

std::string DescribeKafkaConfig(const std::map<std::string, std::string>& kafka) {
  std::string out;
  for (const auto& [key, value] : kafka) {
    const bool secret =
        key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
        key.find("key") != std::string::npos || key.find("oauthbearer.config") != std::string::npos;
    out += key + "=" + (secret ? "[redacted]" : value) + "\n";
  }
  return out;
}

}  // namespace touchstream
