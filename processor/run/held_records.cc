#include "processor/run/held_records.h"

namespace touchstream {

size_t HeldRecords::BytesOf(const RdKafka::Message& message) {
  return message.len() + message.key_len() + kRecordOverheadBytes;
}

bool HeldRecords::Keep(const Source& source, Message& message) {
  auto it = kept_.find(source);
  const size_t bytes = BytesOf(*message);
  if (bytes_ + bytes > max_bytes_) {
    if (it != kept_.end()) Drop(it);
    return false;
  }
  if (it == kept_.end()) it = kept_.emplace(source, std::deque<Message>()).first;
  it->second.push_back(std::move(message));
  bytes_ += bytes;
  return true;
}

std::deque<HeldRecords::Message> HeldRecords::Take(const Source& source) {
  auto it = kept_.find(source);
  if (it == kept_.end()) return {};
  std::deque<Message> taken = std::move(it->second);
  for (const Message& m : taken) bytes_ -= BytesOf(*m);
  kept_.erase(it);
  return taken;
}

void HeldRecords::Drop(std::map<Source, std::deque<Message>>::iterator it) {
  for (const Message& m : it->second) bytes_ -= BytesOf(*m);
  kept_.erase(it);
}

size_t HeldRecords::size() const {
  size_t n = 0;
  for (const auto& [source, records] : kept_) n += records.size();
  return n;
}

}  // namespace touchstream
