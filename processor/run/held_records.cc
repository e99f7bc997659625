#include "processor/run/held_records.h"

namespace touchstream {

KeptRecord::KeptRecord(const InputRecord& record) : topic_(record.topic), value_(record.value) {
  record_.topic = topic_;
  record_.partition = record.partition;
  record_.offset = record.offset;
  if (record.key) {
    key_ = std::string(*record.key);
    record_.key = key_;
  }
  // A null value (a tombstone) stays null: its dead letter's value is null too.
  if (record.value.data() != nullptr) record_.value = value_;
  record_.create_time_ms = record.create_time_ms;
  bytes_ = topic_.size() + key_.size() + value_.size();
  // Reserved: the views into header_data_ stay valid as it grows.
  header_data_.reserve(record.headers.size());
  headers_.reserve(record.headers.size());
  for (const InputHeader& h : record.headers) {
    const auto& [key, value] = header_data_.emplace_back(h.key, h.value);
    headers_.push_back({key, value});
    bytes_ += key.size() + value.size();
  }
  record_.headers = headers_;
}

bool HeldRecords::Join(Kept::iterator it, const SourceView& source, Record& kept) {
  if (it != kept_.end() && it->second.refused_from) return false;
  const size_t bytes = BytesOf(*kept);
  if (bytes_ + bytes > max_bytes_) {
    // What the source kept stays; it is read again from here.
    if (it != kept_.end()) it->second.refused_from = kept->record().offset;
    return false;
  }
  if (it == kept_.end()) {
    it = kept_.emplace(Source(source.first, source.second), SourceRecords()).first;
  }
  it->second.records.push_back(std::move(kept));
  bytes_ += bytes;
  return true;
}

HeldRecords::Behind HeldRecords::KeepBehind(const SourceView& source, const InputRecord& record) {
  auto it = kept_.find(source);
  if (it == kept_.end()) return Behind::kNotKeeping;
  if (it->second.refused_from) return Behind::kRefused;  // not copied to be refused
  Record copy = std::make_unique<KeptRecord>(record);
  return Join(it, source, copy) ? Behind::kKept : Behind::kRefused;
}

HeldRecords::Behind HeldRecords::KeepBehind(const SourceView& source, Record& record) {
  auto it = kept_.find(source);
  if (it == kept_.end()) return Behind::kNotKeeping;
  return Join(it, source, record) ? Behind::kKept : Behind::kRefused;
}

std::optional<int64_t> HeldRecords::RefusedFrom(const SourceView& source) const {
  auto it = kept_.find(source);
  return it == kept_.end() ? std::nullopt : it->second.refused_from;
}

std::deque<HeldRecords::Record> HeldRecords::Take(const SourceView& source) {
  auto it = kept_.find(source);
  if (it == kept_.end()) return {};
  std::deque<Record> taken = std::move(it->second.records);
  kept_.erase(it);
  for (const Record& r : taken) bytes_ -= BytesOf(*r);
  return taken;
}

size_t HeldRecords::size() const {
  size_t n = 0;
  for (const auto& [source, kept] : kept_) n += kept.records.size();
  return n;
}

}  // namespace touchstream
