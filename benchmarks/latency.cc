// touchstream_latency: produce → event-caused trigger latency, as a campaign system sees it
// (benchmarks/latency.sh runs it against a `touchstream run`).
//
// Produces OFFER_ACCEPTED events for fresh customers at `--rate` events per second for
// `--seconds` (event time = now, keyed by customer id, partitioned with murmur2 as the Java
// client); a reward_window rule opened by OFFER_ACCEPTED answers each with a
// REWARD_WINDOW_OPENED trigger. A consumer on the trigger topic (from its end, assigned before
// the first event) matches each trigger to its event by cause_event_id. Latency: the event's
// produce call to the trigger's arrival at the consumer (producer batching, the broker twice,
// the processor's commit and the consumer's fetch all included), and from the event's produce
// acknowledgement to the same arrival, which leaves out this tool's producer and the produce
// round trip (an acknowledgement is seen at the producer's next poll, up to one send interval
// late: 1 ms at 1,000 events/s, which shortens that measure by as much; events whose produce
// failed are left out of it, the line says how many it covers).
// Prints both distributions of the events after the first --warmup-seconds, which warm up this
// tool's own fresh producer and consumer (their first second's events waited up to 1.7 s:
// metadata and connections).
// --misrouted-percent P sends P of every 100 events, spread evenly, to the partition after its
// owner (the murmur2 partition of its key, modulo the count), as a producer with another
// partitioner would: the processor forwards each through its repartition topic to the owner. Their
// latency is printed on a second line (`forwarded`); the first line then covers the others only.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "touchpoint.pb.h"
#include "trigger.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string brokers;
  std::string topic = "touchpoints";
  std::string triggers = "triggers";
  double rate = 1000;
  double seconds = 10;
  double warmup_seconds = 1;
  int linger_ms = 0;
  int misrouted_percent = 0;
  std::string run_id = "lat";
};

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "touchstream_latency: " << why << "\n";
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Produces cart adds at a steady rate and measures, for each, produce to "
      "REWARD_WINDOW_OPENED at a consumer of the trigger topic (benchmarks/latency.sh)",
      "touchstream_latency"};
  app.add_option("--brokers", o.brokers, "bootstrap servers")->required();
  app.add_option("--rate", o.rate, "events per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "how long to produce")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--warmup-seconds", o.warmup_seconds,
                 "produce at the rate this long first, not reported: this tool's own producer "
                 "and consumer connecting (their first second reached 1.3-1.7 s)")
      ->capture_default_str();
  app.add_option("--linger-ms", o.linger_ms,
                 "the producer's linger.ms: 0 sends each event at once; the embedded Kafka "
                 "serves one produced batch per partition per fetch, so at thousands of events "
                 "per second single-event batches limit how fast any consumer reads them")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--misrouted-percent", o.misrouted_percent,
                 "this share of the events goes to the partition after its owner, so that the "
                 "processor forwards it; their latency is reported on a line of its own")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--topic", o.topic, "the input topic")->capture_default_str();
  app.add_option("--triggers", o.triggers, "the trigger topic")->capture_default_str();
  app.add_option("--run-id", o.run_id, "prefix of customer and event ids")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  if (o.warmup_seconds < 0 || o.seconds <= 0 || o.rate <= 0) {
    Fail("--rate and --seconds must be positive, --warmup-seconds not negative");
  }
  return o;
}

std::unique_ptr<RdKafka::Conf> Conf(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [k, v] : kv) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) Fail(k + ": " + err);
  }
  return conf;
}

// The partition after the one the key's murmur2 hash names (as the Java client partitions):
// where a misrouted event goes.
int32_t NotTheOwner(const std::string& key, int32_t partitions) {
  const int32_t owner = rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(),
                                                         partitions, nullptr, nullptr);
  return (owner + 1) % partitions;
}

// Records when each event's produce is acknowledged (its index is the message's opaque).
class AckTimes : public RdKafka::DeliveryReportCb {
 public:
  explicit AckTimes(std::vector<std::atomic<int64_t>>& acked_ns) : acked_ns_(acked_ns) {}
  void dr_cb(RdKafka::Message& message) override {
    const auto n = reinterpret_cast<size_t>(message.msg_opaque());
    if (message.err() == RdKafka::ERR_NO_ERROR && n < acked_ns_.size()) {
      acked_ns_[n].store(Clock::now().time_since_epoch().count(), std::memory_order_release);
    }
  }

