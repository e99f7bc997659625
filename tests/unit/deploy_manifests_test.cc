// deploy/docker and deploy/k8s: every file parses as YAML, and references only what exists in
// the project: build files, mounted paths, the image's version, the ports and state directory
// of the config they embed (parsed by the real config parser), endpoints the processor serves,
// topics the config names (the changelog compacted, with a compaction lag above the zombie
// window) and librdkafka properties behind TOUCHSTREAM_KAFKA_* variables.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "processor/config/config.h"
#include "processor/core/time.h"
#include "processor/rules/rule_registry.h"

namespace touchstream {
namespace {

namespace fs = std::filesystem;

std::string Source() { return TOUCHSTREAM_SOURCE_DIR_PATH; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ProjectVersion() {
  std::smatch m;
  const std::string cmake = ReadText(Source() + "/CMakeLists.txt");
  return std::regex_search(cmake, m, std::regex(R"(project\(touchstream VERSION ([0-9.]+))"))
             ? m[1].str()
             : "";
}

std::string Port(const std::string& listen) { return listen.substr(listen.rfind(':') + 1); }

// Each TOUCHSTREAM_KAFKA_* variable maps (as `run` maps it) to a real librdkafka property.
void ExpectKafkaEnv(const std::string& name, const std::string& value) {
  if (name.rfind("TOUCHSTREAM_", 0) != 0) return;
  ASSERT_EQ(name.rfind("TOUCHSTREAM_KAFKA_", 0), 0u) << name << " is not read by touchstream";
  Config config;
  config.kafka.clear();
  std::string item = name + "=" + value;
  char* env[] = {item.data(), nullptr};
  ApplyKafkaOverrides(config, env, {});
  ASSERT_EQ(config.kafka.size(), 1u) << name;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string errstr;
  EXPECT_EQ(conf->set(config.kafka.begin()->first, config.kafka.begin()->second, errstr),
            RdKafka::Conf::CONF_OK)
      << name << ": " << errstr;
}

const std::set<std::string> kServedPaths = {"/metrics", "/healthz", "/readyz"};

// The zombie window of `config` (README, "Scale-out and the changelog"): session.timeout.ms +
// message.timeout.ms, librdkafka's defaults (45 s, 300 s) unless the config sets them.
int64_t ZombieWindowMs(const Config& config) {
  auto property = [&](const std::map<std::string, std::string>& own, const char* name,
                      const char* alias, int64_t fallback) -> int64_t {
    for (const auto* props : {&own, &config.kafka}) {
      for (const char* key : {name, alias}) {
        if (auto it = props->find(key); it != props->end()) return std::stoll(it->second);
      }
    }
    return fallback;
  };
  return property(config.kafka_consumer, "session.timeout.ms", "session.timeout.ms", 45'000) +
         property(config.kafka_producer, "message.timeout.ms", "delivery.timeout.ms", 300'000);
}

// A stop of `config` ends within `grace_ms` (README, `run` and processing.stop_timeout): the
// last commit's delivery for up to processing.stop_timeout, then leaving the group, about 10 s,
// plus the revocation's own flush of up to 5 s; under exactly_once a stop that comes while the
// input offsets are added to a transaction (a call that cannot be resumed) waits for that call
// first.
void ExpectGraceCoversTheStop(int64_t grace_ms, const Config& config, const std::string& where) {
  const int64_t longest_stop_ms = config.stop_timeout_ms + 15'000 +
                                  (config.exactly_once ? config.transaction_call_timeout_ms : 0);
  EXPECT_GE(grace_ms, longest_stop_ms)
      << where << ": the grace period is shorter than a stop may take";
}

// `text` creates (or tells how to create) the changelog of `config` compacted, with
// min.compaction.lag.ms of at least the zombie window.
void ExpectCompactedChangelog(const std::string& text, const Config& config,
                              const std::string& where) {
  EXPECT_NE(text.find("--topic " + config.changelog.name + " --partitions " +
                      std::to_string(config.changelog.partitions) + " "),
            std::string::npos)
      << where << " does not create " << config.changelog.name;
  EXPECT_NE(text.find("--config cleanup.policy=compact"), std::string::npos) << where;
  std::smatch lag;
  ASSERT_TRUE(
      std::regex_search(text, lag, std::regex(R"(--config min\.compaction\.lag\.ms=(\d+))")))
      << where << ": the changelog needs min.compaction.lag.ms (README)";
  EXPECT_GE(std::stoll(lag[1].str()), ZombieWindowMs(config))
      << where << ": min.compaction.lag.ms below the zombie window";
}

// `text` creates (or tells how to create) the repartition topic of `config` with the input's
// partition count and the delete policy.
void ExpectRepartitionTopic(const std::string& text, const Config& config,
                            const std::string& where) {
  const std::string create = "--topic " + config.repartition.name + " --partitions " +
                             std::to_string(config.touchpoints.partitions) + " ";
  const size_t at = text.find(create);
  ASSERT_NE(at, std::string::npos) << where << " does not create " << config.repartition.name;
  const std::string line = text.substr(at, text.find('\n', at) - at);
  EXPECT_NE(line.find("--config cleanup.policy=delete"), std::string::npos)
      << where << ": " << line;
}

TEST(DeployManifestsTest, ComposeReferencesExistingFilesPortsAndTopics) {
  const std::string dir = Source() + "/deploy/docker";
  const YAML::Node compose = YAML::LoadFile(dir + "/compose.yaml");
  const YAML::Node services = compose["services"];
  for (const char* name : {"kafka", "kafka-init", "touchstream", "prometheus", "grafana"}) {
    ASSERT_TRUE(services[name]) << "service " << name;
  }
  for (const auto& service : services) {
    const std::string image = service.second["image"].as<std::string>("");
    EXPECT_TRUE(image.find(':') != std::string::npos && image.find(":latest") == std::string::npos)
        << service.first << ": pin the image tag: " << image;
    for (const auto& volume : service.second["volumes"]) {
      const std::string spec = volume.as<std::string>();
      if (spec[0] != '.') continue;  // a named volume
      EXPECT_TRUE(fs::exists(dir + "/" + spec.substr(0, spec.find(':'))))
          << service.first << " mounts a missing file: " << spec;
    }
    for (const auto& env : service.second["environment"]) {
      ExpectKafkaEnv(env.first.as<std::string>(), env.second.as<std::string>());
    }
  }

  const YAML::Node ts = services["touchstream"];
  EXPECT_EQ(ts["image"].as<std::string>(), "touchstream:" + ProjectVersion());
  const std::string context = dir + "/" + ts["build"]["context"].as<std::string>();
  EXPECT_TRUE(fs::exists(context + "/" + ts["build"]["dockerfile"].as<std::string>()));
  EXPECT_TRUE(fs::exists(context + "/CMakeLists.txt")) << "build context is not the repo root";

  const Config config =
      ParseConfig(compose["configs"]["touchstream-config"]["content"].as<std::string>(),
                  "compose touchstream-config");
  EXPECT_NO_THROW(BuildRuleSet(config.rules));
  EXPECT_EQ(ts["configs"][0]["target"].as<std::string>(), ts["command"][2].as<std::string>());
  EXPECT_EQ(ts["ports"][0].as<std::string>(),
            Port(config.metrics_listen) + ":" + Port(config.metrics_listen));
  // state.dir inside the volume, not its mount point: a corrupt store is renamed beside it.
  EXPECT_EQ(ts["volumes"][0].as<std::string>(),
            "touchstream-data:" + fs::path(config.state_dir).parent_path().string());

  const std::string init = services["kafka-init"]["command"][0].as<std::string>();
  for (const TopicConfig& topic :
       {config.touchpoints, config.triggers, config.dead_letter, config.audit}) {
    EXPECT_NE(init.find("--topic " + topic.name + " --partitions " +
                        std::to_string(topic.partitions) + " "),
              std::string::npos)
        << "kafka-init does not create " << topic.name;
  }
  ExpectCompactedChangelog(init, config, "kafka-init");
  const std::optional<DurationMs> grace = ParseDuration(ts["stop_grace_period"].as<std::string>());
  ASSERT_TRUE(grace.has_value()) << ts["stop_grace_period"].as<std::string>();
  ExpectGraceCoversTheStop(*grace, config, "compose's stop_grace_period");
  ExpectRepartitionTopic(init, config, "kafka-init");

  const YAML::Node prometheus = YAML::LoadFile(Source() + "/deploy/prometheus/prometheus.yml");
  EXPECT_EQ(prometheus["scrape_configs"][0]["job_name"].as<std::string>(), "touchstream");
  EXPECT_EQ(prometheus["scrape_configs"][0]["static_configs"][0]["targets"][0].as<std::string>(),
            "touchstream:" + Port(config.metrics_listen));
  const std::string rules = prometheus["rule_files"][0].as<std::string>();
  EXPECT_NE(ReadText(dir + "/compose.yaml").find("../prometheus/alerts.yml:" + rules + ":ro"),
            std::string::npos);

  const YAML::Node provider =
      YAML::Load(compose["configs"]["grafana-dashboards"]["content"].as<std::string>());
  const std::string dashboards = provider["providers"][0]["options"]["path"].as<std::string>();
  EXPECT_EQ(services["grafana"]["volumes"][0].as<std::string>(),
            "../grafana/touchstream.json:" + dashboards + "/touchstream.json:ro");
}

TEST(DeployManifestsTest, DockerfileCopiesExistingPathsAndIsNonRoot) {
  const std::string dockerfile = ReadText(Source() + "/deploy/docker/Dockerfile");
  std::istringstream lines(dockerfile);
  int copies = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("COPY ", 0) != 0 || line.find("--from") != std::string::npos) continue;
    std::istringstream words(line.substr(5));
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      ++copies;
      EXPECT_TRUE(fs::exists(Source() + "/" + args[i])) << line;
    }
  }
  EXPECT_GT(copies, 0);
  EXPECT_NE(dockerfile.find("\nUSER 10001"), std::string::npos);
  EXPECT_NE(dockerfile.find("\nENTRYPOINT [\"/usr/local/bin/touchstream\"]"), std::string::npos);
}

// The image runs deploy/config/touchstream.yaml as its sed expressions change it: the state on
// the volume README "Deploy" names, /metrics on every interface (the port the image exposes).
TEST(DeployManifestsTest, TheImagesConfigKeepsStateOnItsVolumeAndServesMetricsOutside) {
  const std::string dockerfile = ReadText(Source() + "/deploy/docker/Dockerfile");
  std::string config = ReadText(Source() + "/deploy/config/touchstream.yaml");
  const std::regex expression(R"(-e 's\|\^([^|]*)\|([^|]*)\|')");
  int applied = 0;
  for (auto it = std::sregex_iterator(dockerfile.begin(), dockerfile.end(), expression);
       it != std::sregex_iterator(); ++it, ++applied) {
    const std::string from = "\n" + (*it)[1].str();
    const size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << "no line starts with '" << (*it)[1] << "'";
    EXPECT_EQ(config.find(from, at + 1), std::string::npos) << (*it)[1] << ": more than one line";
    config.replace(at, from.size(), "\n" + (*it)[2].str());
  }
  EXPECT_EQ(applied, 2);
  const Config parsed = ParseConfig(config, "image");
  EXPECT_EQ(parsed.state_dir, "/var/lib/touchstream/state");
  EXPECT_EQ(parsed.metrics_listen, "0.0.0.0:9464");
  EXPECT_NE(dockerfile.find("\nVOLUME /var/lib/touchstream\n"), std::string::npos);
  EXPECT_NE(dockerfile.find("\nEXPOSE 9464\n"), std::string::npos);
}

TEST(DeployManifestsTest, KubernetesManifestsAgreeWithTheConfigAndEndpoints) {
  const std::string dir = Source() + "/deploy/k8s";
  const YAML::Node kustomization = YAML::LoadFile(dir + "/kustomization.yaml");
  std::map<std::string, YAML::Node> by_kind;
  for (const auto& resource : kustomization["resources"]) {
    const std::string path = dir + "/" + resource.as<std::string>();
    ASSERT_TRUE(fs::exists(path)) << path;
    const YAML::Node doc = YAML::LoadFile(path);
    by_kind[doc["kind"].as<std::string>()] = doc;
  }
  for (const char* kind : {"ConfigMap", "Service", "PodDisruptionBudget", "StatefulSet"}) {
    ASSERT_TRUE(by_kind.count(kind)) << kind;
  }
  const YAML::Node configmap = by_kind["ConfigMap"];
  const YAML::Node sts = by_kind["StatefulSet"];
  const YAML::Node pod = sts["spec"]["template"];
  const YAML::Node container = pod["spec"]["containers"][0];
  const std::string config_key = configmap["data"].begin()->first.as<std::string>();
  const Config config = ParseConfig(configmap["data"][config_key].as<std::string>(), "configmap");
  EXPECT_NO_THROW(BuildRuleSet(config.rules));
  // In production a replay (an offset reset, a long downtime) must not message customers about
  // what is long past (README, "Policies", staleness).
  EXPECT_GT(config.policy.max_trigger_age_ms, 0)
      << "the ConfigMap sets no policies.max_trigger_age";
  // One future-dated event must not move a partition's clock ahead for good.
  EXPECT_GT(config.validation.max_wall_clock_skew_ms, 0)
      << "the ConfigMap sets no validation.max_wall_clock_skew";
  ExpectCompactedChangelog(configmap["data"][config_key].as<std::string>(), config,
                           "the ConfigMap's changelog comment");
  ExpectRepartitionTopic(configmap["data"][config_key].as<std::string>(), config,
                         "the ConfigMap's repartition comment");
  EXPECT_NE(configmap["data"][config_key].as<std::string>().find(
                "kafka-topics.sh --create --topic " + config.audit.name + " --partitions " +
                std::to_string(config.audit.partitions) + " "),
            std::string::npos)
      << "the ConfigMap does not tell how to create " << config.audit.name;

  ExpectGraceCoversTheStop(pod["spec"]["terminationGracePeriodSeconds"].as<int64_t>() * 1'000,
                           config, "terminationGracePeriodSeconds");
  EXPECT_EQ(container["image"].as<std::string>(), "touchstream:" + ProjectVersion());
  const std::string port = Port(config.metrics_listen);
  EXPECT_EQ(container["ports"][0]["containerPort"].as<std::string>(), port);
  const std::string port_name = container["ports"][0]["name"].as<std::string>();
  EXPECT_EQ(pod["metadata"]["annotations"]["prometheus.io/port"].as<std::string>(), port);
  EXPECT_TRUE(
      kServedPaths.count(pod["metadata"]["annotations"]["prometheus.io/path"].as<std::string>()));
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    EXPECT_TRUE(kServedPaths.count(container[probe]["httpGet"]["path"].as<std::string>()));
    EXPECT_EQ(container[probe]["httpGet"]["port"].as<std::string>(), port_name) << probe;
  }
  EXPECT_EQ(by_kind["Service"]["spec"]["ports"][0]["targetPort"].as<std::string>(), port_name);
  EXPECT_EQ(by_kind["Service"]["spec"]["clusterIP"].as<std::string>(), "None");
  EXPECT_EQ(sts["spec"]["serviceName"].as<std::string>(),
            by_kind["Service"]["metadata"]["name"].as<std::string>());

