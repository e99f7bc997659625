// `touchstream demo` as a user runs it: bounded, prints triggers of every built-in rule kind,
// progress lines, and exits 0.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace touchstream::testing {
namespace {

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(DemoTest, RunsBoundedAndFiresEveryRuleKind) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  // win_back_demo's first tier is 30s: 40s lets it fire for the earliest buyers.
  ChildProcess demo({TouchstreamBin(), "demo", "--duration", "40s", "--rate", "40",
                     "--cart-delay", "5s", "--metrics-listen",
                     "127.0.0.1:" + std::to_string(FreeLoopbackPort())},
                    dir.path() + "/demo");
  ASSERT_EQ(demo.Wait(std::chrono::seconds(90)), 0) << demo.Stderr();
  const std::string out = demo.Stdout();
  const std::string err = demo.Stderr();
  EXPECT_GT(Count(out, "TRIGGER CART_ABANDONED rule=cart_5s "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER BROWSE_ABANDONED rule=browse_10s "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER WIN_BACK rule=win_back_demo "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER REWARD_WINDOW_OPENED rule=spring_offer "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER REWARD_EARNED rule=spring_offer "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER REWARD_WINDOW_REMINDER rule=spring_offer "), 0) << out;
  EXPECT_GE(Count(err, "progress: "), 5) << err;
  // The generator injects bad records: they are dead-lettered, not fatal.
  const size_t finished = err.find("demo finished: ");
  ASSERT_NE(finished, std::string::npos) << err;
  const std::string summary = err.substr(finished, err.find('\n', finished) - finished);
  EXPECT_EQ(summary.find("dead-lettered=0 "), std::string::npos) << summary;
}

}  // namespace
}  // namespace touchstream::testing
