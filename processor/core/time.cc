#include "processor/core/time.h"

#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <limits>

namespace touchstream {

std::optional<DurationMs> ParseDuration(std::string_view text) {
  if (text == "0") return 0;
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc() || ptr != text.data() + digits) return std::nullopt;
  std::string_view unit = text.substr(digits);
  int64_t scale;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = kSecondMs;
  } else if (unit == "m") {
    scale = kMinuteMs;
  } else if (unit == "h") {
    scale = kHourMs;
  } else if (unit == "d") {
    scale = kDayMs;
  } else {
    return std::nullopt;
  }
  if (value > std::numeric_limits<int64_t>::max() / scale) return std::nullopt;
  return value * scale;
}

std::string FormatDuration(DurationMs d) {
  if (d == 0) return "0";
  if (d % kDayMs == 0) return std::to_string(d / kDayMs) + "d";
  if (d % kHourMs == 0) return std::to_string(d / kHourMs) + "h";
  if (d % kMinuteMs == 0) return std::to_string(d / kMinuteMs) + "m";
  if (d % kSecondMs == 0) return std::to_string(d / kSecondMs) + "s";
  return std::to_string(d) + "ms";
}

std::string FormatTime(TimeMs t) {
  return google::protobuf::util::TimeUtil::ToString(ToTimestamp(t));
}

std::optional<TimeMs> ParseTime(std::string_view text) {
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(std::string(text), &ts)) {
    return std::nullopt;
  }
  return ToTimeMs(ts);
}

}  // namespace touchstream
