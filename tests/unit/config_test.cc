#include "processor/config/config.h"

#include <gtest/gtest.h>

#include "processor/config/config_error.h"
#include "processor/rules/rule_registry.h"
#include "tests/unit/config_errors.h"

namespace touchstream {
namespace {

using testing::StartupErrorOf;

TEST(ConfigTest, EmptyConfigGivesDocumentedDefaults) {
  Config c = ParseConfig("", "test.yaml");
  EXPECT_EQ(c.touchpoints.name, "touchpoints");
  EXPECT_EQ(c.touchpoints.partitions, 6);
  EXPECT_EQ(c.triggers.name, "triggers");
  EXPECT_EQ(c.dead_letter.name, "touchpoints-dlq");
  EXPECT_EQ(c.group_id, "touchstream");
  EXPECT_EQ(c.commit_interval_ms, 100);
  EXPECT_EQ(c.stop_timeout_ms, 20'000);
  EXPECT_EQ(c.transaction_call_timeout_ms, 30'000);
  EXPECT_EQ(c.clock, ClockMode::kHybrid);
  EXPECT_EQ(c.allowed_lateness_ms, 0);
  EXPECT_EQ(c.kafka.at("bootstrap.servers"), "127.0.0.1:9092");
  EXPECT_EQ(c.min_free_disk_bytes, 512u << 20);
  EXPECT_EQ(c.restore_threads, 2);
  EXPECT_EQ(c.restore_ingest_customers, 16384u);
  EXPECT_FALSE(c.memtable_huge_pages);
  EXPECT_FALSE(c.exactly_once);
  EXPECT_EQ(c.transactional_id.rfind("touchstream-", 0), 0u) << c.transactional_id;
  EXPECT_TRUE(c.rules.empty());
  EXPECT_EQ(c.limits.max_cart_lines, 200);
  EXPECT_EQ(c.limits.max_state_bytes, 512u * 1024);
}

TEST(ConfigTest, ReadsEverySection) {
  Config c = ParseConfig(R"(
kafka: {bootstrap.servers: "k1:9092,k2:9092", security.protocol: SASL_SSL}
kafka_consumer: {fetch.wait.max.ms: 20}
topics:
  touchpoints: {name: tp, partitions: 12}
consumer: {group_id: g}
state: {dir: /var/lib/ts, sync_writes: true, min_free_bytes: 1048576, restore_threads: 4,
        restore_ingest_customers: 0, memtable_huge_pages: true}
processing: {commit_interval: 250ms, commit_max_events: 100, dedup_horizon: 1h,
             guarantee: exactly_once, transactional_id: ts-0, stop_timeout: 45s,
             transaction_call_timeout: 5s}
validation: {max_future_skew: 1m, max_wall_clock_skew: 2h, max_field_bytes: 128}
limits: {max_cart_lines: 50, max_state_bytes: 65536}
timers: {allowed_lateness: 30s, clock: event_time}
http: {listen: "0.0.0.0:9000"}
rules:
  cart_1h: {kind: cart_abandonment, delay: 1h, min_cart_value_minor: 500}
)",
                         "test.yaml");
  EXPECT_EQ(c.kafka.at("bootstrap.servers"), "k1:9092,k2:9092");
  EXPECT_EQ(c.kafka_consumer.at("fetch.wait.max.ms"), "20");
  EXPECT_EQ(c.touchpoints.name, "tp");
  EXPECT_EQ(c.touchpoints.partitions, 12);
  EXPECT_EQ(c.group_id, "g");
  EXPECT_EQ(c.state_dir, "/var/lib/ts");
  EXPECT_TRUE(c.sync_writes);
  EXPECT_EQ(c.min_free_disk_bytes, 1u << 20);
  EXPECT_EQ(c.restore_threads, 4);
  EXPECT_EQ(c.restore_ingest_customers, 0u);
  EXPECT_TRUE(c.memtable_huge_pages);
  EXPECT_EQ(c.commit_interval_ms, 250);
  EXPECT_EQ(c.stop_timeout_ms, 45'000);
  EXPECT_EQ(c.transaction_call_timeout_ms, 5'000);
  EXPECT_EQ(c.commit_max_events, 100);
  EXPECT_TRUE(c.exactly_once);
  EXPECT_EQ(c.transactional_id, "ts-0");
  EXPECT_EQ(c.dedup.horizon_ms, kHourMs);
  EXPECT_EQ(c.validation.max_future_skew_ms, kMinuteMs);
  EXPECT_EQ(c.validation.max_wall_clock_skew_ms, 2 * kHourMs);
  EXPECT_EQ(c.validation.max_field_bytes, 128u);
  EXPECT_EQ(c.limits.max_cart_lines, 50);
  EXPECT_EQ(c.limits.max_state_bytes, 65536u);
  EXPECT_EQ(MakeTaskSettings(c).limits.max_state_bytes, 65536u);
  EXPECT_EQ(c.allowed_lateness_ms, 30 * kSecondMs);
  EXPECT_EQ(c.clock, ClockMode::kEventTime);
  EXPECT_EQ(c.metrics_listen, "0.0.0.0:9000");
  ASSERT_EQ(c.rules.size(), 1u);
  EXPECT_EQ(c.rules[0].id, "cart_1h");
  EXPECT_EQ(c.rules[0].kind, "cart_abandonment");
  EXPECT_EQ(BuildRuleSet(c.rules)[0]->id(), "cart_1h");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {partitions: 0}}"),
            "topics.touchpoints.partitions: 0 is out of range [1, 10000]");
  EXPECT_EQ(StartupErrorOf("processing: {commit_interval: fast}"),
            "processing.commit_interval: invalid duration 'fast' (expected an integer with a "
            "unit: 500ms, 30s, 15m, 1h, 7d)");
  EXPECT_EQ(StartupErrorOf("processing: {max_repartition_wait: 2h}"),
            "processing.max_repartition_wait: must be at most 1h");
  EXPECT_EQ(StartupErrorOf("processing: {max_held_bytes: -1}"),
            "processing.max_held_bytes: -1 is out of range [0, 17179869184]");
  EXPECT_EQ(StartupErrorOf("processing: {max_held_bytes: 0}"), "no error");  // always pauses
  EXPECT_EQ(StartupErrorOf("processing: {stop_timeout: 0}"),
            "processing.stop_timeout: must be greater than 0 and at most 10m");
  EXPECT_EQ(StartupErrorOf("processing: {stop_timeout: 11m}"),
            "processing.stop_timeout: must be greater than 0 and at most 10m");
  EXPECT_EQ(StartupErrorOf("processing: {transaction_call_timeout: 999ms}"),
            "processing.transaction_call_timeout: must be at least 1s and at most 30s");
  EXPECT_EQ(StartupErrorOf("processing: {transaction_call_timeout: 31s}"),
            "processing.transaction_call_timeout: must be at least 1s and at most 30s");
  EXPECT_EQ(StartupErrorOf("timers: {allowed_lateness: 36501d}"),
            "timers.allowed_lateness: must be at most 36500d (100 years)");
  EXPECT_EQ(StartupErrorOf("validation: {max_quantity: 0}"),
            "validation.max_quantity: 0 is out of range [1, 1000000000]");
  EXPECT_EQ(StartupErrorOf("timers: {clock: wall}"),
            "timers.clock: 'wall' is not one of: event_time, hybrid");
  EXPECT_EQ(StartupErrorOf("state: {sync_writes: maybe}"),
            "state.sync_writes: 'maybe' is not true or false");
  EXPECT_EQ(StartupErrorOf("state: {memtable_huge_pages: 2MiB}"),
            "state.memtable_huge_pages: '2MiB' is not true or false");
  EXPECT_EQ(StartupErrorOf("processing: {guarantee: exactly-once}"),
            "processing.guarantee: 'exactly-once' is not one of: at_least_once, exactly_once");
  EXPECT_EQ(StartupErrorOf("state: {min_free_bytes: -1}"),
            "state.min_free_bytes: -1 is out of range [0, 1125899906842624]");
  EXPECT_EQ(StartupErrorOf("state: {restore_threads: 0}"),
            "state.restore_threads: 0 is out of range [1, 64]");
  EXPECT_EQ(StartupErrorOf("rules: {c: {kind: cart_abandonment, delay: 0}}"),
            "rules.c.delay: must be greater than 0");
  EXPECT_EQ(StartupErrorOf("rules: {c: {kind: cart_abandonment, dealy: 1h}}"),
            "rules.c.dealy: unknown key");
  EXPECT_EQ(StartupErrorOf("rules: {\"Bad Id\": {kind: cart_abandonment}}"),
            "rules.Bad Id: a rule id is 1-64 characters of a-z, 0-9, '_' and '-'");
  EXPECT_EQ(StartupErrorOf("consumer: {groupid: x}"), "consumer.groupid: unknown key");
  EXPECT_EQ(StartupErrorOf("topcis: {}"), "topcis: unknown key");
  EXPECT_EQ(StartupErrorOf("kafka: [a, b]"), "kafka: expected a mapping of librdkafka properties");
  EXPECT_NE(StartupErrorOf("rules: {c: {kind: cart}}").find("rules.c.kind: 'cart' is not one of"),
            std::string::npos);
  EXPECT_NE(StartupErrorOf("{{{").find("test.yaml: not valid YAML"), std::string::npos);
}

// yaml-cpp keeps a key given twice and a lookup finds the first: a second rule of the same
// name, a second section, a second value were ignored without a word.
TEST(ConfigTest, AKeyDefinedTwiceIsAnError) {
  const std::string defined_twice =
      ": defined twice (YAML keeps both; which one counts is not defined)";
  EXPECT_EQ(StartupErrorOf("rules:\n  cart: {kind: cart_abandonment, delay: 1h}\n"
                           "  cart: {kind: win_back}\n"),
            "rules.cart" + defined_twice);
  EXPECT_EQ(StartupErrorOf("rules: {a: {kind: cart_abandonment}}\n"
                           "rules: {b: {kind: cart_abandonment}}\n"),
            "rules" + defined_twice);
  EXPECT_EQ(StartupErrorOf("rules: {cart: {kind: cart_abandonment, delay: 1h, delay: 5h}}"),
            "rules.cart.delay" + defined_twice);
  EXPECT_EQ(StartupErrorOf("processing: {commit_interval: 1s, commit_interval: 2s}"),
            "processing.commit_interval" + defined_twice);
  EXPECT_EQ(StartupErrorOf("kafka: {acks: all, acks: 1}"), "kafka.acks" + defined_twice);
}

// Output written to the input topic is read again (a dead letter dead-lettered again, forever);
// two outputs in one topic mix two contracts.
TEST(ConfigTest, EveryTopicMustDiffer) {
  EXPECT_EQ(StartupErrorOf("topics: {dead_letter: {name: touchpoints}}"),
            "topics.dead_letter.name: 'touchpoints' is also topics.touchpoints's: every topic "
            "must differ");
  EXPECT_EQ(StartupErrorOf("topics: {audit: {name: triggers}}"),
            "topics.audit.name: 'triggers' is also topics.triggers's: every topic must differ");
  EXPECT_EQ(
      StartupErrorOf("consumer: {group_id: g}\ntopics: {triggers: {name: g-customers-changelog}}"),
      "topics.changelog.name: 'g-customers-changelog' is also topics.triggers's: every "
      "topic must differ");
  EXPECT_EQ(StartupErrorOf("topics: {repartition: {name: touchpoints}}"),
            "topics.repartition.name: 'touchpoints' is also topics.touchpoints's: every topic "
            "must differ");
}

// A directory opens as an empty stream: it ran with every default (a Kubernetes user passing
// the config map's mount path).
TEST(ConfigTest, ADirectoryIsNoConfigFile) {
  const std::string dir = ::testing::TempDir();
  try {
    LoadConfigFile(dir);
    ADD_FAILURE() << "a directory was read as an empty config";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": cannot read config file");
  }
}

TEST(ConfigTest, SchemaIdsPinConfluentFramedInput) {
  EXPECT_TRUE(ParseConfig("", "test.yaml").validation.schema_ids.empty());
  Config c = ParseConfig("topics: {touchpoints: {name: tp, schema_ids: [12, 0, 2147483647]}}",
                         "test.yaml");
  EXPECT_EQ(c.touchpoints.name, "tp");
  EXPECT_EQ(c.validation.schema_ids, (std::vector<int32_t>{12, 0, 2147483647}));
  EXPECT_EQ(MakeTaskSettings(c).validation.schema_ids, c.validation.schema_ids);
  EXPECT_TRUE(ParseConfig("topics: {touchpoints: {schema_ids: []}}", "test.yaml")
                  .validation.schema_ids.empty());

  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: [12, x]}}"),
            "topics.touchpoints.schema_ids[1]: 'x' is not an integer");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: [1.5]}}"),
            "topics.touchpoints.schema_ids[0]: '1.5' is not an integer");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: [-1]}}"),
            "topics.touchpoints.schema_ids[0]: -1 is out of range [0, 2147483647]");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: [2147483648]}}"),
            "topics.touchpoints.schema_ids[0]: 2147483648 is out of range [0, 2147483647]");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: 12}}"),
            "topics.touchpoints.schema_ids: expected a list of integers, e.g. [12, 13]");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_ids: [[12]]}}"),
            "topics.touchpoints.schema_ids[0]: expected an integer");
  // Only the input carries Confluent-framed events.
  EXPECT_EQ(StartupErrorOf("topics: {triggers: {schema_ids: [12]}}"),
            "topics.triggers.schema_ids: unknown key");
  EXPECT_EQ(StartupErrorOf("topics: {touchpoints: {schema_id: [12]}}"),
            "topics.touchpoints.schema_id: unknown key");
}