 private:
  std::vector<std::atomic<int64_t>>& acked_ns_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::string err;
  // This tool's own clients add as little as they can to the span measured: the embedded Kafka
  // holds a fetch that finds nothing for the whole fetch.wait.max.ms (a real broker answers it
  // as soon as a record arrives), so the consumer asks for 1 ms; the producer sends each event
  // at once unless --linger-ms says otherwise.
  auto cconf = Conf({{"bootstrap.servers", o.brokers},
                     {"group.id", "touchstream-latency"},
                     {"enable.auto.commit", "false"},
                     {"fetch.wait.max.ms", "1"},
                     {"fetch.error.backoff.ms", "5"}});
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(cconf.get(), err));
  if (!consumer) Fail(err);
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> t(
      RdKafka::Topic::create(consumer.get(), o.triggers, nullptr, err));
  if (consumer->metadata(false, t.get(), &raw, 10'000) != RdKafka::ERR_NO_ERROR) {
    Fail("no metadata for " + o.triggers);
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto* topic : *metadata->topics()) {
    for (const auto* p : *topic->partitions()) {
      int64_t low = 0, high = 0;
      if (consumer->query_watermark_offsets(o.triggers, p->id(), &low, &high, 10'000) !=
          RdKafka::ERR_NO_ERROR) {
        Fail("no watermarks for " + o.triggers);
      }
      partitions.push_back(RdKafka::TopicPartition::create(o.triggers, p->id(), high));
    }
  }
  if (partitions.empty()) Fail("topic " + o.triggers + " has no partitions");
  int32_t input_partitions = 0;  // of o.topic: where a misrouted event goes instead of its owner
  if (o.misrouted_percent > 0) {
    std::unique_ptr<RdKafka::Topic> input(
        RdKafka::Topic::create(consumer.get(), o.topic, nullptr, err));
    RdKafka::Metadata* input_raw = nullptr;
    if (consumer->metadata(false, input.get(), &input_raw, 10'000) != RdKafka::ERR_NO_ERROR) {
      Fail("no metadata for " + o.topic);
    }
    std::unique_ptr<RdKafka::Metadata> input_metadata(input_raw);
    for (const auto* topic : *input_metadata->topics()) {
      input_partitions = static_cast<int32_t>(topic->partitions()->size());
    }
    if (input_partitions < 2) Fail("--misrouted-percent needs an input topic of 2+ partitions");
  }
  // Spread evenly: exactly misrouted_percent of every 100 events, not in a burst.
  auto misrouted = [&](size_t n) {
    const size_t p = static_cast<size_t>(o.misrouted_percent);
    return n * p / 100 != (n + 1) * p / 100;
  };
  consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);

  // Events [0, warmup) warm this tool's clients up and are not reported.
  const auto warmup = static_cast<size_t>(o.rate * o.warmup_seconds);
  const auto total = warmup + static_cast<size_t>(o.rate * o.seconds);
  // When each event's produce was acknowledged (steady-clock nanoseconds; 0: not yet): the
  // latency from there leaves out this tool's producer (its linger, its batching) and the
  // produce round trip.
  std::vector<std::atomic<int64_t>> acked_ns(total);
  AckTimes acks(acked_ns);
  auto pconf = Conf({{"bootstrap.servers", o.brokers},
                     {"linger.ms", std::to_string(o.linger_ms)},
                     {"partitioner", "murmur2_random"}});
  if (pconf->set("dr_cb", &acks, err) != RdKafka::Conf::CONF_OK) Fail(err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), err));
  if (!producer) Fail(err);
  // Written by the producing thread, read by this one: atomics (steady-clock nanoseconds).
  std::vector<std::atomic<int64_t>> sent_ns(total);
  std::vector<double> latency_ms(total, -1);
  std::vector<int64_t> arrived_ns(total, 0);
  // Split at the trigger record's timestamp (its produce call in the relay, by the wall clock).
  std::vector<std::atomic<int64_t>> sent_wall_ms(total);
  std::vector<double> to_relay_ms;
  std::vector<double> from_relay_ms;
  const std::string prefix = o.run_id + "-";
  std::thread produce([&] {
    const auto start = Clock::now();
    std::string bytes;
    for (size_t n = 0; n < total; ++n) {
      // Delivery reports (AckTimes) are served here: poll while waiting for the next send.
      const auto send_at = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(n / o.rate));
      for (auto left = send_at - Clock::now(); left >= std::chrono::milliseconds(1);
           left = send_at - Clock::now()) {
        producer->poll(
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
      }
      std::this_thread::sleep_until(send_at);
      touchstream::v1::TouchpointEvent e;
      e.set_event_id(prefix + std::to_string(n));
      e.set_customer_id("latency-" + o.run_id + "-" + std::to_string(n));
      const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      e.mutable_event_time()->set_seconds(now_ns / 1'000'000'000);
      e.mutable_event_time()->set_nanos(static_cast<int32_t>(now_ns % 1'000'000'000) / 1'000'000 *
                                        1'000'000);
      e.set_type(touchstream::v1::EVENT_TYPE_OFFER_ACCEPTED);
      e.set_channel(touchstream::v1::CHANNEL_MOBILE_APP);
      e.set_campaign_id("spring-offer");
      e.SerializeToString(&bytes);
      sent_wall_ms[n].store(now_ns / 1'000'000, std::memory_order_relaxed);
      sent_ns[n].store(Clock::now().time_since_epoch().count(), std::memory_order_release);
      const int32_t partition = misrouted(n) ? NotTheOwner(e.customer_id(), input_partitions)
                                             : RdKafka::Topic::PARTITION_UA;
      while (producer->produce(o.topic, partition, RdKafka::Producer::RK_MSG_COPY, bytes.data(),
                               bytes.size(), e.customer_id().data(), e.customer_id().size(), 0,
                               reinterpret_cast<void*>(n)) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(1);
      }
      producer->poll(0);
    }
    producer->flush(30'000);
  });

  size_t matched = 0;
  const auto give_up =
      Clock::now() + std::chrono::duration<double>(o.warmup_seconds + o.seconds + 30);
  while (matched < total && Clock::now() < give_up) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    const auto arrived = Clock::now();
    touchstream::v1::Trigger trigger;
    if (!trigger.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
    // Only the opening: a reminder or expiry names the same cause event.
    if (trigger.type() != touchstream::v1::TRIGGER_TYPE_REWARD_WINDOW_OPENED) continue;
    const std::string& cause = trigger.cause_event_id();
    if (cause.rfind(prefix, 0) != 0) continue;
    const size_t n = std::stoul(cause.substr(prefix.size()));
    if (n >= total || latency_ms[n] >= 0) continue;
    const Clock::time_point sent{Clock::duration(sent_ns[n].load(std::memory_order_acquire))};
    latency_ms[n] = std::chrono::duration<double, std::milli>(arrived - sent).count();
    arrived_ns[n] = arrived.time_since_epoch().count();
    ++matched;
    if (n < warmup || misrouted(n)) continue;  // the split covers the events sent to their owner
    const int64_t relayed = m->timestamp().timestamp;
    const int64_t arrived_wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
    to_relay_ms.push_back(
        static_cast<double>(relayed - sent_wall_ms[n].load(std::memory_order_relaxed)));
    from_relay_ms.push_back(static_cast<double>(arrived_wall - relayed));
  }
  produce.join();
  consumer->close();

  // The events sent to their owner; the misrouted ones (forwarded by the processor) apart.
  std::vector<double> seen;
  std::vector<double> forwarded;
  size_t forwarded_sent = 0;
  for (size_t n = warmup; n < total; ++n) {
    if (misrouted(n)) ++forwarded_sent;
    if (latency_ms[n] >= 0) (misrouted(n) ? forwarded : seen).push_back(latency_ms[n]);
  }
  std::sort(seen.begin(), seen.end());
  std::sort(forwarded.begin(), forwarded.end());
  std::vector<double> from_ack_ms;
  for (size_t n = warmup; n < total; ++n) {
    const int64_t acked = acked_ns[n].load(std::memory_order_acquire);
    if (latency_ms[n] >= 0 && acked > 0 && !misrouted(n)) {
      from_ack_ms.push_back(static_cast<double>(arrived_ns[n] - acked) / 1e6);
    }
  }
  std::sort(from_ack_ms.begin(), from_ack_ms.end());
  std::sort(to_relay_ms.begin(), to_relay_ms.end());
  std::sort(from_relay_ms.begin(), from_relay_ms.end());
  auto quantile = [](const std::vector<double>& sorted, double q) {
    return sorted.empty()
               ? 0.0
               : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
  };
  auto at = [&](double q) { return quantile(seen, q); };
  std::printf(
      "rate=%.0f events=%zu matched=%zu p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f p999_ms=%.1f "
      "max_ms=%.1f (median split: %.0f ms to the relay's produce call, %.0f ms from it; p99 of "
      "each part: %.0f and %.0f ms; from the event's acknowledgement, %zu events: p50 %.1f ms, "
      "p99 %.1f ms)\n",
      o.rate, total - warmup - forwarded_sent, seen.size(), at(0.5), at(0.9), at(0.99), at(0.999),
      seen.empty() ? 0.0 : seen.back(), quantile(to_relay_ms, 0.5), quantile(from_relay_ms, 0.5),
      quantile(to_relay_ms, 0.99), quantile(from_relay_ms, 0.99), from_ack_ms.size(),
      quantile(from_ack_ms, 0.5), quantile(from_ack_ms, 0.99));
  if (o.misrouted_percent > 0) {
    std::printf(
        "forwarded: events=%zu matched=%zu p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f p999_ms=%.1f "
        "max_ms=%.1f (sent to the partition after the owner's)\n",
        forwarded_sent, forwarded.size(), quantile(forwarded, 0.5), quantile(forwarded, 0.9),
        quantile(forwarded, 0.99), quantile(forwarded, 0.999),
        forwarded.empty() ? 0.0 : forwarded.back());
  }
  return seen.size() + forwarded.size() == total - warmup ? 0 : 1;
}
