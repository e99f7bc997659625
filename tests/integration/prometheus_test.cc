// touchstream under load, scraped by a real Prometheus server (Debian's `prometheus`, on
// loopback, 1 s scrape interval, temp storage). Every query of the Grafana dashboard and every
// alert expression is evaluated through Prometheus' HTTP API and must succeed and return
// series; the alert rules load into the server and evaluate without error; promtool checks the
// rules, their unit tests and the live /metrics output.
//
// Alert expressions are normally empty (`x > threshold` is false on a healthy system), so
// "returns no series" would mean nothing for them. Each one is therefore evaluated twice: as a
// whole (it must not error) and split at its top-level comparison and set operators (`>`,
// `==`, `and`, ...), where every operand that is not a number literal must return series.
// That proves each metric an alert reads exists, with the labels its aggregation uses.
// Dashboard variables are substituted as Grafana would with "All" selected: $job ->
// "touchstream" (the scrape job), $instance and $topic -> ".*" (all regex matchers),
// $__rate_interval -> 1m.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "processor/core/time.h"
#include "tests/integration/cluster.h"
#include "tests/unit/test_events.h"

namespace touchstream::testing {
namespace {

std::string PrometheusBin() {
  const char* env = std::getenv("PROMETHEUS_BIN");
  return env != nullptr ? env : "/usr/bin/prometheus";
}
std::string PromtoolBin() {
  const char* env = std::getenv("PROMTOOL_BIN");
  return env != nullptr ? env : "/usr/bin/promtool";
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  const size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool IsNumber(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

// Splits a PromQL expression at binary comparison and set operators that are outside
// (), {}, [] and string literals.
std::vector<std::string> TopLevelOperands(const std::string& expr) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  char quote = 0;
  auto keyword_at = [&](size_t i, const std::string& word) {
    return expr.compare(i, word.size(), word) == 0 && i > 0 && std::isspace(expr[i - 1]) &&
           i + word.size() < expr.size() && std::isspace(expr[i + word.size()]);
  };
  for (size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    if (quote != 0) {
      if (c == '\\')
        current += expr[i++];
      else if (c == quote)
        quote = 0;
      current += c;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '(' || c == '{' || c == '[') ++depth;
    if (c == ')' || c == '}' || c == ']') --depth;
    size_t skip = 0;
    if (depth == 0) {
      for (const char* op : {"==", "!=", ">=", "<="}) {
        if (expr.compare(i, 2, op) == 0) skip = 2;
      }
      if (skip == 0 && (c == '>' || c == '<')) skip = 1;
      for (const char* word : {"and", "or", "unless"}) {
        if (skip == 0 && keyword_at(i, word)) skip = std::string(word).size();
      }
    }
    if (skip > 0) {
      out.push_back(Trim(current));
      current.clear();
      i += skip - 1;
    } else {
      current += c;
    }
  }
  out.push_back(Trim(current));
  return out;
}

void CollectDashboardExprs(const YAML::Node& panels, std::vector<std::string>& out) {
  for (const auto& panel : panels) {
    if (panel["panels"]) CollectDashboardExprs(panel["panels"], out);
    for (const auto& target : panel["targets"]) out.push_back(target["expr"].as<std::string>());
  }
}

TEST(PrometheusToolsTest, AlertRulesAreValid) {
  const std::string rules = SourceDir() + "/deploy/prometheus/alerts.yml";
  ASSERT_TRUE(std::filesystem::exists(PromtoolBin()))
      << PromtoolBin() << " missing: run `make deps` (Debian package prometheus)";
  TempDir dir;
  ChildProcess check({PromtoolBin(), "check", "rules", rules}, dir.path() + "/check");
  EXPECT_EQ(check.Wait(std::chrono::seconds(30)), 0) << check.Stdout() << check.Stderr();
}

TEST(PrometheusToolsTest, AlertRuleUnitTestsPass) {
  ASSERT_TRUE(std::filesystem::exists(PromtoolBin()))
      << PromtoolBin() << " missing: run `make deps` (Debian package prometheus)";
  TempDir dir;
  ChildProcess test(
      {PromtoolBin(), "test", "rules", SourceDir() + "/deploy/prometheus/alerts_test.yml"},
      dir.path() + "/test");
  EXPECT_EQ(test.Wait(std::chrono::seconds(60)), 0) << test.Stdout() << test.Stderr();
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(PrometheusBin()))
        << PrometheusBin() << " missing: run `make deps` (Debian package prometheus)";
    http_port_ = FreeLoopbackPort();
    prometheus_port_ = FreeLoopbackPort();
    ASSERT_GT(http_port_, 0);
    ASSERT_GT(prometheus_port_, 0);
    ASSERT_NE(http_port_, prometheus_port_);
    ClusterConfig config;
    config.group_id = "prometheus-test";
    config.partitions = 2;
    config.processing = "commit_interval: 50ms";
    config.timers = "";
    config.kafka_consumer = "fetch.wait.max.ms: 20, session.timeout.ms: 6000";
    config.http = "listen: \"127.0.0.1:" + std::to_string(http_port_) +
                  "\", customers_endpoint: true, allocator_endpoint: true";
    config.rules = "rules:\n  cart_fast: {kind: cart_abandonment, delay: 1s}\n";
    cluster_ = std::make_unique<Cluster>(dir_, config);
    ASSERT_TRUE(cluster_->started()) << "embedded Kafka did not start";
    processor_ = &cluster_->Start("run");
    const std::string prometheus_config =
        dir_.Write("prometheus.yml",
                   "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                   "rule_files: ['" +
                       SourceDir() +
                       "/deploy/prometheus/alerts.yml']\n"
                       "scrape_configs:\n"
                       "  - job_name: touchstream\n"
                       "    static_configs:\n"
                       "      - targets: ['127.0.0.1:" +
                       std::to_string(http_port_) + "']\n");
    prometheus_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            PrometheusBin(), "--config.file=" + prometheus_config,
            "--storage.tsdb.path=" + dir_.path() + "/tsdb",
            "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
            "--log.level=warn"},
        dir_.path() + "/prometheus");
  }

