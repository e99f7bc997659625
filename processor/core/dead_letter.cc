#include "processor/core/dead_letter.h"

namespace touchstream {

v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, std::string_view reason,
                                       std::string_view detail, const RecordHeaders& headers) {
  v1::state::OutboxRecord record;
  record.set_topic(dead_letter_topic);
  record.set_key(std::string(key));
  record.set_value(std::string(value));
  *record.mutable_headers() = headers;
  AddHeader(record, kReasonHeader, reason);
  AddHeader(record, kDetailHeader, detail);
  return record;
}

void AddHeader(v1::state::OutboxRecord& record, std::string_view name, std::string_view value) {
  auto* h = record.add_headers();
  h->set_key(std::string(name));
  h->set_value(std::string(value));
}

v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, const Verdict& verdict,
                                       const SourcePosition& source) {
  v1::state::OutboxRecord record = MakeDeadLetter(dead_letter_topic, key, value,
                                                  RejectReasonName(verdict.reason), verdict.detail);
  AddHeader(record, "touchstream.source.topic", source.topic);
  AddHeader(record, "touchstream.source.partition", std::to_string(source.partition));
  AddHeader(record, "touchstream.source.offset", std::to_string(source.offset));
  return record;
}

}  // namespace touchstream
