// Money and counts that cannot wrap: sums and products of event values saturate at the int64
// limits instead of overflowing (undefined behaviour, and a negative lifetime value). Event
// values are bounded by validation (ValidationLimits), so saturation is reached only by
// absurd accumulations; it is deterministic, so `backtest` and `run` agree.
#pragma once

#include <cstdint>
#include <limits>

namespace touchstream {

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

inline int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) {
    return (a < 0) == (b < 0) ? std::numeric_limits<int64_t>::max()
                              : std::numeric_limits<int64_t>::min();
  }
  return out;
}

// For int32 counts (cart line quantities).
inline int32_t SaturatingAdd32(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + b;
  if (sum > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
  if (sum < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(sum);
}

}  // namespace touchstream
