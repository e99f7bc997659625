#include "processor/kafka/topic_check.h"

#include <map>
#include <memory>

#include "processor/diagnostics/log.h"

namespace touchstream {

StatusOr<int32_t> CheckTopics(RdKafka::Handle& client, const Config& config) {
  RdKafka::Metadata* raw = nullptr;
  RdKafka::ErrorCode err = client.metadata(true, nullptr, &raw, 10'000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) {
    return Status::Unavailable("cannot read the topics from Kafka within 10 s (" +
                               RdKafka::err2str(err) + "): the partition count of " +
                               "topics.touchpoints '" + config.touchpoints.name +
                               "' decides which partition owns a customer; is the cluster up "
                               "and bootstrap.servers right?");
  }
  std::map<std::string, int> partitions;  // of each topic that exists
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    if (topic->err() != RdKafka::ERR_NO_ERROR) continue;
    partitions[topic->topic()] = static_cast<int>(topic->partitions()->size());
  }
  auto count = [&](const std::string& topic) {
    auto it = partitions.find(topic);
    return it == partitions.end() ? -1 : it->second;
  };
  const std::string& input = config.touchpoints.name;
  int input_partitions = count(input);
  if (input_partitions < 0) {
    return Status::InvalidArgument(
        "topics.touchpoints: topic '" + input +
        "' does not exist; create it first (its partition count decides which partition owns a "
        "customer, and is fixed from the first commit on)");
  }
  const int changelog_partitions = count(config.changelog.name);
  if (changelog_partitions < 0) {
    return Status::InvalidArgument(
        "topics.changelog: topic '" + config.changelog.name +
        "' does not exist; create it with cleanup.policy=compact and as many partitions as " +
        input + " (embedded-kafka creates it from the same config)");
  }
  if (input_partitions > changelog_partitions) {
    return Status::InvalidArgument("topics.changelog: topic '" + config.changelog.name + "' has " +
                                   std::to_string(changelog_partitions) + " partitions but " +
                                   input + " has " + std::to_string(input_partitions) +
                                   "; it needs at least as many");
  }
  const int repartition_partitions = count(config.repartition.name);
  if (repartition_partitions < 0) {
    return Status::InvalidArgument(
        "topics.repartition: topic '" + config.repartition.name +
        "' does not exist; create it with cleanup.policy=delete and as many partitions as " +
        input + " (embedded-kafka creates it from the same config)");
  }
  if (repartition_partitions != input_partitions) {
    return Status::InvalidArgument("topics.repartition: topic '" + config.repartition.name +
                                   "' has " + std::to_string(repartition_partitions) +
                                   " partitions but " + input + " has " +
                                   std::to_string(input_partitions) + "; it needs as many");
  }
  if (input_partitions != config.touchpoints.partitions) {
    LogWarn("topics.touchpoints.partitions is " + std::to_string(config.touchpoints.partitions) +
            " but " + input + " has " + std::to_string(input_partitions) +
            " partitions; customer ownership uses " + std::to_string(input_partitions));
  }
  return static_cast<int32_t>(input_partitions);
}

}  // namespace touchstream
