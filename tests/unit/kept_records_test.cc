// state/kept_records.h: the copies outlive the records they were made from, and the bytes held
// count each block whole.
#include "state/kept_records.h"

#include <gtest/gtest.h>

#include <string>

namespace touchstream {
namespace {

changelog::Record RecordOf(const std::string& key, const std::string* value, int64_t offset) {
  changelog::Record r;
  r.key = key;
  if (value != nullptr) r.value = *value;
  r.owner = "owner-1";
  r.epoch = "2";
  r.seq = "7";
  r.offset = offset;
  return r;
}

TEST(KeptRecordsTest, CopiesOutliveTheRecordsTheyWereMadeFrom) {
  KeptRecords kept;
  {
    std::string key = "customer-1";
    std::string value = "state bytes";
    kept.Add(RecordOf(key, &value, 10));
    key.assign(key.size(), 'x');
    value.assign(value.size(), 'y');
    std::string erased = "customer-2";
    kept.Add(RecordOf(erased, nullptr, 11));
  }
  ASSERT_EQ(kept.records().size(), 2u);
  const changelog::Record& first = kept.records()[0];
  EXPECT_EQ(first.key, "customer-1");
  ASSERT_TRUE(first.value.has_value());
  EXPECT_EQ(*first.value, "state bytes");
  EXPECT_EQ(first.owner, "owner-1");
  EXPECT_EQ(first.epoch, "2");
  EXPECT_EQ(first.seq, "7");
  EXPECT_EQ(first.offset, 10);
  const changelog::Record& second = kept.records()[1];
  EXPECT_EQ(second.key, "customer-2");
  EXPECT_FALSE(second.value.has_value());  // a tombstone stays one
  EXPECT_EQ(second.offset, 11);
}

TEST(KeptRecordsTest, BytesCountBlocksWholeAndALargeRecordGetsItsOwn) {
  KeptRecords kept;
  const std::string small(100, 's');
  const size_t after_one = kept.Add(RecordOf("a", &small, 0));
  // One block, whole, and one view.
  EXPECT_EQ(after_one, KeptRecords::kBlockBytes + sizeof(changelog::Record));
  const size_t after_two = kept.Add(RecordOf("b", &small, 1));
  EXPECT_EQ(after_two, after_one + sizeof(changelog::Record));  // the same block

  const std::string large(KeptRecords::kBlockBytes + 1, 'L');
  const size_t after_large = kept.Add(RecordOf("c", &large, 2));
  EXPECT_GE(after_large, after_two + large.size() + sizeof(changelog::Record));
  EXPECT_EQ(*kept.records()[2].value, large);
  EXPECT_EQ(*kept.records()[0].value, small);  // earlier views untouched
  EXPECT_EQ(kept.bytes(), after_large);

  kept.Clear();
  EXPECT_TRUE(kept.records().empty());
  EXPECT_EQ(kept.bytes(), 0u);
  // Usable again after Clear.
  EXPECT_EQ(kept.Add(RecordOf("d", &small, 3)),
            KeptRecords::kBlockBytes + sizeof(changelog::Record));
  EXPECT_EQ(*kept.records()[0].value, small);
}

}  // namespace
}  // namespace touchstream
