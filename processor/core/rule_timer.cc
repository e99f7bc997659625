#include "processor/core/rule_timer.h"

namespace touchstream {

TimeMs IndexedAt(const v1::state::RuleState& state, TimeMs watermark_ms) {
  const TimeMs lagging = state.indexed_ms();
  return lagging != 0 && lagging > watermark_ms ? lagging : state.due_ms();
}

TimeMs LiveEntry(const v1::state::RuleState& state, TimeMs watermark_ms) {
  const TimeMs at = IndexedAt(state, watermark_ms);
  return at > watermark_ms ? at : 0;
}

PoppedTimer ClassifyPopped(const v1::state::RuleState& state, TimeMs due_ms) {
  if (due_ms == state.due_ms()) return PoppedTimer::kDue;
  if (due_ms == state.indexed_ms() && due_ms < state.due_ms()) return PoppedTimer::kRearm;
  return PoppedTimer::kStale;
}

TimerMove FollowDue(v1::state::RuleState& state, TimeMs indexed_before) {
  const TimeMs due = state.due_ms();
  TimerMove move;
  if (due != 0 && indexed_before != 0 && indexed_before <= due) {
    // The entry stays; it lags if the due time moved later.
    state.set_indexed_ms(indexed_before == due ? 0 : indexed_before);
    return move;
  }
  move.cancel_ms = indexed_before;
  move.schedule_ms = due;
  state.set_indexed_ms(0);
  return move;
}

}  // namespace touchstream
