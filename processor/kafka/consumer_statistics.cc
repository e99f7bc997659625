#include "processor/kafka/consumer_statistics.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "kafka_statistics.pb.h"

namespace touchstream {

StatusOr<ConsumerStatisticsReading> ConsumerStatistics::Read(std::string_view json) {
  kafka::KafkaStatistics report;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (auto status = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &report, options);
      !status.ok()) {
    return Status::InvalidArgument("librdkafka statistics: " + std::string(status.message()));
  }
  ConsumerStatisticsReading reading;
  for (const auto& [name, topic] : report.topics()) {
    uint64_t& fetched = reading.fetched[name];
    for (const auto& [id, partition] : topic.partitions()) {
      if (id < 0) continue;  // the unassigned-partition queue: fetches nothing
      reading.queued_bytes += static_cast<uint64_t>(std::max<int64_t>(partition.fetchq_size(), 0));
      int64_t& last = last_fetched_[{name, id}];
      const int64_t now = std::max<int64_t>(partition.rxmsgs(), 0);
      fetched += static_cast<uint64_t>(now >= last ? now - last : now);
      last = now;
    }
  }
  return reading;
}

}  // namespace touchstream
