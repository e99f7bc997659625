// InFlightRecords holds records by sequence number as a map would, whatever order they leave in.
#include "processor/kafka/in_flight_records.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace touchstream {
namespace {

std::vector<std::pair<uint64_t, std::string>> Held(const InFlightRecords<std::string>& records) {
  std::vector<std::pair<uint64_t, std::string>> out;
  records.ForEach([&](uint64_t seq, const std::string& r) { out.emplace_back(seq, r); });
  return out;
}

TEST(InFlightRecordsTest, BehavesAsAnOrderedMapUnderRandomInsertsAndErases) {
  std::mt19937 rng(3);
  InFlightRecords<std::string> records;
  std::map<uint64_t, std::string> oracle;
  uint64_t next = 1000;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {  // a new record, mostly the next seq
      const uint64_t seq = rng() % 20 == 0 ? next + rng() % 5 : next++;
      const bool fresh = oracle.emplace(seq, "r" + std::to_string(seq)).second;
      EXPECT_EQ(records.Insert(seq, "r" + std::to_string(seq)), fresh) << seq;
      next = std::max(next, seq + 1);
    } else if (op < 9 && !oracle.empty()) {  // one leaves: mostly the oldest, sometimes any
      auto it = oracle.begin();
      if (rng() % 3 == 0) std::advance(it, rng() % oracle.size());
      EXPECT_TRUE(records.Erase(it->first));
      oracle.erase(it);
    } else {  // an unknown seq
      const uint64_t seq = next + 100 + rng() % 100;
      EXPECT_EQ(records.Find(seq), nullptr);
      EXPECT_FALSE(records.Erase(seq));
    }
    ASSERT_EQ(records.size(), oracle.size());
  }
  EXPECT_EQ(Held(records), (std::vector<std::pair<uint64_t, std::string>>(oracle.begin(),
                                                                           oracle.end())));
  for (const auto& [seq, r] : oracle) EXPECT_EQ(records.At(seq), r);
}

TEST(InFlightRecordsTest, ASeqBelowTheFirstHeldAndADuplicateAreHandled) {
  InFlightRecords<std::string> records;
  EXPECT_TRUE(records.Insert(10, "a"));
  EXPECT_TRUE(records.Insert(7, "b"));
  EXPECT_FALSE(records.Insert(10, "c")) << "already held";
  EXPECT_EQ(records.At(10), "a");
  EXPECT_EQ(Held(records), (std::vector<std::pair<uint64_t, std::string>>{{7, "b"}, {10, "a"}}));
  EXPECT_TRUE(records.Erase(7));
  EXPECT_TRUE(records.Erase(10));
  EXPECT_TRUE(records.empty());
  // Empty again: a new first seq anywhere, without slots for what lies between.
  EXPECT_TRUE(records.Insert(1'000'000'000, "d"));
  EXPECT_EQ(records.size(), 1u);
  EXPECT_EQ(records.Find(10), nullptr);
}

TEST(InFlightRecordsTest, ForEachCanChangeTheRecordsHeld) {
  InFlightRecords<std::string> records;
  ASSERT_TRUE(records.Insert(3, "a"));
  ASSERT_TRUE(records.Insert(5, "b"));
  records.ForEach([](uint64_t seq, std::string& r) { r += std::to_string(seq); });
  EXPECT_EQ(Held(records), (std::vector<std::pair<uint64_t, std::string>>{{3, "a3"}, {5, "b5"}}));
}

}  // namespace
}  // namespace touchstream
