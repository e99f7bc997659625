#include "tests/integration/paced_producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <memory>

namespace touchstream::testing {

namespace {

// Counts failed deliveries and keeps the first error. Served on the producing thread.
class DeliveryErrorCount : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) return;
    if (count_++ == 0) first_ = message.errstr();
  }
  size_t count() const { return count_; }
  const std::string& first() const { return first_; }

 private:
  size_t count_ = 0;
  std::string first_;
};

}  // namespace

PacedProducer::PacedProducer(const std::string& bootstrap, const std::string& topic,
                             std::vector<std::pair<std::string, std::string>> key_values,
                             double per_second)
    : bootstrap_(bootstrap),
      topic_(topic),
      key_values_(std::move(key_values)),
      per_second_(per_second),
      thread_([this] { Produce(); }) {}

PacedProducer::~PacedProducer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PacedProducer::Produce() {
  auto fail = [this](const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.empty()) error_ = error;
  };
  DeliveryErrorCount errors;  // outlives the producer
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (conf->set("bootstrap.servers", bootstrap_, errstr) != RdKafka::Conf::CONF_OK ||
      conf->set("enable.idempotence", "true", errstr) != RdKafka::Conf::CONF_OK ||
      // Each customer's records in the partition that owns it (murmur2), as ProduceRaw: the
      // per-partition oracle holds.
      conf->set("partitioner", "murmur2_random", errstr) != RdKafka::Conf::CONF_OK ||
      conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&errors), errstr) !=
          RdKafka::Conf::CONF_OK) {
    fail(errstr);
    done_.store(true);
    return;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  if (!producer) {
    fail("cannot create producer: " + errstr);
    done_.store(true);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  for (size_t i = 0; i < key_values_.size() && !stop_.load();) {
    const auto due =
        started +
        std::chrono::microseconds(static_cast<int64_t>(1e6 * static_cast<double>(i) / per_second_));
    if (std::chrono::steady_clock::now() < due) {
      producer->poll(5);
      continue;
    }
    const auto& [key, value] = key_values_[i];
    RdKafka::ErrorCode err = producer->produce(
        topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(50);
      continue;
    }
    if (err != RdKafka::ERR_NO_ERROR) {
      fail("produce: " + RdKafka::err2str(err));
      break;
    }
    handed_over_.store(++i);
  }
  while (producer->outq_len() > 0 && !stop_.load()) producer->flush(100);
  if (errors.count() > 0) {
    fail(std::to_string(errors.count()) + " records not delivered, first: " + errors.first());
  }
  if (producer->outq_len() > 0) {
    fail(std::to_string(producer->outq_len()) + " records still unacknowledged");
  }
  done_.store(true);
}

std::string PacedProducer::Finish(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done_.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool finished = done_.load();
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!finished) {
    return "not finished within " + std::to_string(timeout.count()) + " ms (" +
           std::to_string(handed_over_.load()) + " of " + std::to_string(key_values_.size()) +
           " records handed over)" + (error_.empty() ? "" : "; " + error_);
  }
  return error_;
}

}  // namespace touchstream::testing
