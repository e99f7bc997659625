// `touchstream produce`: JSON-lines events to protobuf records keyed by customer_id, plain or
// in Confluent's framing.
#include <fstream>
#include <iostream>
#include <limits>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/core/clock.h"
#include "processor/core/confluent_framing.h"
#include "processor/core/event_validator.h"
#include "processor/json/json_lines.h"
#include "processor/kafka/kafka_conf.h"
#include "touchpoint.pb.h"

namespace touchstream {

namespace {

struct ProduceOptions {
  std::string brokers;
  std::string topic = "touchpoints";
  std::string input = "-";
  bool no_validate = false;
  std::string framing = "plain";  // or "confluent"
  int32_t schema_id = 1;          // with --framing confluent
  std::vector<std::string> x;
};

// Counts the records Kafka did not take (flush() returns once each has a report, delivered or
// not), remembering the first error.
class DeliveryFailures : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) return;
    if (count_++ == 0) first_ = message.errstr();
  }
  uint64_t count() const { return count_; }
  const std::string& first() const { return first_; }

 private:
  uint64_t count_ = 0;
  std::string first_;
};

int Produce(const ProduceOptions& opts) {
  // murmur2 of the key: the partition that owns the customer (README, "Which partition owns a
  // customer"), as the Java client partitions.
  KafkaProperties props{
      {"bootstrap.servers", opts.brokers}, {"linger.ms", "5"}, {"partitioner", "murmur2_random"}};
  if (Status s = AddPropertyItems(opts.x, props); !s.ok()) {
    std::cerr << "touchstream produce: " << s.message() << "\n";
    return kExitUsage;
  }
  auto conf = MakeKafkaConf(props, {{"enable.idempotence", "true"}});
  if (!conf.ok()) {
    std::cerr << "touchstream produce: " << conf.status().message() << "\n";
    return kExitUsage;
  }
  std::string errstr;
  DeliveryFailures failures;  // outlives the producer
  if ((*conf)->set("dr_cb", &failures, errstr) != RdKafka::Conf::CONF_OK) {
    std::cerr << "touchstream produce: " << errstr << "\n";
    return kExitFailure;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), errstr));
  if (!producer) {
    std::cerr << "touchstream produce: cannot create producer: " << errstr << "\n";
    return kExitFailure;
  }
  std::ifstream file;
  if (opts.input != "-") {
    file.open(opts.input);
    if (!file) {
      std::cerr << "touchstream produce: cannot read " << opts.input << "\n";
      return kExitUsage;
    }
  }
  std::istream& in = opts.input == "-" ? std::cin : file;

  const EventValidator validator{ValidationLimits{}};
  const SystemClock clock;
  // Prepended to every record as KafkaProtobufSerializer does; empty for plain protobuf.
  const int32_t touchpoint_event_path[] = {kTouchpointEventMessageIndex};
  const std::string framing = opts.framing == "confluent"
                                  ? ConfluentFramingPrefix(opts.schema_id, touchpoint_event_path)
                                  : std::string();
  v1::TouchpointEvent event;
  std::string line;
  std::string bytes;
  uint64_t line_number = 0, produced = 0, rejected = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (IsBlankOrComment(line)) continue;
    if (Status s = ParseJsonLine(line, &event); !s.ok()) {
      std::cerr << "line " << line_number << ": rejected: undecodable: " << s.message() << "\n";
      ++rejected;
      continue;
    }
    if (!opts.no_validate) {
      Verdict v = validator.Validate(event, clock.NowMs());
      if (!v.ok()) {
        std::cerr << "line " << line_number << ": rejected: " << RejectReasonName(v.reason) << ": "
                  << v.detail << "\n";
        ++rejected;
        continue;
      }
    }
    bytes = framing;
    event.AppendToString(&bytes);
    while (true) {
      RdKafka::ErrorCode err = producer->produce(
          opts.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, bytes.data(),
          bytes.size(), event.customer_id().data(), event.customer_id().size(), 0, nullptr);
      if (err == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(50);
        continue;
      }
      if (err != RdKafka::ERR_NO_ERROR) {
        std::cerr << "touchstream produce: " << RdKafka::err2str(err) << "\n";
        return kExitFailure;
      }
      break;
    }
    ++produced;
    producer->poll(0);
  }
  if (producer->flush(30'000) != RdKafka::ERR_NO_ERROR || producer->outq_len() > 0) {
    std::cerr << "touchstream produce: " << producer->outq_len()
              << " records not delivered within 30s\n";
    return kExitFailure;
  }
  if (failures.count() > 0) {
    std::cerr << "touchstream produce: " << failures.count() << " of " << produced
              << " records not delivered (first: " << failures.first() << ")\n";
    return kExitFailure;
  }
  std::cerr << "produced " << produced << ", rejected " << rejected << "\n";
  return rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

void AddProduceCommand(CLI::App& app, Action* run) {
  auto opts = std::make_shared<ProduceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "produce",
      "Read touchpoint events as JSON lines (protobuf JSON mapping), validate them, and "
      "produce them as protobuf records keyed by customer_id, plain or in Confluent's "
      "KafkaProtobufSerializer framing. Rejected lines are reported on stderr with the reason; "
      "exit code 3 if any were rejected.");
  cmd->add_option("--brokers", opts->brokers, "bootstrap servers host:port[,...]")->required();
  cmd->add_option("--topic", opts->topic, "topic to produce to")->capture_default_str();
  cmd->add_option("--input", opts->input, "JSON-lines file; '-' for stdin")->capture_default_str();
  cmd->add_flag("--no-validate", opts->no_validate,
                "produce events as they are, invalid ones included (to exercise the "
                "dead-letter path)");
  cmd->add_option("--framing", opts->framing,
                  "record format: 'plain' protobuf bytes, or 'confluent': magic byte 0x00, the "
                  "4-byte big-endian --schema-id, the message-index path of TouchpointEvent, "
                  "then the protobuf bytes (as Confluent's KafkaProtobufSerializer writes them)")
      ->check(CLI::IsMember({"plain", "confluent"}))
      ->capture_default_str();
  cmd->add_option("--schema-id", opts->schema_id,
                  "the Schema Registry id written in each record with --framing confluent")
      ->check(CLI::Range(0, std::numeric_limits<int32_t>::max()))
      ->capture_default_str();
  cmd->add_option("-X", opts->x, "librdkafka property key=value (repeatable)");
  cmd->callback([opts, run] { *run = [opts] { return Produce(*opts); }; });
}

}  // namespace touchstream
