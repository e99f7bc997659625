// `touchstream demo` as a user runs it: bounded, prints triggers of every built-in rule kind,
// progress lines, what the policy stage held back and why, and exits 0.
#include <gtest/gtest.h>

#include <cstdlib>
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

// The number after `label` in the part of `line` that starts with `part` and ends at the next
// " · " (e.g. part "deferred ", label "quiet_hours "); -1 when absent.
long NumberIn(const std::string& line, const std::string& part, const std::string& label) {
  const size_t begin = line.find(part);
  if (begin == std::string::npos) return -1;
  const std::string segment = line.substr(begin, line.find(" · ", begin) - begin);
  const size_t at = segment.find(label);
  if (at == std::string::npos) return -1;
  return std::strtol(segment.c_str() + at + label.size(), nullptr, 10);
}

TEST(DemoTest, RunsBoundedAndFiresEveryRuleKind) {
  ASSERT_FALSE(TouchstreamBin().empty()) << "TOUCHSTREAM_BIN is not set";
  TempDir dir;
  // win_back_demo's first tier is 30s: 40s lets it fire for the earliest buyers.
  ChildProcess demo({TouchstreamBin(), "demo", "--duration", "40s", "--rate", "40", "--cart-delay",
                     "5s", "--metrics-listen", "127.0.0.1:" + std::to_string(FreeLoopbackPort())},
                    dir.path() + "/demo");
  ASSERT_EQ(demo.Wait(std::chrono::seconds(90)), 0) << demo.Stderr();
  const std::string out = demo.Stdout();
  const std::string err = demo.Stderr();
  EXPECT_GT(Count(out, "TRIGGER CART_ABANDONED rule=cart_5s "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER BROWSE_ABANDONED rule=browse_10s "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER REWARD_WINDOW_OPENED rule=spring_offer "), 0) << out;
  EXPECT_GT(Count(out, "TRIGGER REWARD_EARNED rule=spring_offer "), 0) << out;
  // Fewer of these fire in 40s, and the policies hold some back (a win-back in quiet hours, a
  // reminder over the cap): fired is printed as sent (TRIGGER) or held back (AUDIT).
  EXPECT_GT(Count(out, " WIN_BACK rule=win_back_demo "), 0) << out;
  EXPECT_GT(Count(out, " REWARD_WINDOW_REMINDER rule=spring_offer "), 0) << out;
  EXPECT_GE(Count(err, "progress: "), 5) << err;
  // The generator injects bad records: they are dead-lettered, not fatal.
  const size_t finished = err.find("demo finished: ");
  ASSERT_NE(finished, std::string::npos) << err;
  const std::string summary = err.substr(finished, err.find('\n', finished) - finished);
  EXPECT_EQ(summary.find("dead-lettered=0 "), std::string::npos) << summary;

  // The built-in policies hold triggers back, and the summary says how many and why; "sent"
  // counts what was delivered, as the TRIGGER lines do. The generator makes each of these
  // certain: customers in five time zones (one is always in quiet hours), customers who
  // unsubscribed from every channel messaged without an opt-in, browse reminders for a compared
  // product after the cart reminder (one product reminder a minute, a browse reminder over it is
  // dropped), and a 10% holdout of the cart rule.
  const size_t at = err.find("decisions: ");
  ASSERT_NE(at, std::string::npos) << err;
  const std::string decisions = err.substr(at, err.find('\n', at) - at);
  EXPECT_EQ(NumberIn(decisions, "decisions: ", "sent "), Count(out, "TRIGGER ")) << decisions;
  EXPECT_GT(NumberIn(decisions, "deferred ", "quiet_hours "), 0) << decisions;
  EXPECT_GT(NumberIn(decisions, "suppressed ", "no_consent "), 0) << decisions;
  EXPECT_GT(NumberIn(decisions, "suppressed ", "frequency_cap "), 0) << decisions;
  EXPECT_GT(NumberIn(decisions, "holdout ", "holdout "), 0) << decisions;
  // Each held-back trigger is printed with its reason.
  EXPECT_GT(Count(out, "AUDIT DEFERRED quiet_hours "), 0) << out;
  EXPECT_GT(Count(out, "AUDIT SUPPRESSED no_consent "), 0) << out;
  EXPECT_GT(Count(out, "AUDIT HOLDOUT holdout CART_ABANDONED rule=cart_5s "), 0) << out;
}

}  // namespace
}  // namespace touchstream::testing