  // Polls `fn` every 200 ms until it is true or `timeout` passes.
  static bool Eventually(const std::function<bool()>& fn, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (fn()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return fn();
  }

  // Runs an instant query; fills `error` if Prometheus rejected it.
  YAML::Node Query(const std::string& promql, std::string* error) {
    const HttpResponse r = HttpGet(prometheus_port_, "/api/v1/query?query=" + UrlEncode(promql));
    YAML::Node doc;
    try {
      doc = YAML::Load(r.body);
    } catch (const YAML::Exception& e) {
      *error = "unparsable response (HTTP " + std::to_string(r.status) + "): " + r.body;
      return {};
    }
    if (r.status != 200 || !doc["status"] || doc["status"].as<std::string>() != "success") {
      *error = "HTTP " + std::to_string(r.status) + ": " + r.body;
      return {};
    }
    return doc["data"]["result"];
  }

  size_t SeriesCount(const std::string& promql) {
    std::string error;
    YAML::Node result = Query(promql, &error);
    return error.empty() ? result.size() : 0;
  }

  // Produces carts (half are bought later, so some timers fire and some are cancelled),
  // duplicates and undecodable records until `stop`.
  void ProduceLoad(const std::atomic<bool>& stop) {
    for (int round = 0; !stop.load(); ++round) {
      const TimeMs now = NowMs();
      std::vector<std::pair<std::string, std::string>> records;
      for (int i = 0; i < 200; ++i) {
        const std::string customer = "c" + std::to_string(round) + "-" + std::to_string(i);
        const std::string id = "e" + std::to_string(round) + "-" + std::to_string(i);
        auto cart = WithItem(Event(id, customer, now, v1::EVENT_TYPE_ADD_TO_CART), "sku", 1, 100);
        records.emplace_back(customer, cart.SerializeAsString());
        if (i % 2 == 0) {
          auto buy =
              Event(id + "-buy", customer, now, v1::EVENT_TYPE_PURCHASE, v1::CHANNEL_IN_STORE);
          records.emplace_back(customer, buy.SerializeAsString());
        }
        if (i % 10 == 0) records.emplace_back(customer, cart.SerializeAsString());  // duplicate
        if (i % 20 == 0) records.emplace_back(customer, "not a protobuf \xff\xff");
      }
      cluster_->Produce(records);
      produced_ += records.size();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }

  static TimeMs NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  TempDir dir_;
  int http_port_ = 0;
  int prometheus_port_ = 0;
  std::unique_ptr<Cluster> cluster_;
  ChildProcess* processor_ = nullptr;  // owned by cluster_
  std::unique_ptr<ChildProcess> prometheus_;
  std::atomic<size_t> produced_{0};
};

TEST_F(PrometheusTest, DashboardAndAlertQueriesReturnSeriesFromRealPrometheus) {
  // Series exist at zero before any input, and the process is live before it is ready.
  ASSERT_TRUE(Eventually([&] { return HttpGet(http_port_, "/healthz").status == 200; },
                         std::chrono::seconds(15)))
      << processor_->Stderr();
  const std::string idle_metrics = HttpGet(http_port_, "/metrics").body;
  EXPECT_NE(idle_metrics.find("\ntouchstream_events_deduplicated_total 0\n"), std::string::npos);
  EXPECT_NE(idle_metrics.find("\ntouchstream_rocksdb_background_errors_total 0\n"),
            std::string::npos);
  ASSERT_TRUE(Eventually([&] { return HttpGet(http_port_, "/readyz").status == 200; },
                         std::chrono::seconds(20)))
      << HttpGet(http_port_, "/readyz").body << processor_->Stderr();
  ASSERT_TRUE(Eventually([&] { return HttpGet(prometheus_port_, "/-/ready").status == 200; },
                         std::chrono::seconds(20)))
      << prometheus_->Stderr();

  std::atomic<bool> stop{false};
  std::thread producer([&] { ProduceLoad(stop); });
  // Load runs until Prometheus has seen records consumed and timer-fired triggers, over
  // enough scrapes for rate() windows.
  const bool scraped = Eventually(
      [&] {
        return SeriesCount("touchstream_records_consumed_total > 0") > 0 &&
               SeriesCount("touchstream_timer_fire_delay_seconds_count > 0") > 0 &&
               SeriesCount("count_over_time(up{job=\"touchstream\"}[1m]) >= 6") > 0;
      },
      std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // two more scrapes under load
  stop = true;
  producer.join();
  ASSERT_TRUE(scraped) << "Prometheus never saw the load; produced " << produced_.load() << "\n"
                       << processor_->Stderr() << prometheus_->Stderr();

  // Every dashboard query returns series.
  const YAML::Node dashboard = YAML::LoadFile(SourceDir() + "/deploy/grafana/touchstream.json");
  std::vector<std::string> exprs;
  CollectDashboardExprs(dashboard["panels"], exprs);
  ASSERT_GE(exprs.size(), 20u);
  for (const auto& variable : dashboard["templating"]["list"]) {
    if (variable["type"].as<std::string>() != "query") continue;
    // label_values(<selector>, <label>): the selector must match series.
    const std::string query = variable["query"]["query"].as<std::string>();
    const size_t open = query.find('(');
    const size_t comma = query.rfind(',');
    ASSERT_TRUE(query.rfind("label_values(", 0) == 0 && comma != std::string::npos) << query;
    exprs.push_back(query.substr(open + 1, comma - open - 1));
  }
  for (const std::string& raw : exprs) {
    std::string expr = Replace(raw, "$__rate_interval", "1m");
    expr = Replace(expr, "$job", "touchstream");
    expr = Replace(Replace(expr, "$instance", ".*"), "$topic", ".*");
    std::string error;
    const YAML::Node result = Query(expr, &error);
    EXPECT_TRUE(error.empty()) << "dashboard query failed: " << expr << "\n" << error;
    EXPECT_GT(result.size(), 0u) << "dashboard query returned no series: " << expr;
  }

  // Every alert expression evaluates; every operand of it returns series.
  const YAML::Node alerts = YAML::LoadFile(SourceDir() + "/deploy/prometheus/alerts.yml");
  size_t alert_count = 0;
  for (const auto& group : alerts["groups"]) {
    for (const auto& rule : group["rules"]) {
      ++alert_count;
      const std::string name = rule["alert"].as<std::string>();
      const std::string expr = rule["expr"].as<std::string>();
      std::string error;
      Query(expr, &error);
      EXPECT_TRUE(error.empty()) << name << ": " << error;
      size_t operands = 0;
      for (const std::string& operand : TopLevelOperands(expr)) {
        if (IsNumber(operand)) continue;
        ++operands;
        const YAML::Node result = Query(operand, &error);
        EXPECT_TRUE(error.empty()) << name << " operand " << operand << ": " << error;
        EXPECT_GT(result.size(), 0u) << name << " operand returned no series: " << operand;
      }
      EXPECT_GT(operands, 0u) << name << ": no operand found in " << expr;
    }
  }
  EXPECT_GE(alert_count, 8u);

  // The server loaded the same rules and evaluates them without error.
  ASSERT_TRUE(Eventually(
      [&] {
        const YAML::Node doc = YAML::Load(HttpGet(prometheus_port_, "/api/v1/rules").body);
        size_t ok = 0;
        for (const auto& group : doc["data"]["groups"]) {
          for (const auto& rule : group["rules"]) {
            if (rule["health"].as<std::string>() == "ok") ++ok;
          }
        }
        return ok == alert_count;
      },
      std::chrono::seconds(10)))
      << HttpGet(prometheus_port_, "/api/v1/rules").body;

  // promtool accepts the live /metrics output; names follow the conventions.
  const std::string metrics = HttpGet(http_port_, "/metrics").body;
  const std::string metrics_path = dir_.Write("metrics.txt", metrics);
  ChildProcess check({"/bin/sh", "-c", PromtoolBin() + " check metrics < " + metrics_path},
                     dir_.path() + "/check-metrics");
  EXPECT_EQ(check.Wait(std::chrono::seconds(30)), 0) << check.Stdout() << check.Stderr();
  EXPECT_EQ(check.Stdout() + check.Stderr(), "") << "promtool check metrics complained";
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_TRUE(name.rfind("touchstream_", 0) == 0 || name.rfind("process_", 0) == 0) << name;
  }
  EXPECT_EQ(metrics.find("customer_id="), std::string::npos) << "a customer label leaked";
  EXPECT_EQ(metrics.find("customer="), std::string::npos) << "a customer label leaked";

  // The debugging view shows a customer the load created.
  const HttpResponse customer = HttpGet(http_port_, "/customers/c0-1");
  EXPECT_EQ(customer.status, 200) << customer.body;
  EXPECT_NE(customer.body.find("\"customerId\":\"c0-1\""), std::string::npos) << customer.body;
  // ...and the policy stage's view of them (customer_view.h), with the config's channels.
  EXPECT_NE(customer.body.find(",\"policy\":{\"timezone\":{\"name\":\"UTC\",\"default\":true},"
                               "\"consent\":[{\"channel\":\"CHANNEL_EMAIL\""),
            std::string::npos)
      << customer.body;
  EXPECT_EQ(HttpGet(http_port_, "/customers/nobody").status, 404);

  // The allocator's own report, by size class, beside touchstream_allocator_bytes.
  const HttpResponse allocator = HttpGet(http_port_, "/debug/allocator");
  EXPECT_EQ(allocator.status, 200) << allocator.body;
  EXPECT_NE(allocator.body.find("___ Begin jemalloc statistics ___"), std::string::npos)
      << allocator.body;
  EXPECT_NE(allocator.body.find("bins:"), std::string::npos) << allocator.body;

  EXPECT_EQ(processor_->Stop(), 0) << processor_->Stderr();
}

TEST(PromQlOperandsTest, SplitsAtTopLevelComparisonsAndSetOperators) {
  EXPECT_EQ(TopLevelOperands("sum by (a) (x{l=~\"a|b\", m!=\"c>d\"}) > 5\nand\nrate(y[5m]) == 0"),
            (std::vector<std::string>{"sum by (a) (x{l=~\"a|b\", m!=\"c>d\"})", "5", "rate(y[5m])",
                                      "0"}));
  EXPECT_EQ(TopLevelOperands("a / b < 0.05"), (std::vector<std::string>{"a / b", "0.05"}));
  EXPECT_EQ(TopLevelOperands("histogram_quantile(0.99, sum by (le) (rate(h[1m])))"),
            (std::vector<std::string>{"histogram_quantile(0.99, sum by (le) (rate(h[1m])))"}));
}

}  // namespace
}  // namespace touchstream::testing
