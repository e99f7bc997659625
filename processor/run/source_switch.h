// What pausing the input asks of the consumer: its assigned sources, and pausing, resuming and
// rewinding them (SourcePauses decides which; ConsumerSourceSwitch does it on the group consumer,
// processor/kafka/consumer_source_switch.h; tests record it).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "processor/core/status.h"

namespace touchstream {

class SourceSwitch {
 public:
  using Source = std::pair<std::string, int32_t>;  // topic, partition

  virtual ~SourceSwitch() = default;
  // The sources assigned to the consumer now.
  virtual std::vector<Source> Assigned() = 0;
  // The consumer delivers no more records of `sources` (those it fetched ahead are dropped) until
  // they are resumed; pausing a paused source, or resuming one that is not, changes nothing.
  virtual void Pause(const std::vector<Source>& sources) = 0;
  virtual void Resume(const std::vector<Source>& sources) = 0;
  // The source's next record is the one at `offset` (the first one if `offset` is not above 0).
  // An error says why it failed; the position is then unchanged.
  virtual Status Seek(const Source& source, int64_t offset) = 0;
};

}  // namespace touchstream
