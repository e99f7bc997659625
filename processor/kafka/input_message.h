// A consumed Kafka message as the task's InputRecord (processor/core/input_record.h): topic,
// partition, offset, key (or none), value, the CreateTime when the record has one, and, when
// asked, its headers. The record's views point into the message and this object: both must
// outlive every use of record().
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <string_view>
#include <vector>

#include "processor/core/input_record.h"

namespace touchstream {

class InputMessage {
 public:
  // Reads the headers too when the message is from `headers_topic` (the task reads only the
  // repartition topic's).
  InputMessage(RdKafka::Message& message, std::string_view headers_topic);
  InputMessage(const InputMessage&) = delete;
  InputMessage& operator=(const InputMessage&) = delete;

  const InputRecord& record() const { return record_; }

 private:
  std::vector<InputHeader> headers_;  // views lent by librdkafka's C API
  InputRecord record_;
};

}  // namespace touchstream
