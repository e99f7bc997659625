#include "processor/http/customer_view.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "processor/json/json_lines.h"
#include "processor/policy/consent.h"

namespace touchstream {

namespace {

// A JSON string literal. The values here are enum names, rule and trigger ids and zone names,
// all validated on the way in; escaping anyway keeps the view valid JSON whatever is stored.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string ChannelName(int32_t channel) {
  const auto name = v1::Channel_Name(static_cast<v1::Channel>(channel));
  return name.empty() ? std::to_string(channel) : name;
}

std::string DeferralReasonName(v1::state::DeferralReason reason) {
  switch (reason) {
    case v1::state::DEFERRAL_REASON_QUIET_HOURS:
      return "quiet_hours";
    case v1::state::DEFERRAL_REASON_FREQUENCY_CAP:
      return "frequency_cap";
    default:
      return "unspecified";
  }
}

std::string TimeZoneJson(const PolicyState& state, const PolicyConfig& policy) {
  if (state.timezone().empty()) {
    return "{\"name\":" + Quoted(policy.timezone) + ",\"default\":true}";
  }
  return "{\"name\":" + Quoted(state.timezone()) +
         ",\"since\":" + Quoted(FormatTime(state.timezone_ms())) + "}";
}

std::string ConsentJson(v1::Channel channel, const PolicyState& state,
                        const ChannelPolicy& channels) {
  std::string out = "{\"channel\":" + Quoted(ChannelName(channel));
  if (const v1::state::ChannelConsent* consent = FindConsent(state, channel)) {
    out += ",\"consent\":";
    out += consent->opted_in() ? "\"opted_in\"" : "\"opted_out\"";
    out += ",\"time\":" + Quoted(FormatTime(consent->time_ms()));
  } else {
    out += ",\"consent\":\"unset\"";
  }
  out += ",\"permitted\":";
  out += IsPermitted(channel, state, channels) ? "true" : "false";
  return out + "}";
}

std::string ConsentListJson(const PolicyState& state, const ChannelPolicy& channels) {
  std::vector<v1::Channel> listed = channels.messageable;
  for (const auto& consent : state.consent()) {
    const auto channel = static_cast<v1::Channel>(consent.channel());
    if (std::find(listed.begin(), listed.end(), channel) == listed.end()) {
      listed.push_back(channel);
    }
  }
  std::string out = "[";
  for (v1::Channel channel : listed) {
    if (out.size() > 1) out += ",";
    out += ConsentJson(channel, state, channels);
  }
  return out + "]";
}

std::string EngagementListJson(const PolicyState& state) {
  std::string out = "[";
  for (const auto& engagement : state.engagement()) {
    if (out.size() > 1) out += ",";
    out += "{\"channel\":" + Quoted(ChannelName(engagement.channel())) +
           ",\"lastEngagement\":" + Quoted(FormatTime(engagement.last_ms())) + "}";
  }
  return out + "]";
}

std::string DeferredListJson(const PolicyState& state) {
  std::string out = "[";
  for (const auto& deferred : state.deferred()) {
    if (out.size() > 1) out += ",";
    const v1::Trigger& trigger = deferred.trigger();
    out += "{\"triggerId\":" + Quoted(trigger.trigger_id()) +
           ",\"rule\":" + Quoted(trigger.rule_id()) +
           ",\"type\":" + Quoted(v1::TriggerType_Name(trigger.type())) +
           ",\"until\":" + Quoted(FormatTime(deferred.release_ms())) +
           ",\"reason\":" + Quoted(DeferralReasonName(deferred.reason())) + "}";
  }
  return out + "]";
}

}  // namespace

std::string CustomerViewJson(int32_t partition, const v1::state::CustomerState& state,
                             const PolicyConfig& policy) {
  const PolicyState& policy_state = state.policy();
  return "{\"partition\":" + std::to_string(partition) + ",\"state\":" + ToJsonLine(state) +
         ",\"policy\":{\"timezone\":" + TimeZoneJson(policy_state, policy) +
         ",\"consent\":" + ConsentListJson(policy_state, policy.channels) +
         ",\"engagement\":" + EngagementListJson(policy_state) +
         ",\"deferred\":" + DeferredListJson(policy_state) + "}}";
}

CustomerLookup MakeCustomerLookup(StateDb& db, const PolicyConfig& policy) {
  return [&db, policy](const std::string& id) -> StatusOr<std::optional<std::string>> {
    auto found = db.FindCustomer(id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return std::optional<std::string>();
    const auto& [partition, state] = **found;
    return std::optional<std::string>(CustomerViewJson(partition, state, policy));
  };
}

}  // namespace touchstream
