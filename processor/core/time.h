// Time in touchstream: epoch milliseconds (TimeMs) and durations in milliseconds (DurationMs).
// Conversions to and from protobuf Timestamps and human-readable durations ("90s", "1h", "30d").
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchstream {

using TimeMs = int64_t;
using DurationMs = int64_t;

constexpr DurationMs kSecondMs = 1000;
constexpr DurationMs kMinuteMs = 60 * kSecondMs;
constexpr DurationMs kHourMs = 60 * kMinuteMs;
constexpr DurationMs kDayMs = 24 * kHourMs;

inline TimeMs ToTimeMs(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1'000'000;
}

inline google::protobuf::Timestamp ToTimestamp(TimeMs ms) {
  google::protobuf::Timestamp ts;
  int64_t seconds = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem * 1'000'000));
  return ts;
}

// Parses "<integer><unit>" with unit one of ms, s, m, h, d (e.g. "500ms", "15m", "30d"), or a
// bare "0". Returns nullopt on anything else, including negative values and overflow.
std::optional<DurationMs> ParseDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it, using the largest exact unit.
std::string FormatDuration(DurationMs d);

// RFC 3339 in UTC with millisecond precision, e.g. "2026-11-22T10:00:00.000Z".
std::string FormatTime(TimeMs t);

// Parses RFC 3339 (as protobuf's JSON mapping does). nullopt when malformed.
std::optional<TimeMs> ParseTime(std::string_view text);

}  // namespace touchstream
