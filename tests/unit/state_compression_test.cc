// How the customers' compacted files are compressed: zstd at level 6 with a raw-content
// dictionary of up to 32 KiB per file, neither trained nor finalized (why: state/state_db.cc).
// Read from the live files' own table properties, which record the options they were written
// with; and the states read back unchanged.
#include <gtest/gtest.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <filesystem>
#include <string>
#include <vector>

#include "state/commit_batch.h"
#include "state/state_db.h"
#include "tests/unit/store_test.h"

namespace touchstream {
namespace {

class StateCompressionTest : public testing::StoreTest {
 protected:
  // A state-like value: what repeats across customers (rule ids, a zone, sku prefixes) and what
  // does not (the customer's own ids and times).
  static std::string Value(int n) {
    return "rule:cart-abandoned-1h;rule:win-back-7d;zone:America/New_York;sku:sku-sneaker-" +
           std::to_string(n % 97) + ";event:ev-" + std::to_string(n * 7919) +
           ";last:" + std::to_string(1767225600000 + n * 1000);
  }

  // The table properties of every customers file in the store's directory (call after a
  // Reopen: opening the store deletes the files a compaction replaced).
  std::vector<rocksdb::TableProperties> CustomerFiles() {
    std::vector<rocksdb::TableProperties> out;
    for (const auto& file : std::filesystem::directory_iterator(dir_ / "store")) {
      if (file.path().extension() != ".sst") continue;
      rocksdb::SstFileReader reader{rocksdb::Options()};
      if (rocksdb::Status s = reader.Open(file.path().string()); !s.ok()) {
        ADD_FAILURE() << file.path() << ": " << s.ToString();
        continue;
      }
      auto properties = reader.GetTableProperties();
      if (properties && properties->column_family_name == "customers") out.push_back(*properties);
    }
    return out;
  }
};

TEST_F(StateCompressionTest, CompactedCustomersAreZstdWithARawDictionary) {
  CommitBatch batch(*db_);
  for (int n = 0; n < 5000; ++n) {
    const std::string value = Value(n);
    batch.PutCustomerValue(0, "c-" + std::to_string(n), &value);
  }
  ASSERT_TRUE(batch.Commit().ok());
  ASSERT_TRUE(db_->CompactAll().ok());
  Reopen();

  const std::vector<rocksdb::TableProperties> files = CustomerFiles();
  ASSERT_FALSE(files.empty());
  for (const rocksdb::TableProperties& file : files) {
    EXPECT_EQ(file.compression_name, "ZSTD");
    // Raw content: nothing trained or finalized from the samples.
    EXPECT_NE(file.compression_options.find("zstd_max_train_bytes=0;"), std::string::npos)
        << file.compression_options;
    EXPECT_NE(file.compression_options.find("max_dict_bytes=32768;"), std::string::npos)
        << file.compression_options;
    EXPECT_NE(file.compression_options.find("level=6;"), std::string::npos)
        << file.compression_options;
  }

  for (int n = 0; n < 5000; n += 499) {
    std::string value;
    StatusOr<bool> found = db_->ReadCustomerBytes(0, "c-" + std::to_string(n), value);
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(*found) << n;
    EXPECT_EQ(value, Value(n));
  }
}

}  // namespace
}  // namespace touchstream
