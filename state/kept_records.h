// Copies of changelog records, for the second pass of a cold restore that reads the changelog
// once (processor/kafka/changelog_restorer.h): the records a Kafka consumer delivered are gone
// once the next is consumed, so their bytes are copied here, in blocks of at least kBlockBytes
// (no allocation per record), and their views kept in log order (a deque: growing it never moves
// what it holds, so the views stay valid until Clear).
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "state/changelog.h"

namespace touchstream {

// Owned by one restoring thread.
class KeptRecords {
 public:
  static constexpr size_t kBlockBytes = 1 << 20;

  // Copies `record` (its key, value, headers and offset); returns the bytes held now: the
  // blocks allocated, counted whole, and the views. A record larger than kBlockBytes gets a
  // block of its own size.
  size_t Add(const changelog::Record& record);
  // In the order added; their views point into this object's blocks.
  const std::deque<changelog::Record>& records() const { return records_; }
  size_t bytes() const { return bytes_; }
  // Frees every block and view.
  void Clear();

 private:
  std::string_view Copy(std::string_view bytes);

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;  // in the last block
  size_t free_ = 0;       // bytes left after next_
  size_t bytes_ = 0;
  std::deque<changelog::Record> records_;
};

}  // namespace touchstream
