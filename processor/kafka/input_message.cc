#include "processor/kafka/input_message.h"

#include <librdkafka/rdkafka.h>

namespace touchstream {

InputMessage::InputMessage(RdKafka::Message& message, std::string_view headers_topic) {
  // The C API lends the name (topic_name() would copy it for every record).
  record_.topic = rd_kafka_topic_name(message.c_ptr()->rkt);
  record_.partition = message.partition();
  record_.offset = message.offset();
  if (message.key_pointer() != nullptr) {
    record_.key =
        std::string_view(static_cast<const char*>(message.key_pointer()), message.key_len());
  }
  record_.value = std::string_view(static_cast<const char*>(message.payload()), message.len());
  if (const RdKafka::MessageTimestamp ts = message.timestamp();
      ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME && ts.timestamp > 0) {
    record_.create_time_ms = ts.timestamp;
  }
  rd_kafka_headers_t* headers = nullptr;
  if (record_.topic != headers_topic ||
      rd_kafka_message_headers(message.c_ptr(), &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    headers_.push_back({name, std::string_view(static_cast<const char*>(value), size)});
  }
  record_.headers = headers_;
}

}  // namespace touchstream
