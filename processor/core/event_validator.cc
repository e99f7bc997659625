#include "processor/core/event_validator.h"

#include <algorithm>

#include "processor/core/confluent_framing.h"
#include "processor/core/parse_complaints.h"
#include "processor/core/saturating.h"

namespace touchstream {

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone:
      return "none";
    case RejectReason::kUndecodable:
      return "undecodable";
    case RejectReason::kMissingEventId:
      return "missing_event_id";
    case RejectReason::kMissingCustomerId:
      return "missing_customer_id";
    case RejectReason::kMissingEventTime:
      return "missing_event_time";
    case RejectReason::kInvalidChannel:
      return "invalid_channel";
    case RejectReason::kInvalidType:
      return "invalid_type";
    case RejectReason::kEventTimeTooOld:
      return "event_time_too_old";
    case RejectReason::kEventTimeInFuture:
      return "event_time_in_future";
    case RejectReason::kFieldTooLarge:
      return "field_too_large";
    case RejectReason::kInvalidItem:
      return "invalid_item";
    case RejectReason::kEventTimeOutOfRange:
      return "event_time_out_of_range";
    case RejectReason::kInvalidAmount:
      return "invalid_amount";
    case RejectReason::kBadFraming:
      return "bad_framing";
    case RejectReason::kUnexpectedMessageIndex:
      return "unexpected_message_index";
    case RejectReason::kUnknownSchemaId:
      return "unknown_schema_id";
  }
  return "unknown";
}

namespace {

Verdict Reject(RejectReason reason, std::string detail) {
  return Verdict{reason, std::move(detail)};
}

}  // namespace

Verdict EventValidator::DecodeAndValidate(std::string_view bytes, TimeMs now_ms,
                                          v1::TouchpointEvent* event,
                                          std::optional<TimeMs> wall_ms) const {
  event->Clear();
  std::string_view payload = bytes;
  if (IsConfluentFramed(bytes)) {
    StatusOr<ConfluentFrame> frame = ParseConfluentFrame(bytes);
    if (!frame.ok()) {
      return Reject(RejectReason::kBadFraming, "Confluent framing: " + frame.status().message());
    }
    // An id outside the list names a schema nobody vouched for: its message indexes mean nothing.
    const std::vector<int32_t>& ids = limits_.schema_ids;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), frame->schema_id) == ids.end()) {
      return Reject(RejectReason::kUnknownSchemaId, "schema id " +
                                                        std::to_string(frame->schema_id) +
                                                        " is not in topics.touchpoints.schema_ids");
    }
    if (!frame->message_indexes.IsTopLevel(kTouchpointEventMessageIndex)) {
      return Reject(RejectReason::kUnexpectedMessageIndex,
                    "message-index path " + frame->message_indexes.ToString() +
                        " is not touchstream.v1.TouchpointEvent's [" +
                        std::to_string(kTouchpointEventMessageIndex) + "]");
    }
    payload = frame->payload;
  }
  const ParseComplaintScope scope;
  if (!event->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    const std::string& why = scope.complaint();
    return Reject(RejectReason::kUndecodable, "not a serialized touchstream.v1.TouchpointEvent" +
                                                  (why.empty() ? "" : ": " + why));
  }
  return Validate(*event, now_ms, wall_ms);
}