TEST(ConfigTest, StateLimitsErrorsNameTheKey) {
  EXPECT_EQ(StartupErrorOf("limits: {max_cart_lines: 0}"),
            "limits.max_cart_lines: 0 is out of range [1, 1000000]");
  EXPECT_EQ(StartupErrorOf("limits: {max_state_bytes: many}"),
            "limits.max_state_bytes: 'many' is not an integer");
  EXPECT_EQ(StartupErrorOf("limits: {max_lines: 3}"), "limits.max_lines: unknown key");
  // What no trim can shorten (ids of the customer and of each rule's state) must fit.
  EXPECT_EQ(StartupErrorOf("limits: {max_state_bytes: 3000}\n"
                           "rules: {c: {kind: cart_abandonment, delay: 1h}}"),
            "limits.max_state_bytes: must be at least 4200 with validation.max_field_bytes 512 "
            "and 1 rules (the ids and fields of a state that are never trimmed)");
  EXPECT_EQ(StartupErrorOf("limits: {max_state_bytes: 4200}\n"
                           "rules: {c: {kind: cart_abandonment, delay: 1h}}"),
            "no error");
}

// Every state must fit in a changelog record the producer accepts.
TEST(ConfigTest, MaxStateBytesMustFitTheProducersMessageMaxBytes) {
  EXPECT_EQ(StartupErrorOf("kafka_producer: {message.max.bytes: 200000}"),
            "limits.max_state_bytes: 524288 plus 1536 bytes for a changelog record's key, "
            "headers and timer bookkeeping must be below the producer's message.max.bytes "
            "(200000, kafka_producer.message.max.bytes); lower limits.max_state_bytes or raise "
            "message.max.bytes");
  EXPECT_NE(StartupErrorOf("kafka: {message.max.bytes: 525824}")
                .find("(525824, kafka.message.max.bytes)"),
            std::string::npos);
  EXPECT_EQ(StartupErrorOf("kafka: {message.max.bytes: 525825}"), "no error");
  // Each rule's timer index bookkeeping (processor/core/rule_timer.h) may add 13 bytes.
  const std::string two_rules =
      "rules:\n  c1: {kind: cart_abandonment}\n  c2: {kind: cart_abandonment}\n";
  EXPECT_NE(StartupErrorOf(two_rules + "kafka: {message.max.bytes: 525850}")
                .find("plus 1562 bytes"),
            std::string::npos);
  EXPECT_EQ(StartupErrorOf(two_rules + "kafka: {message.max.bytes: 525851}"), "no error");
  // The producer's own section wins over the shared one.
  EXPECT_EQ(StartupErrorOf("kafka: {message.max.bytes: 1000}\n"
                           "kafka_producer: {message.max.bytes: 2000000}"),
            "no error");
  EXPECT_EQ(StartupErrorOf("kafka_producer: {message.max.bytes: 200000}\n"
                           "limits: {max_state_bytes: 100000}"),
            "no error");
  // librdkafka's default (1000000) when unset.
  EXPECT_NE(
      StartupErrorOf("limits: {max_state_bytes: 999000}").find("(1000000, librdkafka's default)"),
      std::string::npos);
  EXPECT_EQ(StartupErrorOf("kafka_producer: {message.max.bytes: 1MB}"),
            "kafka_producer.message.max.bytes: expected an integer, got '1MB'");
  // -X and TOUCHSTREAM_KAFKA_* overrides come after the file: checked again.
  Config c = ParseConfig("", "t");
  try {
    ApplyKafkaOverrides(c, nullptr, {"message.max.bytes=100000"});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("limits.max_state_bytes: 524288 plus", 0), 0u)
        << e.what();
  }
}

