// RocksDB and state-disk gauges: read from RocksDB properties and statvfs(2) of the state
// directory by Sample(), which the consume thread calls about once a second (RocksDB property
// reads are cheap but not free; a scrape never touches the store).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <string>

namespace touchstream {

class StateDb;

// What one Sample() read; exposed for the readiness check.
struct StoreSample {
  uint64_t disk_available_bytes = 0;
  uint64_t disk_size_bytes = 0;
  uint64_t background_errors = 0;
};

// Sample() must be called from one thread; the gauges are safe for concurrent scrapes.
class StoreMetrics {
 public:
  // Registers every series at zero in `registry` (which must outlive this object).
  explicit StoreMetrics(prometheus::Registry& registry);

  // Reads the properties of `db` and the free space of its directory into the gauges.
  StoreSample Sample(StateDb& db);

 private:
  struct FamilyGauges {
    prometheus::Gauge* estimated_keys;
    prometheus::Gauge* live_data_bytes;
  };

  std::map<std::string, FamilyGauges> families_;  // by column family name
  prometheus::Gauge* pending_compaction_bytes_;
  prometheus::Gauge* block_cache_usage_bytes_;
  prometheus::Gauge* memtable_bytes_;
  prometheus::Gauge* table_readers_bytes_;
  prometheus::Counter* background_errors_;
  prometheus::Gauge* write_stopped_;
  prometheus::Gauge* delayed_write_rate_;
  prometheus::Gauge* disk_available_bytes_;
  prometheus::Gauge* disk_size_bytes_;
  uint64_t background_errors_seen_ = 0;  // RocksDB's count at the last Sample
};

}  // namespace touchstream
