#include "processor/core/hybrid_clock.h"

#include <algorithm>

#include "processor/core/saturating.h"

namespace touchstream {

void HybridClock::ObserveRecord(TimeMs create_time_ms, TimeMs steady_ms, TimeMs wall_ms) {
  create_time_ms = std::min(create_time_ms, SaturatingAdd(wall_ms, kMaxAheadMs));
  // The latest producer time seen: a record with an older CreateTime (a slow producer, a
  // backlog) says nothing new about now.
  if (anchor_ && create_time_ms <= Since(*anchor_, steady_ms)) return;
  anchor_ = Anchor{create_time_ms, steady_ms};
}

TimeMs HybridClock::Limit(TimeMs wall_ms, TimeMs steady_ms) {
  if (!anchor_) anchor_ = Anchor{wall_ms, steady_ms};
  return std::min(wall_ms, Since(*anchor_, steady_ms));
}

TimeMs HybridClock::Since(const Anchor& anchor, TimeMs steady_ms) {
  // Saturating: a record's CreateTime can be anything up to INT64_MAX (a producer's choice, a
  // forged header), and a wrapped sum would hold every idle clock back for good.
  return SaturatingAdd(anchor.time_ms, steady_ms - anchor.steady_ms);
}

}  // namespace touchstream
