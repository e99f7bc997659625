#include "processor/core/event_validator.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "processor/core/parse_complaints.h"
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

// Confluent framings written byte by byte: magic byte, big-endian schema id, message-index path.
std::string Framed(uint8_t schema_id, const std::string& path, const std::string& payload) {
  return std::string("\x00\x00\x00\x00", 4) + static_cast<char>(schema_id) + path + payload;
}
const std::string kTouchpointEventPath("\x02\x04", 2);  // count 1, index 2 (zigzag)

// "reason: detail" of decoding `bytes`, the decoded event's id appended when it is accepted.
std::string Decode(const std::string& bytes, ValidationLimits limits = {}) {
  v1::TouchpointEvent event;
  Verdict v = EventValidator(std::move(limits)).DecodeAndValidate(bytes, kNow, &event);
  return v.ok() ? "ok " + event.event_id()
                : std::string(RejectReasonName(v.reason)) + ": " + v.detail;
}

TEST(EventValidatorTest, TouchpointEventMessageIndexIsItsIndexInTheProtoFile) {
  EXPECT_EQ(v1::TouchpointEvent::descriptor()->containing_type(), nullptr);
  EXPECT_EQ(kTouchpointEventMessageIndex, v1::TouchpointEvent::descriptor()->index());
}

TEST(EventValidatorTest, AcceptsPlainAndConfluentFramedEvents) {
  const std::string bytes = Valid().SerializeAsString();
  EXPECT_EQ(Decode(bytes), "ok e1");
  EXPECT_EQ(Decode(Framed(12, kTouchpointEventPath, bytes)), "ok e1");
  // The framed payload is validated like a plain record.
  auto no_id = Valid();
  no_id.clear_event_id();
  EXPECT_EQ(Decode(Framed(12, kTouchpointEventPath, no_id.SerializeAsString())),
            "missing_event_id: event_id is empty");
  EXPECT_EQ(Decode(Framed(12, kTouchpointEventPath, "\xff\xff garbage")),
            "undecodable: not a serialized touchstream.v1.TouchpointEvent");
}

TEST(EventValidatorTest, RejectsFramedRecordsOfAnotherMessage) {
  const std::string bytes = Valid().SerializeAsString();
  // [0] in its short form is LineItem, the file's first message; [1] ConsentChange; [2, 0] a
  // message nested in TouchpointEvent.
  EXPECT_EQ(Decode(Framed(12, std::string(1, '\0'), bytes)),
            "unexpected_message_index: message-index path [0] is not "
            "touchstream.v1.TouchpointEvent's [2]");
  EXPECT_EQ(Decode(Framed(12, "\x02\x02", bytes)).substr(0, 24), "unexpected_message_index");
  EXPECT_EQ(Decode(Framed(12, std::string("\x04\x04\x00", 3), bytes)),
            "unexpected_message_index: message-index path [2, 0] is not "
            "touchstream.v1.TouchpointEvent's [2]");
}

TEST(EventValidatorTest, RejectsMalformedFraming) {
  EXPECT_EQ(Decode(std::string(1, '\0')), "bad_framing: Confluent framing: schema id is truncated");
  EXPECT_EQ(Decode(Framed(12, "\x02", "")),
            "bad_framing: Confluent framing: message index is truncated");
  EXPECT_EQ(Decode(Framed(12, "\x02\xff\xff\xff\xff\x7f", "")),
            "bad_framing: Confluent framing: message index overflows 32 bits");
}

TEST(EventValidatorTest, PinnedSchemaIdsRejectOtherFramedIds) {
  ValidationLimits pinned;
  pinned.schema_ids = {12, 13};
  const std::string bytes = Valid().SerializeAsString();
  EXPECT_EQ(Decode(Framed(12, kTouchpointEventPath, bytes), pinned), "ok e1");
  EXPECT_EQ(Decode(Framed(13, kTouchpointEventPath, bytes), pinned), "ok e1");
  EXPECT_EQ(Decode(Framed(14, kTouchpointEventPath, bytes), pinned),
            "unknown_schema_id: schema id 14 is not in topics.touchpoints.schema_ids");
  EXPECT_EQ(Decode(bytes, pinned), "ok e1") << "plain records carry no schema id";
  EXPECT_EQ(Decode(Framed(14, kTouchpointEventPath, bytes)), "ok e1") << "unpinned: any id";
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

// A string field that is not UTF-8 (a legacy producer's Latin-1): protobuf's parser fails and
// names the field only in a line of its own log, printed per record. Captured, the dead letter's
// detail names the field and nothing is printed.
TEST(EventValidatorTest, AStringFieldThatIsNotUtf8IsNamedInTheDetail) {
  CaptureParseComplaints(nullptr);
  v1::TouchpointEvent e = Valid();
  e.set_store_id("ZZZZ");
  std::string bytes = e.SerializeAsString();
  bytes.replace(bytes.find("ZZZZ"), 4, "M\xfcnc");  // Latin-1 u-umlaut
  ::testing::internal::CaptureStderr();
  v1::TouchpointEvent decoded;
  const Verdict verdict = EventValidator({}).DecodeAndValidate(bytes, kNow, &decoded);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(verdict.reason, RejectReason::kUndecodable);
  EXPECT_NE(verdict.detail.find("store_id is not valid UTF-8"), std::string::npos)
      << verdict.detail;
  EXPECT_EQ(printed, "");
  // The next failure for another reason does not inherit it.
  const Verdict garbage = EventValidator({}).DecodeAndValidate("\xff\xff", kNow, &decoded);
  EXPECT_EQ(garbage.detail, "not a serialized touchstream.v1.TouchpointEvent");
}

// A CreateTime at the int64 limit (a producer's choice, a forged forwarding header) bounds
// nothing: the bound saturates instead of wrapping below every event time.
TEST(EventValidatorTest, ACreateTimeAtTheInt64LimitDoesNotRejectAValidEvent) {
  EXPECT_EQ(EventValidator({}).Validate(Valid(), std::numeric_limits<int64_t>::max()).reason,
            RejectReason::kNone);
}

// A producer that sets CreateTime to the event time passes the CreateTime check with any date;
// validation.max_wall_clock_skew bounds it by the local clock as well.
TEST(EventValidatorTest,
     MaxWallClockSkewRejectsAnEventFarAheadOfTheLocalClockWhateverItsCreateTime) {
  auto e = Valid();
  const TimeMs next_year = kNow + 365 * kDayMs;
  *e.mutable_event_time() = ToTimestamp(next_year);
  const std::string bytes = e.SerializeAsString();
  v1::TouchpointEvent scratch;
  ValidationLimits limits;
  EXPECT_TRUE(EventValidator(limits).DecodeAndValidate(bytes, next_year, &scratch, kNow).ok())
      << "off by default";
  limits.max_wall_clock_skew_ms = kDayMs;
  const Verdict v = EventValidator(limits).DecodeAndValidate(bytes, next_year, &scratch, kNow);
  EXPECT_EQ(v.reason, RejectReason::kEventTimeInFuture);
  EXPECT_NE(v.detail.find("ahead of the local wall clock"), std::string::npos) << v.detail;
  *e.mutable_event_time() = ToTimestamp(kNow + kDayMs);  // at the bound
  EXPECT_TRUE(EventValidator(limits)
                  .DecodeAndValidate(e.SerializeAsString(), kNow + kDayMs, &scratch, kNow)
                  .ok());
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
