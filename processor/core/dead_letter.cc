#include "processor/core/dead_letter.h"

namespace touchstream {

v1::state::OutboxRecord MakeDeadLetter(const std::string& dead_letter_topic, std::string_view key,
                                       std::string_view value, const Verdict& verdict,
                                       const SourcePosition& source) {
  v1::state::OutboxRecord record;
  record.set_topic(dead_letter_topic);
  record.set_key(std::string(key));
  record.set_value(std::string(value));
  auto add = [&record](const char* name, std::string v) {
    auto* h = record.add_headers();
    h->set_key(name);
    h->set_value(std::move(v));
  };
  add("touchstream.reason", RejectReasonName(verdict.reason));
  add("touchstream.detail", verdict.detail);
  add("touchstream.source.topic", source.topic);
  add("touchstream.source.partition", std::to_string(source.partition));
  add("touchstream.source.offset", std::to_string(source.offset));
  return record;
}

}  // namespace touchstream
