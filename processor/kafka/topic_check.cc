#include "processor/kafka/topic_check.h"

#include <memory>

#include "processor/diagnostics/log.h"

namespace touchstream {

Status CheckChangelogTopic(RdKafka::Handle& client, const std::string& input_topic,
                           const std::string& changelog_topic) {
  RdKafka::Metadata* raw = nullptr;
  RdKafka::ErrorCode err = client.metadata(true, nullptr, &raw, 10'000);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) {
    LogWarn("cannot check topics yet (" + RdKafka::err2str(err) + "); continuing");
    return Status::Ok();
  }
  int input_partitions = -1;
  int changelog_partitions = -1;
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    if (topic->err() != RdKafka::ERR_NO_ERROR) continue;
    const int n = static_cast<int>(topic->partitions()->size());
    if (topic->topic() == input_topic) input_partitions = n;
    if (topic->topic() == changelog_topic) changelog_partitions = n;
  }
  if (changelog_partitions < 0) {
    return Status::InvalidArgument(
        "topics.changelog: topic '" + changelog_topic +
        "' does not exist; create it with cleanup.policy=compact and as many partitions as " +
        input_topic + " (embedded-kafka creates it from the same config)");
  }
  if (input_partitions > changelog_partitions) {
    return Status::InvalidArgument("topics.changelog: topic '" + changelog_topic + "' has " +
                                   std::to_string(changelog_partitions) + " partitions but " +
                                   input_topic + " has " + std::to_string(input_partitions) +
                                   "; it needs at least as many");
  }
  return Status::Ok();
}

}  // namespace touchstream
