// touchstream_baseline: the two reference points of the end-to-end benchmark (benchmarks/e2e.sh),
// measured on the same topic in the same run as `touchstream run`.
//
//   consume  a plain librdkafka consumer draining the topic from the beginning, doing no work
//            with the records: the ceiling for anything that reads the topic.
//   pipe     the same consumer, and for every record consumed `--records-per-event` records of
//            `--record-bytes` each produced (idempotent, acks=all, as the relay's producer) to
//            `--out`, until every one is acknowledged: what a stateless pipe writing as much
//            output as touchstream does (triggers plus changelog records) costs. With
//            `--transaction-events N` (the baseline of `processing.guarantee: exactly_once`)
//            the producer is transactional: every N records read, one transaction commits what
//            they produced and the consumer's next offsets (KIP-447), as touchstream commits.
//   count    the records and value bytes now in `--topic` (comma-separated topics summed), read
//            to the high watermark: how many records per event touchstream wrote, for `pipe`.
//   compact  `--topic` (a changelog) fully compacted, written to `--out`: each partition read to
//            its end, the last record of each key kept (in log order, with its headers and
//            timestamp), tombstones dropped (as after delete.retention.ms), produced to the same
//            partition of `--out`, which must exist with as many partitions. The best case of
//            Kafka's log cleaner, which leaves the active segment and the records younger than
//            min.compaction.lag.ms as they are. The embedded Kafka never compacts
//            (benchmarks/restore.sh restores from the changelog as written and from this copy).
//   touch    no Kafka: what this machine charges for memory, `--mib` MiB of fresh anonymous
//            memory touched (4 KiB pages, as the processor's allocator keeps them), freed,
//            and the same again at once. On a virtual machine whose host takes back the guest's
//            free memory, a page the guest has not used for a few seconds costs ~10x more the
//            first time than one just freed (benchmarks/RESULTS.md, "Thirty-first session"):
//            every process pays that rate for its peak RSS. Reported as CPU ms per MiB, both.
//
// consume and pipe report CPU-seconds of this process (getrusage: every librdkafka thread included)
// from the first record consumed to the end, and wall seconds, as one line of key=value pairs on
// stdout.
#include <librdkafka/rdkafkacpp.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Options {
  std::string mode;
  std::string brokers;
  std::string topic = "touchpoints";
  long messages = 0;
  std::string out = "baseline-out";
  double records_per_event = 0;
  int record_bytes = 200;
  long transaction_events = 0;  // pipe: 0 = idempotent, no transactions
  long mib = 512;               // touch
};

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "touchstream_baseline: " << why << "\n";
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Baselines for benchmarks/e2e.sh on the same topic: a raw librdkafka consumer "
      "(consume), a raw consume-and-produce pipe (pipe), a count of the records and "
      "value bytes in topics (count), a compacted copy of a topic (compact), or what touching "
      "fresh memory costs this machine (touch)",
      "touchstream_baseline"};
  app.add_option("mode", o.mode, "consume, pipe, count, compact or touch")
      ->required()
      ->check(CLI::IsMember({"consume", "pipe", "count", "compact", "touch"}));
  app.add_option("--brokers", o.brokers, "bootstrap servers (every mode but touch)");
  app.add_option("--topic", o.topic, "the topic to read (count: a comma-separated list)")
      ->capture_default_str();
  app.add_option("--messages", o.messages, "messages to read (consume, pipe)")
      ->check(CLI::PositiveNumber);
  app.add_option("--out", o.out, "pipe, compact: the topic to produce to")->capture_default_str();
  app.add_option("--records-per-event", o.records_per_event,
                 "pipe: records produced per message read (fractions spread evenly)");
  app.add_option("--record-bytes", o.record_bytes, "pipe: the value size of each record")
      ->capture_default_str();
  app.add_option("--transaction-events", o.transaction_events,
                 "pipe: a transactional producer, one transaction (with the input offsets) per "
                 "this many records read; 0: idempotent, no transactions")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--mib", o.mib, "touch: how much memory")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
    if (o.mode != "touch" && o.brokers.empty()) {
      throw CLI::RequiredError("--brokers (for " + o.mode + ")");
    }
    if ((o.mode == "consume" || o.mode == "pipe") && o.messages <= 0) {
      throw CLI::RequiredError("--messages (for " + o.mode + ")");
    }
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  return o;
}

