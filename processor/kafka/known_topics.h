// A producer's output topics, known before their first record. librdkafka learns a topic's
// partitions when a producer first sends to it, at its next one-second scan of unknown topics;
// until then the record waits, and a relay's barriers hold back every record after it: the
// first record forwarded to the repartition topic stalled all output for ~0.7 s
// (benchmarks/RESULTS.md, "Forwarded events and exactly_once"). KnownTopics asks the brokers for
// the metadata once the producer exists and keeps a handle of each output topic that exists, so
// that librdkafka knows it from the start and keeps it current with its periodic refresh.
// Not for topics that do not exist: a handle would make librdkafka ask for them, which a broker
// with auto.create.topics.enable answers by creating them. (Such a topic is learnt at its first
// record, as before, which asks for it too.) On a cluster of very many topics the all-topics
// reply is large; it comes once per producer.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>
#include <vector>

namespace touchstream {

// How long a relay waits for the metadata when it creates a producer (at start-up, and after a
// fatal producer error): with no broker reachable, start-up takes this much longer.
inline constexpr int kLearnTopicsTimeoutMs = 2'000;

class KnownTopics {
 public:
  // Asks for the cluster's metadata (one request, up to `timeout_ms`) and keeps a handle of each
  // of `topics` it lists. Best effort: returns the topics not learnt (the metadata did not come,
  // or the topic does not exist), which librdkafka learns at their first record as before.
  std::vector<std::string> Learn(RdKafka::Producer& producer,
                                 const std::vector<std::string>& topics, int timeout_ms);
  // Drops the handles: before the producer they belong to is destroyed.
  void Clear() { handles_.clear(); }

  size_t size() const { return handles_.size(); }

 private:
  std::vector<std::unique_ptr<RdKafka::Topic>> handles_;
};

}  // namespace touchstream