TEST(ConfigTest, KafkaOverridesApplyEnvThenDashX) {
  Config c = ParseConfig("kafka: {bootstrap.servers: from-file:9092, client.id: file}", "t");
  char env1[] = "TOUCHSTREAM_KAFKA_BOOTSTRAP_SERVERS=from-env:9092";
  char env2[] = "TOUCHSTREAM_KAFKA_SASL_PASSWORD=hunter2";
  char env3[] = "HOME=/root";
  char* env[] = {env1, env2, env3, nullptr};
  ApplyKafkaOverrides(c, env, {"client.id=from-x"});
  EXPECT_EQ(c.kafka.at("bootstrap.servers"), "from-env:9092");
  EXPECT_EQ(c.kafka.at("client.id"), "from-x");
  EXPECT_EQ(c.kafka.at("sasl.password"), "hunter2");
  EXPECT_THROW(ApplyKafkaOverrides(c, nullptr, {"novalue"}), ConfigError);
}

TEST(ConfigTest, DescribeRedactsSecrets) {
  const std::string text = DescribeKafkaConfig(
      {{"sasl.password", "hunter2"}, {"ssl.key.password", "k"}, {"client.id", "ts"}});
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_NE(text.find("sasl.password=[redacted]"), std::string::npos);
  EXPECT_NE(text.find("client.id=ts"), std::string::npos);
}

