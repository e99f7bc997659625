#include "processor/kafka/known_topics.h"

#include <set>

namespace touchstream {

std::vector<std::string> KnownTopics::Learn(RdKafka::Producer& producer,
                                            const std::vector<std::string>& topics,
                                            int timeout_ms) {
  handles_.clear();
  std::set<std::string> existing;
  RdKafka::Metadata* raw = nullptr;
  if (producer.metadata(/*all_topics=*/true, nullptr, &raw, timeout_ms) == RdKafka::ERR_NO_ERROR) {
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
      if (topic->err() == RdKafka::ERR_NO_ERROR) existing.insert(topic->topic());
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : std::set<std::string>(topics.begin(), topics.end())) {
    std::string error;
    std::unique_ptr<RdKafka::Topic> handle;
    // A new handle takes the partitions from the metadata cache the request above filled
    // (librdkafka 2.0.2; from 2.1 an all-topics reply no longer fills that cache, and a new
    // handle asks for its own topic at once instead).
    if (existing.count(name) > 0) {
      handle.reset(RdKafka::Topic::create(&producer, name, nullptr, error));
    }
    if (handle) {
      handles_.push_back(std::move(handle));
    } else {
      missing.push_back(name);
    }
  }
  return missing;
}

}  // namespace touchstream
