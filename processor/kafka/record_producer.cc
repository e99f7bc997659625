#include "processor/kafka/record_producer.h"

#include "state/changelog.h"

namespace touchstream {

RdKafka::ErrorCode ProduceRecord(RdKafka::Producer& producer, const v1::state::OutboxRecord& record,
                                 void* opaque, Payload payload) {
  const int flags = payload == Payload::kCopied ? RdKafka::Producer::RK_MSG_COPY : 0;
  while (true) {
    RdKafka::Headers* headers = nullptr;
    if (record.headers_size() > 0 || record.has_changelog_stamp()) {
      headers = RdKafka::Headers::create();
      for (const auto& h : record.headers()) {
        headers->add(h.key(), h.value().data(), h.value().size());
      }
      changelog::ForEachStampHeader(record, [&](const std::string& name, std::string_view value) {
        headers->add(name, value.data(), value.size());
      });
    }
    // A null payload is a null value (a tombstone), not an empty one.
    char* value = record.null_value() ? nullptr : const_cast<char*>(record.value().data());
    const size_t size = record.null_value() ? 0 : record.value().size();
    const RdKafka::ErrorCode err = producer.produce(
        record.topic(), record.has_partition() ? record.partition() : RdKafka::Topic::PARTITION_UA,
        flags, value, size, record.null_key() ? nullptr : record.key().data(),
        record.null_key() ? 0 : record.key().size(),
        record.has_timestamp_ms() ? record.timestamp_ms() : 0, headers, opaque);
    if (err == RdKafka::ERR_NO_ERROR) return err;  // headers now owned by librdkafka
    delete headers;
    if (err != RdKafka::ERR__QUEUE_FULL) return err;
    producer.poll(10);
  }
}

}  // namespace touchstream