TEST(ConfigTest, ExampleConfigsInDeployParse) {
  for (const char* name : {"touchstream.yaml"}) {
    const std::string path = std::string(TOUCHSTREAM_SOURCE_DIR_PATH) + "/deploy/config/" + name;
    EXPECT_NO_THROW(BuildRuleSet(LoadConfigFile(path).rules)) << path;
  }
  // Its channels section shows the defaults, as the file says of every value not an example.
  const PolicyConfig shown =
      LoadConfigFile(std::string(TOUCHSTREAM_SOURCE_DIR_PATH) + "/deploy/config/touchstream.yaml")
          .policy;
  const ChannelPolicy defaults;
  EXPECT_EQ(shown.channels.messageable, defaults.messageable);
  EXPECT_EQ(shown.channels.opt_in_required, defaults.opt_in_required);
  EXPECT_EQ(shown.channels.preference, defaults.preference);
  EXPECT_EQ(shown.timezone, PolicyConfig{}.timezone);
}

}  // namespace
}  // namespace touchstream

namespace touchstream {
namespace {

TEST(PrivacyConfigTest, ReadsTheKeyAndTheMemory) {
  const Config c =
      ParseConfig("privacy: {hash_key: \"0123456789abcdef\", erasure_memory: 7d}", "test.yaml");
  EXPECT_EQ(c.privacy.hash_key, "0123456789abcdef");
  EXPECT_EQ(c.privacy.erasure_memory_ms, 7 * kDayMs);
  EXPECT_EQ(MakeTaskSettings(c).privacy.hash_key, "0123456789abcdef");
  const Config defaults = ParseConfig("", "test.yaml");
  EXPECT_FALSE(defaults.privacy.remembers());
  EXPECT_EQ(defaults.privacy.erasure_memory_ms, 30 * kDayMs);
  EXPECT_EQ(defaults.state_cleanup_delay_ms, 10 * 60'000);
}

TEST(PrivacyConfigTest, ErrorsNameTheKey) {
  using testing::ParseErrorOf;
  EXPECT_EQ(ParseErrorOf("privacy: {hash_key: short}"),
            "privacy.hash_key: must be at least 16 bytes");
  EXPECT_EQ(ParseErrorOf("privacy: {hash_key_env: TOUCHSTREAM_TEST_UNSET_VARIABLE}"),
            "privacy.hash_key_env: the environment variable TOUCHSTREAM_TEST_UNSET_VARIABLE is "
            "not set");
  EXPECT_EQ(ParseErrorOf("privacy: {hash_key: \"0123456789abcdef\", hash_key_env: X}"),
            "privacy.hash_key_env: set either it or privacy.hash_key, not both");
  EXPECT_EQ(ParseErrorOf("privacy: {erasure_memory: 0}"),
            "privacy.erasure_memory: must be greater than 0");
  EXPECT_EQ(ParseErrorOf("privacy: {hash: x}").find("privacy.hash"), 0u);
  ::setenv("TOUCHSTREAM_TEST_HASH_KEY", "from-the-environment-0123", 1);
  EXPECT_EQ(ParseConfig("privacy: {hash_key_env: TOUCHSTREAM_TEST_HASH_KEY}", "t").privacy.hash_key,
            "from-the-environment-0123");
}

}  // namespace
}  // namespace touchstream
