#include "state/kept_records.h"

#include <algorithm>
#include <cstring>

namespace touchstream {

size_t KeptRecords::Add(const changelog::Record& record) {
  changelog::Record& copy = records_.emplace_back();
  copy.key = Copy(record.key);
  if (record.value) copy.value = Copy(*record.value);
  copy.owner = Copy(record.owner);
  copy.epoch = Copy(record.epoch);
  copy.seq = Copy(record.seq);
  copy.offset = record.offset;
  bytes_ += sizeof(changelog::Record);
  return bytes_;
}

void KeptRecords::Clear() {
  std::deque<changelog::Record>().swap(records_);
  blocks_.clear();
  next_ = nullptr;
  free_ = 0;
  bytes_ = 0;
}

std::string_view KeptRecords::Copy(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (bytes.size() > free_) {
    const size_t size = std::max(kBlockBytes, bytes.size());
    // Not zeroed (make_unique<char[]> would clear each megabyte only for the copies to overwrite
    // it: 8 % of a cold restore's samples went to that memset).
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
    next_ = blocks_.back().get();
    free_ = size;
    bytes_ += size;
  }
  std::memcpy(next_, bytes.data(), bytes.size());
  const std::string_view copy(next_, bytes.size());
  next_ += bytes.size();
  free_ -= bytes.size();
  return copy;
}

}  // namespace touchstream
