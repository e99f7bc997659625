// Decoding and validation of touchpoint events: the gate in front of the pipeline. A record
// that fails here goes to the dead-letter topic with its reason code; it never reaches a rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "processor/core/time.h"
#include "touchpoint.pb.h"

namespace touchstream {

// Why a record was rejected. Stable: the names are dead-letter header values and metric labels.
enum class RejectReason {
  kNone = 0,
  kUndecodable,
  kMissingEventId,
  kMissingCustomerId,
  kMissingEventTime,
  kInvalidChannel,
  kInvalidType,
  kEventTimeTooOld,
  kEventTimeInFuture,
  kFieldTooLarge,
  kInvalidItem,
  kEventTimeOutOfRange,
  kInvalidAmount,
  kBadFraming,              // Confluent framing truncated or malformed
  kUnexpectedMessageIndex,  // Confluent-framed, but the message is not TouchpointEvent
  kUnknownSchemaId,         // Confluent-framed with a schema id not in the configured list
};

// All reasons except kNone, for pre-creating metric series.
inline constexpr RejectReason kAllRejectReasons[] = {
    RejectReason::kUndecodable,         RejectReason::kMissingEventId,
    RejectReason::kMissingCustomerId,   RejectReason::kMissingEventTime,
    RejectReason::kInvalidChannel,      RejectReason::kInvalidType,
    RejectReason::kEventTimeTooOld,     RejectReason::kEventTimeInFuture,
    RejectReason::kFieldTooLarge,       RejectReason::kInvalidItem,
    RejectReason::kEventTimeOutOfRange, RejectReason::kInvalidAmount,
    RejectReason::kBadFraming,          RejectReason::kUnexpectedMessageIndex,
    RejectReason::kUnknownSchemaId,
};

// TouchpointEvent's index among the message declarations of proto/touchpoint.proto, in file
// order from 0 (LineItem 0, ConsentChange 1, TouchpointEvent 2): the message-index path [2] of a
// Confluent-framed record (processor/core/confluent_framing.h) names it. Equal to
// TouchpointEvent::descriptor()->index() (checked by a test); reordering the messages of the
// .proto file changes it, and breaks every Java producer's registered schema too.
inline constexpr int32_t kTouchpointEventMessageIndex = 2;

// snake_case name, e.g. "missing_event_id".
const char* RejectReasonName(RejectReason reason);

struct ValidationLimits {
  // Events before this are rejected (2000-01-01T00:00:00Z).
  TimeMs min_event_time_ms = 946684800000;
  // Events further than this ahead of the record's CreateTime (else the wall clock) are rejected.
  DurationMs max_future_skew_ms = 5 * kMinuteMs;
  // Events further than this ahead of the local wall clock are rejected whatever the record's
  // CreateTime says: a producer that sets CreateTime to the event time makes the check above
  // void, and one event dated a year ahead would move its partition's clock there for good
  // (every timer due at once, erasure memories forgotten). 0 (the default): off, so that a
  // local clock that jumped back dead-letters no live event; the deploy configs set 24h.
  DurationMs max_wall_clock_skew_ms = 0;
  // Upper bound on any one string field (ids, sku, attribute keys and values).
  size_t max_field_bytes = 512;
  size_t max_items = 200;
  size_t max_attributes = 64;
  // Upper bounds on an item's quantity and unit price and on an order's amount; with them no
  // product of event values can overflow (running sums saturate: core/saturating.h).
  int64_t max_quantity = 1'000'000;
  int64_t max_price_minor = 1'000'000'000'000;   // 10^12 minor units
  int64_t max_amount_minor = 1'000'000'000'000;  // per order
  // Confluent-framed records: the schema ids accepted (topics.touchpoints.schema_ids); empty
  // accepts any id. Plain protobuf records carry no schema id and are not affected.
  std::vector<int32_t> schema_ids;
};

struct Verdict {
  RejectReason reason = RejectReason::kNone;
  std::string detail;  // human-readable, names the field
  bool ok() const { return reason == RejectReason::kNone; }
};

// Stateless apart from its limits; safe for concurrent use.
class EventValidator {
 public:
  explicit EventValidator(ValidationLimits limits) : limits_(limits) {}

  // Parses `bytes` into `*event` (reused by the caller to avoid allocations) and validates it
  // against `now_ms` (the record's CreateTime, else the wall clock) and, when given, the local
  // wall clock `wall_ms` (ValidationLimits::max_wall_clock_skew_ms). `bytes` is a plain serialized
  // TouchpointEvent or one in Confluent's framing (a record starting with 0x00,
  // processor/core/confluent_framing.h): then a malformed framing is kBadFraming, a schema id
  // outside limits().schema_ids (when set) kUnknownSchemaId, a message-index path other than
  // [kTouchpointEventMessageIndex] kUnexpectedMessageIndex, and the payload is decoded and
  // validated as a plain record is.
  Verdict DecodeAndValidate(std::string_view bytes, TimeMs now_ms, v1::TouchpointEvent* event,
                            std::optional<TimeMs> wall_ms = std::nullopt) const;

  // Validates an already-decoded event.
  Verdict Validate(const v1::TouchpointEvent& event, TimeMs now_ms,
                   std::optional<TimeMs> wall_ms = std::nullopt) const;

  const ValidationLimits& limits() const { return limits_; }

 private:
  const ValidationLimits limits_;
};

}  // namespace touchstream
