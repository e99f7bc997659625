#include "processor/core/event_validator.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/unit/test_events.h"

namespace touchstream {
namespace {

using testing::Event;
using testing::kT0;

const TimeMs kNow = kT0 + kHourMs;

RejectReason Check(const v1::TouchpointEvent& e, ValidationLimits limits = {}) {
  return EventValidator(limits).Validate(e, kNow).reason;
}

v1::TouchpointEvent Valid() { return Event("e1", "c1", kT0, v1::EVENT_TYPE_PAGE_VIEW); }

TEST(EventValidatorTest, AcceptsACompleteEvent) { EXPECT_EQ(Check(Valid()), RejectReason::kNone); }

TEST(EventValidatorTest, RejectsUndecodableBytes) {
  v1::TouchpointEvent scratch;
  Verdict v = EventValidator({}).DecodeAndValidate("\xff\xff\xff garbage", kNow, &scratch);
  EXPECT_EQ(v.reason, RejectReason::kUndecodable);
}

TEST(EventValidatorTest, RejectsEachMissingRequiredField) {
  auto e = Valid();
  e.clear_event_id();
  EXPECT_EQ(Check(e), RejectReason::kMissingEventId);
  e = Valid();
  e.clear_customer_id();
  EXPECT_EQ(Check(e), RejectReason::kMissingCustomerId);
  e = Valid();
  e.clear_event_time();
  EXPECT_EQ(Check(e), RejectReason::kMissingEventTime);
}

TEST(EventValidatorTest, RejectsUnspecifiedAndUnknownEnums) {
  auto e = Valid();
  e.set_channel(v1::CHANNEL_UNSPECIFIED);
  EXPECT_EQ(Check(e), RejectReason::kInvalidChannel);
  e.set_channel(static_cast<v1::Channel>(99));
  EXPECT_EQ(Check(e), RejectReason::kInvalidChannel);
  e = Valid();
  e.set_type(v1::EVENT_TYPE_UNSPECIFIED);
  EXPECT_EQ(Check(e), RejectReason::kInvalidType);
  e.set_type(static_cast<v1::EventType>(1000));
  EXPECT_EQ(Check(e), RejectReason::kInvalidType);
}

TEST(EventValidatorTest, RejectsEventTimesBefore2000AndTooFarAhead) {
  auto e = Valid();
  *e.mutable_event_time() = ToTimestamp(946684800000 - 1);
  EXPECT_EQ(Check(e), RejectReason::kEventTimeTooOld);
  *e.mutable_event_time() = ToTimestamp(946684800000);
  EXPECT_EQ(Check(e), RejectReason::kNone);
  *e.mutable_event_time() = ToTimestamp(kNow + 5 * kMinuteMs + 1);
  EXPECT_EQ(Check(e), RejectReason::kEventTimeInFuture);
  *e.mutable_event_time() = ToTimestamp(kNow + 5 * kMinuteMs);
  EXPECT_EQ(Check(e), RejectReason::kNone);
}

TEST(EventValidatorTest, RejectsOversizedFields) {
  ValidationLimits limits;
  limits.max_field_bytes = 8;
  limits.max_items = 1;
  auto e = Valid();
  e.set_campaign_id("123456789");
  EXPECT_EQ(Check(e, limits), RejectReason::kFieldTooLarge);
  e = testing::WithItem(testing::WithItem(Valid(), "a", 1, 1), "b", 1, 1);
  EXPECT_EQ(Check(e, limits), RejectReason::kFieldTooLarge);
  e = Valid();
  (*e.mutable_attributes())["k"] = "far too long";
  EXPECT_EQ(Check(e, limits), RejectReason::kFieldTooLarge);
}

TEST(EventValidatorTest, RejectsItemsWithoutSkuOrWithNonPositiveQuantity) {
  EXPECT_EQ(Check(testing::WithItem(Valid(), "", 1, 100)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(testing::WithItem(Valid(), "sku", 0, 100)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(testing::WithItem(Valid(), "sku", 1, -5)), RejectReason::kInvalidItem);
  for (v1::EventType type : {v1::EVENT_TYPE_ADD_TO_CART, v1::EVENT_TYPE_PURCHASE}) {
    const auto e = testing::WithItem(Event("e1", "c1", kT0, type), "sku", 0, 100);
    EXPECT_EQ(Check(e), RejectReason::kInvalidItem) << v1::EventType_Name(type);
  }
}

TEST(EventValidatorTest, ProductViewItemsMayOmitQuantity) {
  const auto view = Event("e1", "c1", kT0, v1::EVENT_TYPE_PRODUCT_VIEW);
  EXPECT_EQ(Check(testing::WithItem(view, "sku", 0, 100)), RejectReason::kNone);
  EXPECT_EQ(Check(testing::WithItem(view, "sku", 2, 100)), RejectReason::kNone);
  EXPECT_EQ(Check(testing::WithItem(view, "sku", -1, 100)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(testing::WithItem(view, "", 0, 100)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(testing::WithItem(view, "sku", 0, -1)), RejectReason::kInvalidItem);
  EXPECT_EQ(EventValidator({}).Validate(testing::WithItem(view, "sku", -1, 100), kNow).detail,
            "items[0] needs a sku, quantity >= 0 and unit_price_minor >= 0");
}

TEST(EventValidatorTest, EventTimesOutsideTheTimestampRangeAreOutOfRangeFirst) {
  // 2305843010980919552 s: seconds * 1000 wraps around to a date in 2026.
  for (int64_t seconds : {int64_t{2305843010980919552}, int64_t{253402300800},
                          int64_t{-62135596801}, std::numeric_limits<int64_t>::min()}) {
    auto e = Valid();
    e.mutable_event_time()->set_seconds(seconds);
    EXPECT_EQ(Check(e), RejectReason::kEventTimeOutOfRange) << seconds;
  }
  auto last = Valid();
  last.mutable_event_time()->set_seconds(253402300799);  // 9999-12-31T23:59:59Z
  EXPECT_EQ(Check(last), RejectReason::kEventTimeInFuture);
}

TEST(EventValidatorTest, AmountsQuantitiesAndPricesAreBounded) {
  ValidationLimits limits;
  auto order = [](int64_t amount) {
    auto e = Event("e1", "c1", kT0, v1::EVENT_TYPE_PURCHASE);
    e.set_amount_minor(amount);
    return e;
  };
  EXPECT_EQ(Check(order(-1)), RejectReason::kInvalidAmount);
  EXPECT_EQ(Check(order(limits.max_amount_minor + 1)), RejectReason::kInvalidAmount);
  EXPECT_EQ(Check(order(limits.max_amount_minor)), RejectReason::kNone);
  auto item = [](int qty, int64_t price) {
    return testing::WithItem(Event("e1", "c1", kT0, v1::EVENT_TYPE_ADD_TO_CART), "sku", qty, price);
  };
  EXPECT_EQ(Check(item(static_cast<int>(limits.max_quantity) + 1, 1)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(item(1, limits.max_price_minor + 1)), RejectReason::kInvalidItem);
  EXPECT_EQ(Check(item(static_cast<int>(limits.max_quantity), limits.max_price_minor)),
            RejectReason::kNone);
}

TEST(EventValidatorTest, DetailNamesTheField) {
  auto e = Valid();
  e.clear_customer_id();
  EXPECT_NE(EventValidator({}).Validate(e, kNow).detail.find("customer_id"), std::string::npos);
}

}  // namespace
}  // namespace touchstream
