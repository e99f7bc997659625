// Reads the group consumer's statistics reports (librdkafka's JSON, every
// statistics.interval.ms) into what the metrics show: the records each source topic's partitions
// fetched since the last report, and the bytes librdkafka holds prefetched for them now.
//
// Records fetched count every delivery from the brokers, so they exceed the records consumed by
// what was fetched twice: a partition paused while it held its input drops what it had
// prefetched and fetches it again after its rewind (processor/run/source_pauses.h), and a
// rebalance's new owner fetches again from the last commit. librdkafka's per-partition count
// (`rxmsgs`) grows for the client's life; a partition whose count went down (its state dropped
// and made again) counts from zero.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "processor/core/status.h"

namespace touchstream {

// One report's reading.
struct ConsumerStatisticsReading {
  // By topic: records fetched since the previous report.
  std::map<std::string, uint64_t> fetched;
  // Bytes in the partitions' fetch queues now (prefetched, not yet consumed), over all topics.
  uint64_t queued_bytes = 0;
};

// Owned by the thread that serves the consumer's callbacks (the consume thread).
class ConsumerStatistics {
 public:
  // Reads one report. InvalidArgument if it is not librdkafka's JSON (nothing changes then).
  StatusOr<ConsumerStatisticsReading> Read(std::string_view json);

 private:
  // By (topic, partition): its count of records fetched at the last report.
  std::map<std::pair<std::string, int32_t>, int64_t> last_fetched_;
};

}  // namespace touchstream