void Set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK) {
    std::cerr << "touchstream_baseline: " << key << ": " << err << "\n";
    std::exit(1);
  }
}

void Check(RdKafka::Error* raw, const char* what) {
  std::unique_ptr<RdKafka::Error> error(raw);
  if (error) Fail(std::string(what) + ": " + error->str());
}

class CountDeliveries : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      std::cerr << "touchstream_baseline: delivery failed: " << message.errstr() << "\n";
      std::exit(1);
    }
    ++delivered;
  }
  long delivered = 0;
};

// The latest record of one key, as compact read it.
struct Latest {
  int64_t offset = 0;      // its place in the partition's log
  bool tombstone = false;  // a null value
  std::string value;
  int64_t timestamp = 0;
  std::unique_ptr<RdKafka::Headers> headers;
};

// The partition count of `topic` (0: it does not exist).
int Partitions(RdKafka::Handle& client, const std::string& topic) {
  std::string err;
  RdKafka::Metadata* raw_metadata = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&client, topic, nullptr, err));
  if (!handle) Fail("topic " + topic + ": " + err);
  if (client.metadata(false, handle.get(), &raw_metadata, 10'000) != RdKafka::ERR_NO_ERROR) {
    Fail("no metadata for " + topic);
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw_metadata);
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    if (t->err() == RdKafka::ERR_NO_ERROR) return static_cast<int>(t->partitions()->size());
  }
  return 0;
}

