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
    // A new handle takes the partitions from the metadata cache the request above filled
    // (librdkafka 2.0.2; from 2.1 an all-topics reply no longer fills that cache, and a new
    // handle asks for its own topic at once instead).
    std::string error;
    RdKafka::Topic* handle = existing.count(name) > 0
                                 ? RdKafka::Topic::create(&producer, name, nullptr, error)
                                 : nullptr;
    if (handle == nullptr) {
      missing.push_back(name);
    } else {
      handles_.emplace_back(handle);
    }
  }
  return missing;
}

}  // namespace touchstream
