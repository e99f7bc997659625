// touchstream_state_store_reads_total (README, "Metrics"): reads of the state store for customers
// not in the write-back cache, counted at each commit, through the in-process test driver.
#include <gtest/gtest.h>

#include "tests/driver/test_driver.h"
#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;

double StoreReads(testing::TestDriver& driver) {
  return driver.metrics().state_store_reads().Value();
}

TEST(StateStoreReadsTest, ACustomerIsReadOnceAndThenServedFromTheCache) {
  auto driver = testing::TestDriver::FromYaml("rules: {cart_1h: {kind: cart_abandonment}}\n");
  driver->Pipe(Event("e1", "amy", kT0, v1::EVENT_TYPE_PAGE_VIEW));
  EXPECT_EQ(StoreReads(*driver), 1);
  driver->Pipe(Event("e2", "amy", kT0 + 1000, v1::EVENT_TYPE_PAGE_VIEW));
  driver->Pipe(Event("e3", "bob", kT0 + 2000, v1::EVENT_TYPE_PAGE_VIEW));
  EXPECT_EQ(StoreReads(*driver), 2) << "amy cached, bob read";
}

TEST(StateStoreReadsTest, UnderErasureMemoryANewCustomerAlsoReadsTheMemorysEntry) {
  auto driver = testing::TestDriver::FromYaml(R"(
rules: {cart_1h: {kind: cart_abandonment}}
privacy: {hash_key: a-hash-key-of-thirty-two-bytes!!}
)");
  driver->Pipe(Event("e1", "amy", kT0, v1::EVENT_TYPE_PAGE_VIEW));
  ASSERT_TRUE(driver->status().ok()) << driver->status().message();
  EXPECT_EQ(StoreReads(*driver), 2) << "amy's state, then the erasure memory's entry for her";
}

}  // namespace
}  // namespace touchstream