int Compact(const Options& o) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> cconf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  Set(*cconf, "bootstrap.servers", o.brokers);
  Set(*cconf, "group.id", "touchstream-baseline-compact");
  Set(*cconf, "enable.auto.commit", "false");
  Set(*cconf, "enable.partition.eof", "true");
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(cconf.get(), err));
  if (!consumer) Fail("cannot create consumer: " + err);
  // The copy goes to the same partition numbers (the embedded Kafka cannot create topics on
  // request: `embedded-kafka --topic NAME:PARTITIONS` creates it at start).
  const int partitions = Partitions(*consumer, o.topic);
  if (partitions == 0) Fail("no topic " + o.topic);
  if (Partitions(*consumer, o.out) != partitions) {
    Fail(o.out + " must exist with as many partitions as " + o.topic + " (" +
         std::to_string(partitions) + ")");
  }
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int32_t p = 0; p < partitions; ++p) {
    assignment.push_back(
        RdKafka::TopicPartition::create(o.topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);

  // Per partition, each key's latest record; memory grows with the keys, not the log.
  std::map<int32_t, std::unordered_map<std::string, Latest>> latest;
  std::set<int32_t> at_end;
  long read = 0;
  auto last_progress = std::chrono::steady_clock::now();
  while (at_end.size() < static_cast<size_t>(partitions)) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(1'000));
    if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(60)) {
      Fail("reading " + o.topic + " made no progress for 60 s");
    }
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert(m->partition());
      continue;
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) Fail("consume: " + m->errstr());
    if (m->key() == nullptr) Fail(o.topic + ": a record without a key cannot be compacted");
    last_progress = std::chrono::steady_clock::now();
    ++read;
    Latest& record = latest[m->partition()][*m->key()];
    record.offset = m->offset();
    record.tombstone = m->payload() == nullptr;
    record.value.assign(record.tombstone ? "" : static_cast<const char*>(m->payload()),
                        record.tombstone ? 0 : m->len());
    const RdKafka::MessageTimestamp timestamp = m->timestamp();
    record.timestamp = timestamp.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                           ? 0
                           : timestamp.timestamp;
    // The message owns its Headers: a copy goes with the record.
    RdKafka::Headers* headers = m->headers();
    record.headers.reset(headers ? RdKafka::Headers::create(headers->get_all()) : nullptr);
  }
  consumer->close();

  std::unique_ptr<RdKafka::Conf> pconf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  Set(*pconf, "bootstrap.servers", o.brokers);
  Set(*pconf, "enable.idempotence", "true");  // each partition's records in order
  Set(*pconf, "queue.buffering.max.messages", "1000000");
  CountDeliveries deliveries;
  std::string cb_err;
  if (pconf->set("dr_cb", &deliveries, cb_err) != RdKafka::Conf::CONF_OK) Fail(cb_err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), err));
  if (!producer) Fail("cannot create producer: " + err);
  long kept = 0;
  for (auto& [partition, keys] : latest) {
    // The survivors in their log order.
    std::vector<std::pair<const std::string*, Latest*>> survivors;
    for (auto& [key, record] : keys) {
      if (!record.tombstone) survivors.emplace_back(&key, &record);
    }
    std::sort(survivors.begin(), survivors.end(),
              [](const auto& a, const auto& b) { return a.second->offset < b.second->offset; });
    for (auto& [key, record] : survivors) {
      // produce takes the headers only when it succeeds.
      RdKafka::Headers* headers = record->headers.release();
      RdKafka::ErrorCode code;
      while ((code = producer->produce(o.out, partition, RdKafka::Producer::RK_MSG_COPY,
                                       record->value.data(), record->value.size(), key->data(),
                                       key->size(), record->timestamp, headers, nullptr)) ==
             RdKafka::ERR__QUEUE_FULL) {
        producer->poll(10);
      }
      if (code != RdKafka::ERR_NO_ERROR) Fail("produce: " + RdKafka::err2str(code));
      ++kept;
    }
  }
  if (producer->flush(120'000) != RdKafka::ERR_NO_ERROR) Fail("flush timed out");
  std::printf("records=%ld kept=%ld delivered=%ld\n", read, kept, deliveries.delivered);
  return 0;
}

// touch: CPU-seconds of touching `o.mib` MiB of fresh memory, then as much again just freed.
int Touch(const Options& o) {
  const size_t bytes = static_cast<size_t>(o.mib) << 20;
  const auto touch_once = [&] {
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) Fail("cannot map " + std::to_string(o.mib) + " MiB");
    madvise(memory, bytes, MADV_NOHUGEPAGE);  // as processor/cli/malloc_conf.cc's thp:never
    volatile char* page = static_cast<volatile char*>(memory);
    const double start = CpuSeconds();
    for (size_t at = 0; at < bytes; at += 4096) page[at] = 1;
    const double seconds = CpuSeconds() - start;
    munmap(memory, bytes);
    return seconds;
  };
  const double fresh = touch_once();
  const double reused = touch_once();
  const double mib = static_cast<double>(o.mib);
  std::printf("mib=%ld fresh_ms_per_mib=%.3f reused_ms_per_mib=%.3f\n", o.mib, fresh * 1e3 / mib,
              reused * 1e3 / mib);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  if (o.mode == "compact") return Compact(o);
  if (o.mode == "touch") return Touch(o);
  std::string err;

  std::unique_ptr<RdKafka::Conf> cconf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  Set(*cconf, "bootstrap.servers", o.brokers);
  Set(*cconf, "group.id", "touchstream-baseline");
  Set(*cconf, "enable.auto.commit", "false");
  // count stops when every partition is at its end (transaction markers take offsets too)
  Set(*cconf, "enable.partition.eof", o.mode == "count" ? "true" : "false");
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(cconf.get(), err));
  if (!consumer) Fail("cannot create consumer: " + err);

  // Every partition of the topics from its first offset: no group join, as a restore reads.
  std::vector<RdKafka::TopicPartition*> partitions;
  long high_total = 0;
  for (size_t begin = 0; begin <= o.topic.size();) {
    size_t end = o.topic.find(',', begin);
    if (end == std::string::npos) end = o.topic.size();
    const std::string name = o.topic.substr(begin, end - begin);
    begin = end + 1;
    const int count = Partitions(*consumer, name);
    if (count == 0) Fail("no topic " + name);
    for (int32_t p = 0; p < count; ++p) {
      partitions.push_back(
          RdKafka::TopicPartition::create(name, p, RdKafka::Topic::OFFSET_BEGINNING));
      int64_t low = 0, high = 0;
      if (consumer->query_watermark_offsets(name, p, &low, &high, 10'000) !=
          RdKafka::ERR_NO_ERROR) {
        Fail("no watermarks for " + name);
      }
      high_total += high - low;
    }
  }
  if (partitions.empty()) Fail("no partitions in " + o.topic);
  const size_t partition_count = partitions.size();
  std::set<std::pair<std::string, int32_t>> at_end;
  consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  const long messages = o.mode == "count" ? high_total + 1 : o.messages;

  CountDeliveries deliveries;
  std::unique_ptr<RdKafka::Producer> producer;
  if (o.mode == "pipe") {
    std::unique_ptr<RdKafka::Conf> pconf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    Set(*pconf, "bootstrap.servers", o.brokers);
    Set(*pconf, "enable.idempotence", "true");
    Set(*pconf, "acks", "all");
    Set(*pconf, "linger.ms", "5");
    Set(*pconf, "queue.buffering.max.messages", "1000000");
    if (o.transaction_events > 0) Set(*pconf, "transactional.id", "touchstream-baseline-pipe");
    std::string cb_err;
    if (pconf->set("dr_cb", &deliveries, cb_err) != RdKafka::Conf::CONF_OK) Fail(cb_err);
    producer.reset(RdKafka::Producer::create(pconf.get(), err));
    if (!producer) Fail("cannot create producer: " + err);
    if (o.transaction_events > 0) {
      Check(producer->init_transactions(30'000), "init_transactions");
      Check(producer->begin_transaction(), "begin_transaction");
    }
  }
  // One transaction: what the records read since the last one produced, and the consumer's
  // next offsets, as touchstream's exactly_once commit sends them.
  long transactions = 0;
  auto commit_transaction = [&](bool begin_next) {
    std::vector<RdKafka::TopicPartition*> offsets;
    if (consumer->assignment(offsets) != RdKafka::ERR_NO_ERROR) Fail("assignment");
    consumer->position(offsets);
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> group(consumer->groupMetadata());
    Check(producer->send_offsets_to_transaction(offsets, group.get(), 30'000),
          "send_offsets_to_transaction");
    RdKafka::TopicPartition::destroy(offsets);
    Check(producer->commit_transaction(30'000), "commit_transaction");
    ++transactions;
    if (begin_next) Check(producer->begin_transaction(), "begin_transaction");
  };
  const std::string payload(o.record_bytes, 'x');

  long consumed = 0;
  long value_bytes = 0;
  long produced = 0;
  double cpu_start = 0;
  double wall_start = 0;
  double wall_consumed = 0;
  while (consumed < messages) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.emplace(m->topic_name(), m->partition());
      if (o.mode == "count" && at_end.size() == partition_count) break;
      continue;
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) Fail("consume: " + m->errstr());
    value_bytes += static_cast<long>(m->len());
    if (consumed++ == 0) {
      cpu_start = CpuSeconds();
      wall_start = WallSeconds();
    }
    if (!producer) continue;
    const long due = std::lround(consumed * o.records_per_event);
    for (; produced < due; ++produced) {
      const std::string key = std::to_string(produced);
      while (producer->produce(o.out, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(payload.data()), payload.size(), key.data(),
                               key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(10);
      }
    }
    producer->poll(0);
    if (o.transaction_events > 0 && consumed % o.transaction_events == 0) {
      commit_transaction(consumed < messages);
    }
  }
  wall_consumed = WallSeconds();
  if (o.mode == "count") {
    std::printf("records=%ld value_bytes=%ld\n", consumed, value_bytes);
    consumer->close();
    return 0;
  }
  if (producer && o.transaction_events > 0 && consumed % o.transaction_events != 0) {
    commit_transaction(false);
  }
  if (producer && producer->flush(120'000) != RdKafka::ERR_NO_ERROR) Fail("flush timed out");
  const double cpu = CpuSeconds() - cpu_start;
  const double wall = WallSeconds() - wall_start;
  std::printf(
      "mode=%s messages=%ld produced=%ld delivered=%ld cpu_s=%.6f wall_s=%.6f "
      "consume_wall_s=%.6f per_cpu_s=%.0f transactions=%ld\n",
      o.mode.c_str(), consumed, produced, deliveries.delivered, cpu, wall,
      wall_consumed - wall_start, consumed / cpu, transactions);
  consumer->close();
  return 0;
}
