// SourceSwitch on librdkafka's KafkaConsumer: assignment, pause, resume and seek.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include "processor/run/source_switch.h"

namespace touchstream {

// Used on the consume thread, as the consumer is.
class ConsumerSourceSwitch final : public SourceSwitch {
 public:
  // `consumer` must outlive this object.
  explicit ConsumerSourceSwitch(RdKafka::KafkaConsumer& consumer) : consumer_(consumer) {}

  // Empty if librdkafka cannot tell (it then has no assignment to pause either).
  std::vector<Source> Assigned() override;
  void Pause(const std::vector<Source>& sources) override;
  void Resume(const std::vector<Source>& sources) override;
  Status Seek(const Source& source, int64_t offset) override;

 private:
  RdKafka::KafkaConsumer& consumer_;
};

}  // namespace touchstream
