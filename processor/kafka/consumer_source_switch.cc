#include "processor/kafka/consumer_source_switch.h"

#include <memory>

namespace touchstream {

namespace {

constexpr int kSeekTimeoutMs = 5'000;

std::vector<RdKafka::TopicPartition*> Partitions(const std::vector<SourceSwitch::Source>& sources) {
  std::vector<RdKafka::TopicPartition*> tps;
  tps.reserve(sources.size());
  for (const SourceSwitch::Source& s : sources) {
    tps.push_back(RdKafka::TopicPartition::create(s.first, s.second));
  }
  return tps;
}

}  // namespace

std::vector<SourceSwitch::Source> ConsumerSourceSwitch::Assigned() {
  std::vector<RdKafka::TopicPartition*> assigned;
  std::vector<Source> sources;
  if (consumer_.assignment(assigned) == RdKafka::ERR_NO_ERROR) {
    sources.reserve(assigned.size());
    for (const RdKafka::TopicPartition* tp : assigned) {
      sources.emplace_back(tp->topic(), tp->partition());
    }
  }
  RdKafka::TopicPartition::destroy(assigned);
  return sources;
}

void ConsumerSourceSwitch::Pause(const std::vector<Source>& sources) {
  if (sources.empty()) return;
  std::vector<RdKafka::TopicPartition*> tps = Partitions(sources);
  consumer_.pause(tps);
  RdKafka::TopicPartition::destroy(tps);
}

void ConsumerSourceSwitch::Resume(const std::vector<Source>& sources) {
  if (sources.empty()) return;
  std::vector<RdKafka::TopicPartition*> tps = Partitions(sources);
  consumer_.resume(tps);
  RdKafka::TopicPartition::destroy(tps);
}

Status ConsumerSourceSwitch::Seek(const Source& source, int64_t offset) {
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(
      source.first, source.second, offset > 0 ? offset : RdKafka::Topic::OFFSET_BEGINNING));
  if (RdKafka::ErrorCode err = consumer_.seek(*tp, kSeekTimeoutMs); err != RdKafka::ERR_NO_ERROR) {
    return Status::KafkaError(RdKafka::err2str(err));
  }
  return Status::Ok();
}

}  // namespace touchstream
