#include "processor/policy/decide.h"

#include "processor/policy/channel_choice.h"
#include "processor/policy/frequency_cap.h"
#include "processor/policy/holdout.h"
#include "processor/policy/quiet_hours.h"

namespace touchstream {

Decision Decide(const v1::Trigger& trigger, const PolicyState& state, const PolicyConfig& config,
                const TimeZoneCatalog& zones, const DecisionPoint& point) {
  const RulePolicy& rule = config.ForRule(trigger.rule_id());
  const TimeMs t = point.decision_ms;
  const bool stale = config.max_trigger_age_ms > 0 && point.wall_clock_ms &&
                     *point.wall_clock_ms - t > config.max_trigger_age_ms;
  if (point.release) {
    if (!point.still_holds) return Decision::Suppress(PolicyReason::kSuperseded);
    if (stale) return Decision::Suppress(PolicyReason::kStale);
  } else {
    if (stale) return Decision::Suppress(PolicyReason::kStale);
    if (IsHeldOut(trigger.rule_id(), trigger.customer_id(), rule.holdout_basis_points)) {
      return Decision::Holdout();
    }
  }

  const std::optional<v1::Channel> channel = ChooseChannel(state, config.channels);
  if (!channel) return Decision::Suppress(PolicyReason::kNoConsent);

  if (rule.quiet_hours != QuietHoursAction::kIgnore && config.quiet_hours.enabled) {
    const cctz::time_zone zone = CustomerZone(state.timezone(), config.timezone, zones);
    if (std::optional<TimeMs> end = QuietHoursRelease(t, config.quiet_hours, zone)) {
      if (rule.quiet_hours == QuietHoursAction::kDrop) {
        return Decision::Suppress(PolicyReason::kQuietHours);
      }
      return Decision::Defer(*end, PolicyReason::kQuietHours);
    }
  }

  const CapCheck cap = CheckCaps(trigger.rule_id(), t, state, config.caps);
  if (!cap.allowed) {
    if (rule.on_cap == CapAction::kDrop) return Decision::Suppress(PolicyReason::kFrequencyCap);
    return Decision::Defer(cap.retry_ms, PolicyReason::kFrequencyCap);
  }
  return Decision::Send(*channel);
}

}  // namespace touchstream
