// `touchstream tail`: print triggers, audit records or dead-lettered records as JSON lines.
#include <google/protobuf/struct.pb.h>
#include <openssl/evp.h>

#include <chrono>
#include <iostream>
#include <optional>

#include "audit.pb.h"
#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/core/time.h"
#include "processor/json/json_lines.h"
#include "processor/kafka/kafka_conf.h"
#include "processor/run/shutdown.h"
#include "trigger.pb.h"

namespace touchstream {

namespace {

struct TailOptions {
  std::string brokers;
  std::string topic;  // empty: the default topic of what is read
  bool dead_letter = false;
  bool audit = false;
  int64_t max_records = 0;
  std::string idle_timeout;
  std::vector<std::string> x;
};

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

// A dead-lettered record as JSON: position, key, reason headers, value in base64.
std::string DeadLetterJson(RdKafka::Message& m) {
  google::protobuf::Struct s;
  auto& f = *s.mutable_fields();
  f["partition"].set_number_value(m.partition());
  f["offset"].set_number_value(static_cast<double>(m.offset()));
  if (m.key_pointer() != nullptr) {
    f["key"].set_string_value(std::string(static_cast<const char*>(m.key_pointer()), m.key_len()));
  }
  auto& headers = *f["headers"].mutable_struct_value()->mutable_fields();
  if (RdKafka::Headers* h = m.headers(); h != nullptr) {
    for (const auto& header : h->get_all()) {
      headers[header.key()].set_string_value(
          std::string(static_cast<const char*>(header.value()), header.value_size()));
    }
  }
  f["valueBase64"].set_string_value(
      Base64(std::string_view(static_cast<const char*>(m.payload()), m.len())));
  return ToJsonLine(s);
}

// The record's value as a JSON line of `message`'s type; nullopt when it does not parse.
std::optional<std::string> ProtoJson(RdKafka::Message& m, google::protobuf::Message& message) {
  if (!message.ParseFromArray(m.payload(), static_cast<int>(m.len()))) return std::nullopt;
  return ToJsonLine(message);
}

int Tail(TailOptions opts) {
  if (opts.topic.empty()) opts.topic = opts.audit ? Config{}.audit.name : "triggers";
  std::optional<DurationMs> idle;
  if (!opts.idle_timeout.empty()) {
    idle = ParseDuration(opts.idle_timeout);
    if (!idle) {
      std::cerr << "touchstream tail: --idle-timeout: invalid duration '" << opts.idle_timeout
                << "'\n";
      return kExitUsage;
    }
  }
  KafkaProperties props{{"bootstrap.servers", opts.brokers},
                        {"group.id", "touchstream-tail"},
                        {"enable.auto.commit", "false"},
                        {"fetch.wait.max.ms", "50"}};
  if (Status s = AddPropertyItems(opts.x, props); !s.ok()) {
    std::cerr << "touchstream tail: " << s.message() << "\n";
    return kExitUsage;
  }
  auto conf = MakeKafkaConf(props);
  if (!conf.ok()) {
    std::cerr << "touchstream tail: " << conf.status().message() << "\n";
    return kExitUsage;
  }
  std::string errstr;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), errstr));
  if (!consumer) {
    std::cerr << "touchstream tail: cannot create consumer: " << errstr << "\n";
    return kExitFailure;
  }
  // Assign every partition from the beginning: no group coordination, no committed offsets.
  RdKafka::Metadata* raw_metadata = nullptr;
  std::unique_ptr<RdKafka::Topic> topic(
      RdKafka::Topic::create(consumer.get(), opts.topic, nullptr, errstr));
  RdKafka::ErrorCode err = consumer->metadata(false, topic.get(), &raw_metadata, 10'000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw_metadata);
  if (err != RdKafka::ERR_NO_ERROR || metadata->topics()->empty() ||
      metadata->topics()->at(0)->err() != RdKafka::ERR_NO_ERROR) {
    std::cerr << "touchstream tail: cannot read metadata of " << opts.topic << ": "
              << RdKafka::err2str(err != RdKafka::ERR_NO_ERROR  ? err
                                  : metadata->topics()->empty() ? RdKafka::ERR_UNKNOWN_TOPIC_OR_PART
                                                                : metadata->topics()->at(0)->err())
              << "\n";
    return kExitFailure;
  }
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto* p : *metadata->topics()->at(0)->partitions()) {
    partitions.push_back(
        RdKafka::TopicPartition::create(opts.topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
  }
  err = consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (err != RdKafka::ERR_NO_ERROR) {
    std::cerr << "touchstream tail: cannot assign: " << RdKafka::err2str(err) << "\n";
    return kExitFailure;
  }

  std::atomic<bool>& stop = InstallStopSignals();
  int64_t seen = 0;
  auto last_record = std::chrono::steady_clock::now();
  v1::Trigger trigger;
  v1::AuditRecord audit;
  google::protobuf::Message& message =
      opts.audit ? static_cast<google::protobuf::Message&>(audit) : trigger;
  while (!stop.load() && (opts.max_records == 0 || seen < opts.max_records)) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (idle &&
          std::chrono::steady_clock::now() - last_record > std::chrono::milliseconds(*idle)) {
        break;
      }
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      std::cerr << "touchstream tail: " << m->errstr() << "\n";
      continue;
    }
    last_record = std::chrono::steady_clock::now();
    ++seen;
    if (opts.dead_letter) {
      std::cout << DeadLetterJson(*m) << std::endl;
    } else if (std::optional<std::string> json = ProtoJson(*m, message)) {
      std::cout << *json << std::endl;
    } else {
      std::cerr << "touchstream tail: offset " << m->offset() << " of partition " << m->partition()
                << " is not a" << (opts.audit ? "n AuditRecord" : " Trigger") << "\n";
    }
  }
  consumer->close();
  return kExitOk;
}

}  // namespace

void AddTailCommand(CLI::App& app, Action* run) {
  auto opts = std::make_shared<TailOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tail",
      "Print a topic's records as JSON lines from the beginning: triggers by default, the "
      "policy stage's audit records with --audit, dead-lettered records with --dead-letter. "
      "Runs until Ctrl-C, --max or --idle-timeout.");
  cmd->add_option("--brokers", opts->brokers, "bootstrap servers host:port[,...]")->required();
  cmd->add_option("--topic", opts->topic,
                  "topic to read (default: triggers; with --audit: touchstream-audit, the "
                  "default of topics.audit)");
  CLI::Option* dead_letter =
      cmd->add_flag("--dead-letter", opts->dead_letter,
                    "records are dead letters: print headers and base64 value");
  cmd->add_flag("--audit", opts->audit,
                "records are audit records (proto/audit.proto): every policy decision other "
                "than an immediate send, with its reason")
      ->excludes(dead_letter);
  cmd->add_option("--max", opts->max_records, "exit after this many records (0 = no limit)")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", opts->idle_timeout,
                  "exit when no record arrives for this long, e.g. 5s");
  cmd->add_option("-X", opts->x, "librdkafka property key=value (repeatable)");
  cmd->callback([opts, run] { *run = [opts] { return Tail(*opts); }; });
}

}  // namespace touchstream
