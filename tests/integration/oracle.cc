#include "tests/integration/oracle.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "audit.pb.h"
#include "processor/backtest/backtest.h"
#include "processor/demo/journey_generator.h"
#include "processor/json/json_lines.h"
#include "tests/unit/test_events.h"
#include "trigger.pb.h"

namespace touchstream::testing {

Oracle BacktestOracle(const std::string& config_yaml,
                      const std::map<int32_t, std::vector<std::string>>& partitions) {
  Oracle oracle;
  std::map<std::string, std::string> states;
  for (const auto& [partition, values] : partitions) {
    std::stringstream in, out, audits, errors;
    for (const std::string& value : values) {
      v1::TouchpointEvent e;
      if (!e.ParseFromString(value)) continue;  // run dead-letters it; no trigger, no state
      in << ToJsonLine(e) << "\n";
    }
    MemoryStore store;
    BacktestOptions options;
    options.audit_out = &audits;
    RunBacktest(ParseConfig(config_yaml, "oracle"), in, out, errors, options, &store);
    for (const auto& [id, state] : store.customers()) {
      if (state.first_seen_ms() != 0) states[id] = ToJsonLine(state);
    }
    std::string line;
    while (std::getline(out, line)) {
      v1::Trigger t;
      if (ParseJsonLine(line, &t).ok()) oracle.triggers[t.trigger_id()] = t.SerializeAsString();
    }
    while (std::getline(audits, line)) {
      v1::AuditRecord a;
      EXPECT_TRUE(ParseJsonLine(line, &a).ok()) << line;
      oracle.audits.push_back(a.SerializeAsString());
    }
  }
  for (const auto& [id, line] : states) oracle.state += line + "\n";
  return oracle;
}

std::map<int32_t, std::vector<std::string>> ReadPartitions(const std::string& bootstrap,
                                                           const std::string& topic, int partitions,
                                                           size_t count) {
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, errstr);
  conf->set("group.id", "oracle-reader", errstr);
  conf->set("enable.auto.commit", "false", errstr);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int p = 0; p < partitions; ++p) {
    assignment.push_back(
        RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  std::map<int32_t, std::vector<std::string>> out;
  size_t read = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read < count && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    out[m->partition()].emplace_back(static_cast<const char*>(m->payload()), m->len());
    ++read;
  }
  consumer->close();
  return out;
}

DeliveryCheck CheckDelivery(const Oracle& oracle, const std::vector<Record>& records) {
  DeliveryCheck check;
  std::set<std::string> seen;
  for (const Record& r : records) {
    v1::Trigger t;
    if (!t.ParseFromString(r.value)) {
      ++check.unknown;
      continue;
    }
    seen.insert(t.trigger_id());
    auto it = oracle.triggers.find(t.trigger_id());
    if (it == oracle.triggers.end()) {
      ++check.unknown;
    } else if (it->second != r.value) {
      ++check.differing;
    }
  }
  for (const auto& [id, bytes] : oracle.triggers) check.missing += seen.count(id) == 0;
  check.delivered = records.size();
  check.distinct = seen.size();
  return check;
}

AuditCheck CheckAudits(const Oracle& oracle, const std::vector<Record>& records) {
  // Audit records carry no id of their own: a record is its bytes (every field is decided in
  // event time, so a repeat after a crash is byte-identical).
  const std::set<std::string> expected(oracle.audits.begin(), oracle.audits.end());
  std::set<std::string> seen;
  AuditCheck check;
  for (const Record& r : records) {
    seen.insert(r.value);
    check.unknown += expected.count(r.value) == 0;
  }
  for (const std::string& bytes : expected) check.missing += seen.count(bytes) == 0;
  check.delivered = records.size();
  check.distinct = seen.size();
  return check;
}

std::vector<std::pair<std::string, std::string>> JourneyLoad(uint64_t seed, int customers,
                                                             size_t count) {
  JourneyOptions options;
  options.seed = seed;
  options.journeys_per_second = 3;
  options.customers = customers;
  options.step_ms = 20'000;
  JourneyGenerator generator(options);
  std::vector<std::pair<std::string, std::string>> events;
  for (TimeMs now = kT0; events.size() < count; now += 1000) {
    for (auto& e : generator.Poll(now)) events.emplace_back(e.customer_id(), e.SerializeAsString());
  }
  events.resize(count);
  return events;
}

std::string AwaitState(const std::string& config_path, const std::string& expected,
                       const std::string& log_prefix, std::chrono::seconds timeout,
                       const std::function<bool()>& keep_going) {
  std::string dumped;
  std::string error;  // of the last failed dump (e.g. the store does not exist yet)
  bool dumped_once = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    ChildProcess dump({TouchstreamBin(), "state-dump", "--config", config_path}, log_prefix);
    if (dump.Wait(std::chrono::seconds(30)) == 0) {
      dumped = dump.Stdout();
      dumped_once = true;
      if (dumped == expected) break;
    } else {
      error = dump.Stderr();
    }
    if (keep_going && !keep_going()) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  EXPECT_TRUE(dumped_once) << "state-dump never succeeded: " << error;
  return dumped;
}

namespace {

// How two state-dumps (JSON lines sorted by customer id) differ: how many lines of each the
// other lacks, and the first such line of each.
std::string StateDifference(const std::string& dumped, const std::string& expected) {
  auto lines = [](const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.insert(line);
    return out;
  };
  const std::set<std::string> got = lines(dumped), want = lines(expected);
  std::vector<std::string> extra, missing;
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::string out = std::to_string(extra.size()) + " dumped lines not in the oracle's, " +
                    std::to_string(missing.size()) + " oracle lines not dumped";
  if (!extra.empty()) out += "\nfirst dumped: " + extra.front();
  if (!missing.empty()) out += "\nfirst oracle: " + missing.front();
  return out;
}

}  // namespace

void ExpectInvariants(const Oracle& oracle, const std::vector<Record>& output,
                      const std::string& dumped, const std::string& dir) {
  const DeliveryCheck check = CheckDelivery(oracle, output);
  EXPECT_EQ(check.missing, 0u) << "I1: oracle triggers missing from the output";
  EXPECT_EQ(check.unknown, 0u) << "I2: trigger ids the oracle does not emit";
  EXPECT_EQ(check.differing, 0u) << "I2: copies of one id must be identical";
  EXPECT_TRUE(dumped == oracle.state)
      << "I3: the final state differs from the oracle's; compare the last state-dump with " << dir
      << "/oracle_state.jsonl: " << StateDifference(dumped, oracle.state);
  if (dumped != oracle.state) std::ofstream(dir + "/oracle_state.jsonl") << oracle.state;
  std::cout << "oracle=" << oracle.triggers.size() << " delivered=" << check.delivered
            << " (duplicates " << check.delivered - check.distinct << ")\n";
}

}  // namespace touchstream::testing