  std::map<std::string, std::string> mounts;  // volume name -> mount path
  for (const auto& m : container["volumeMounts"]) {
    mounts[m["name"].as<std::string>()] = m["mountPath"].as<std::string>();
  }
  const std::string claim =
      sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>();
  EXPECT_EQ(mounts[claim], fs::path(config.state_dir).parent_path().string())
      << "state.dir must be a directory inside the PVC (a corrupt store is renamed beside it)";
  std::string config_volume;
  for (const auto& v : pod["spec"]["volumes"]) {
    if (v["configMap"]["name"].as<std::string>("") ==
        configmap["metadata"]["name"].as<std::string>()) {
      config_volume = v["name"].as<std::string>();
    }
  }
  ASSERT_FALSE(config_volume.empty()) << "the ConfigMap is not mounted";
  EXPECT_EQ(container["args"][2].as<std::string>(), mounts[config_volume] + "/" + config_key);

  bool static_membership = false;
  for (const auto& env : container["env"]) {
    const std::string name = env["name"].as<std::string>();
    ExpectKafkaEnv(name, env["value"].as<std::string>("pod-0"));
    if (name == "TOUCHSTREAM_KAFKA_GROUP_INSTANCE_ID") {
      static_membership =
          env["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>("") == "metadata.name";
    }
  }
  EXPECT_TRUE(static_membership) << "group.instance.id must come from the pod name";
  EXPECT_GE(pod["spec"]["terminationGracePeriodSeconds"].as<int>(), 30);
  const YAML::Node labels = pod["metadata"]["labels"];
  for (const auto& l : by_kind["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]) {
    EXPECT_EQ(labels[l.first.as<std::string>()].as<std::string>(""), l.second.as<std::string>());
  }
}

}  // namespace
}  // namespace touchstream
