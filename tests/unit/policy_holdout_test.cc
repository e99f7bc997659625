#include <gtest/gtest.h>

#include "processor/policy/holdout.h"

namespace touchstream {
namespace {

// Fixed vectors, computed independently of this code:
//   h=$(printf '%s' 'cart_1h:c-1' | sha256sum | cut -c1-16)   # 3984d0459684f0fa
//   python3 -c "print(int('$h', 16) % 10000)"                  # 4618
// and likewise 'cart_1h:c-2' → 83fa0a5c4a476274 → 4852 (top bit set: read unsigned),
// 'win_back:c-1' → 02595ec41151f1fd → 8253, 'cart_1h:' → 4322af60ed475e17 → 2567.
TEST(HoldoutTest, BucketIsSha256PrefixBigEndianModTenThousand) {
  EXPECT_EQ(HoldoutBucket("cart_1h", "c-1"), 4618);
  EXPECT_EQ(HoldoutBucket("cart_1h", "c-2"), 4852);
  EXPECT_EQ(HoldoutBucket("win_back", "c-1"), 8253);
  EXPECT_EQ(HoldoutBucket("cart_1h", ""), 2567);
}

TEST(HoldoutTest, HeldOutBelowTheBasisPoints) {
  EXPECT_FALSE(IsHeldOut("cart_1h", "c-1", 4618));  // bucket 4618 is not < 4618
  EXPECT_TRUE(IsHeldOut("cart_1h", "c-1", 4619));
  EXPECT_FALSE(IsHeldOut("cart_1h", "c-1", 0));
  EXPECT_TRUE(IsHeldOut("win_back", "c-1", 10000));
}

TEST(HoldoutTest, ParsesPercentTextExactlyAsBasisPoints) {
  EXPECT_EQ(ParseBasisPoints("12.5"), 1250);
  EXPECT_EQ(ParseBasisPoints("12.50"), 1250);
  EXPECT_EQ(ParseBasisPoints("100"), 10000);
  EXPECT_EQ(ParseBasisPoints("100.00"), 10000);
  EXPECT_EQ(ParseBasisPoints("0"), 0);
  EXPECT_EQ(ParseBasisPoints("0.01"), 1);
  EXPECT_EQ(ParseBasisPoints("0.29"), 29);  // 0.29 * 100 in binary floating point is 28.999...
  EXPECT_EQ(ParseBasisPoints("007"), 700);
}

TEST(HoldoutTest, RejectsAnythingButZeroToHundredWithTwoDecimals) {
  for (const char* bad : {"12.345", "-1", "100.01", "101", "1e1", "+5", ".5", "5.", "", "abc",
                          "12,5", " 5", "1000000000000"}) {
    EXPECT_EQ(ParseBasisPoints(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace touchstream
