#include "processor/core/hybrid_clock.h"

#include <algorithm>

namespace touchstream {

void HybridClock::ObserveRecord(TimeMs create_time_ms, TimeMs steady_ms) {
  // The latest producer time seen: a record with an older CreateTime (a slow producer, a
  // backlog) says nothing new about now.
  if (anchor_ && create_time_ms <= anchor_->time_ms + (steady_ms - anchor_->steady_ms)) return;
  anchor_ = Anchor{create_time_ms, steady_ms};
}

TimeMs HybridClock::Limit(TimeMs wall_ms, TimeMs steady_ms) {
  if (!anchor_) anchor_ = Anchor{wall_ms, steady_ms};
  return std::min(wall_ms, anchor_->time_ms + (steady_ms - anchor_->steady_ms));
}

}  // namespace touchstream
