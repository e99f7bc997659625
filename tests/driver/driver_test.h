// The fixture rule and pipeline tests share: a TestDriver over a rule set, events in, triggers out
// as one-line descriptions (so that asserts stay on one line).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"

namespace touchstream::testing {

class DriverTest : public ::testing::Test {
 protected:
  using V = std::vector<std::string>;

  // (Re)starts the driver on a fresh store with `rules`, in config order.
  void Start(RuleSet rules, DriverOptions options = {}) {
    driver_ = std::make_unique<TestDriver>(std::move(rules), options);
    ASSERT_TRUE(driver_->status().ok()) << driver_->status().message();
  }

  // Pipes one event and commits; the triggers that commit delivered.
  V Process(const v1::TouchpointEvent& e) { return Keep(driver_->Pipe(e)); }
  // Moves event time to `t` and commits; the triggers that fired.
  V AdvanceTo(TimeMs t) { return Keep(driver_->AdvanceEventTime(t)); }

  // How a trigger reads in asserts; rule tests show their kind's detail.
  virtual std::string DescribeTrigger(const v1::Trigger& t) const { return Describe(t); }

  std::unique_ptr<TestDriver> driver_;
  std::vector<v1::Trigger> last_;  // what the last call delivered

 private:
  V Keep(std::vector<v1::Trigger> out) {
    EXPECT_TRUE(driver_->status().ok()) << driver_->status().message();
    last_ = std::move(out);
    V lines;
    for (const auto& t : last_) lines.push_back(DescribeTrigger(t));
    return lines;
  }
};

}  // namespace touchstream::testing