Verdict EventValidator::Validate(const v1::TouchpointEvent& e, TimeMs now_ms,
                                 std::optional<TimeMs> wall_ms) const {
  if (e.event_id().empty()) return Reject(RejectReason::kMissingEventId, "event_id is empty");
  if (e.customer_id().empty()) {
    return Reject(RejectReason::kMissingCustomerId, "customer_id is empty");
  }
  if (!e.has_event_time()) return Reject(RejectReason::kMissingEventTime, "event_time unset");
  if (e.channel() == v1::CHANNEL_UNSPECIFIED || !v1::Channel_IsValid(e.channel())) {
    return Reject(RejectReason::kInvalidChannel,
                  "channel " + std::to_string(e.channel()) + " is unspecified or unknown");
  }
  if (e.type() == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(e.type())) {
    return Reject(RejectReason::kInvalidType,
                  "type " + std::to_string(e.type()) + " is unspecified or unknown");
  }
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, as google.protobuf.Timestamp defines it;
  // checked first: outside it the conversion to milliseconds itself overflows.
  constexpr int64_t kMinSeconds = -62135596800;
  constexpr int64_t kMaxSeconds = 253402300799;
  if (e.event_time().seconds() < kMinSeconds || e.event_time().seconds() > kMaxSeconds) {
    return Reject(RejectReason::kEventTimeOutOfRange, "event_time seconds " +
                                                          std::to_string(e.event_time().seconds()) +
                                                          " is outside 0001-01-01..9999-12-31");
  }
  const TimeMs t = ToTimeMs(e.event_time());
  if (e.event_time().nanos() < 0 || e.event_time().nanos() > 999'999'999 ||
      t < limits_.min_event_time_ms) {
    return Reject(RejectReason::kEventTimeTooOld, "event_time " + FormatTime(t) + " is before " +
                                                      FormatTime(limits_.min_event_time_ms));
  }
  if (t > SaturatingAdd(now_ms, limits_.max_future_skew_ms)) {
    return Reject(RejectReason::kEventTimeInFuture, "event_time " + FormatTime(t) +
                                                        " is more than " +
                                                        FormatDuration(limits_.max_future_skew_ms) +
                                                        " ahead of " + FormatTime(now_ms));
  }
  if (wall_ms && limits_.max_wall_clock_skew_ms > 0 &&
      t > *wall_ms + limits_.max_wall_clock_skew_ms) {
    return Reject(RejectReason::kEventTimeInFuture,
                  "event_time " + FormatTime(t) + " is more than " +
                      FormatDuration(limits_.max_wall_clock_skew_ms) +
                      " ahead of the local wall clock " + FormatTime(*wall_ms));
  }

  const size_t max = limits_.max_field_bytes;
  auto too_large = [max](const std::string& s) { return s.size() > max; };
  struct Named {
    const char* name;
    const std::string& value;
  };
  for (const Named& f :
       {Named{"event_id", e.event_id()}, Named{"customer_id", e.customer_id()},
        Named{"currency", e.currency()}, Named{"campaign_id", e.campaign_id()},
        Named{"store_id", e.store_id()}, Named{"timezone", e.timezone()},
        Named{"anonymous_id", e.anonymous_id()}, Named{"loyalty_id", e.loyalty_id()}}) {
    if (too_large(f.value)) {
      return Reject(RejectReason::kFieldTooLarge, std::string(f.name) + " has " +
                                                      std::to_string(f.value.size()) +
                                                      " bytes, limit " + std::to_string(max));
    }
  }
  if (static_cast<size_t>(e.items_size()) > limits_.max_items) {
    return Reject(RejectReason::kFieldTooLarge, "items has " + std::to_string(e.items_size()) +
                                                    " entries, limit " +
                                                    std::to_string(limits_.max_items));
  }
  if (e.amount_minor() < 0 || e.amount_minor() > limits_.max_amount_minor) {
    return Reject(RejectReason::kInvalidAmount, "amount_minor " + std::to_string(e.amount_minor()) +
                                                    " is outside 0.." +
                                                    std::to_string(limits_.max_amount_minor));
  }
  for (int i = 0; i < e.items_size(); ++i) {
    const v1::LineItem& item = e.items(i);
    if (too_large(item.sku())) {
      return Reject(RejectReason::kFieldTooLarge,
                    "items[" + std::to_string(i) + "].sku is too large");
    }
    // A product view shows a product: it may omit the quantity (0), never make it negative.
    const bool view = e.type() == v1::EVENT_TYPE_PRODUCT_VIEW;
    if (item.sku().empty() || item.quantity() < (view ? 0 : 1) || item.unit_price_minor() < 0) {
      return Reject(RejectReason::kInvalidItem,
                    "items[" + std::to_string(i) + "] needs a sku, quantity " +
                        (view ? ">= 0" : "> 0") + " and unit_price_minor >= 0");
    }
    if (item.quantity() > limits_.max_quantity ||
        item.unit_price_minor() > limits_.max_price_minor) {
      return Reject(RejectReason::kInvalidItem,
                    "items[" + std::to_string(i) + "] quantity " + std::to_string(item.quantity()) +
                        " or unit_price_minor " + std::to_string(item.unit_price_minor()) +
                        " is above the limit (" + std::to_string(limits_.max_quantity) + ", " +
                        std::to_string(limits_.max_price_minor) + ")");
    }
  }
  if (static_cast<size_t>(e.attributes_size()) > limits_.max_attributes) {
    return Reject(RejectReason::kFieldTooLarge,
                  "attributes has " + std::to_string(e.attributes_size()) + " entries, limit " +
                      std::to_string(limits_.max_attributes));
  }
  for (const auto& [key, value] : e.attributes()) {
    if (too_large(key) || too_large(value)) {
      return Reject(RejectReason::kFieldTooLarge,
                    "attribute '" + key.substr(0, 64) + "' key or value is too large");
    }
  }
  return Verdict{};
}

}  // namespace touchstream
