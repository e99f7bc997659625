#include "processor/config/policy_section.h"

#include <algorithm>
#include <limits>

#include "processor/policy/holdout.h"

namespace touchstream {

namespace {

std::string Element(const std::string& key, size_t i) {
  return key + "[" + std::to_string(i) + "]";
}

// A list of distinct channel names (CHANNEL_EMAIL, ...); `fallback` when absent.
std::vector<v1::Channel> ReadChannels(YamlReader& section, const std::string& key,
                                      std::vector<v1::Channel> fallback) {
  YAML::Node list = section.Raw(key);
  if (!list || list.IsNull()) return fallback;
  const std::string path = section.Key(key);
  if (!list.IsSequence()) throw ConfigError(path + ": expected a list of channels");
  std::vector<v1::Channel> channels;
  for (size_t i = 0; i < list.size(); ++i) {
    v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
    if (!list[i].IsScalar() || !v1::Channel_Parse(list[i].Scalar(), &channel) ||
        channel == v1::CHANNEL_UNSPECIFIED) {
      throw ConfigError(Element(path, i) + ": '" + (list[i].IsScalar() ? list[i].Scalar() : "") +
                        "' is not a channel (CHANNEL_EMAIL, CHANNEL_SMS, CHANNEL_PUSH, ...)");
    }
    if (std::find(channels.begin(), channels.end(), channel) != channels.end()) {
      throw ConfigError(Element(path, i) + ": " + list[i].Scalar() + " is listed twice");
    }
    channels.push_back(channel);
  }
  return channels;
}

ChannelPolicy ReadChannelSection(YamlReader& root) {
  YamlReader section = root.Child("channels");
  ChannelPolicy channels;
  channels.messageable = ReadChannels(section, "messageable", channels.messageable);
  channels.opt_in_required = ReadChannels(section, "opt_in_required", channels.opt_in_required);
  channels.preference = ReadChannels(section, "preference", channels.preference);
  section.Finish();
  if (channels.messageable.empty()) {
    throw ConfigError("channels.messageable: must list at least one channel");
  }
  for (v1::Channel channel : channels.messageable) {
    const auto& preference = channels.preference;
    if (std::find(preference.begin(), preference.end(), channel) == preference.end()) {
      throw ConfigError("channels.preference: must list every channel in channels.messageable; " +
                        v1::Channel_Name(channel) + " is missing");
    }
  }
  return channels;
}

// "HH:MM", 00:00 to 23:59, as minutes of the day.
int ReadClock(YamlReader& section, const std::string& key) {
  if (!section.Has(key)) throw ConfigError(section.Key(key) + ": required (\"HH:MM\")");
  const std::string text = section.String(key, "");
  const bool shape = text.size() == 5 && text[2] == ':' &&
                     std::all_of(text.begin(), text.end(),
                                 [](char c) { return c == ':' || (c >= '0' && c <= '9'); });
  const int hours = shape ? (text[0] - '0') * 10 + (text[1] - '0') : -1;
  const int minutes = shape ? (text[3] - '0') * 10 + (text[4] - '0') : -1;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
    throw ConfigError(section.Key(key) + ": '" + text +
                      "' is not a local time of day \"HH:MM\" (00:00 to 23:59)");
  }
  return hours * 60 + minutes;
}

QuietHours ReadQuietHours(YamlReader& policies) {
  QuietHours quiet;
  const bool present = policies.Has("quiet_hours") && !policies.node()["quiet_hours"].IsNull();
  YamlReader section = policies.Child("quiet_hours");
  if (!present) return quiet;
  quiet.enabled = true;
  quiet.start_minute = ReadClock(section, "start");
  quiet.end_minute = ReadClock(section, "end");
  section.Finish();
  if (quiet.start_minute == quiet.end_minute) {
    throw ConfigError(section.Key("end") +
                      ": must differ from start (quiet hours would be "
                      "empty or the whole day)");
  }
  return quiet;
}

std::vector<FrequencyCap> ReadCaps(YamlReader& policies, const std::vector<RuleSpec>& rules) {
  YAML::Node list = policies.Raw("caps");
  std::vector<FrequencyCap> caps;
  if (!list || list.IsNull()) return caps;
  const std::string path = policies.Key("caps");
  if (!list.IsSequence()) {
    throw ConfigError(path + ": expected a list of caps, e.g. [{max: 2, per: 24h}]");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    YamlReader entry(list[i], Element(path, i));
    FrequencyCap cap;
    if (!entry.Has("max")) throw ConfigError(entry.Key("max") + ": required");
    cap.max = entry.Int("max", 0, 1, 1'000'000);
    cap.per = entry.Duration("per", 0);
    if (cap.per <= 0) throw ConfigError(entry.Key("per") + ": required, greater than 0");
    YAML::Node names = entry.Raw("rules");
    if (names && !names.IsNull()) {
      if (!names.IsSequence()) {
        throw ConfigError(entry.Key("rules") + ": expected a list of rule ids");
      }
      for (size_t r = 0; r < names.size(); ++r) {
        const std::string name = names[r].IsScalar() ? names[r].Scalar() : "";
        const bool configured = std::any_of(rules.begin(), rules.end(),
                                            [&](const RuleSpec& spec) { return spec.id == name; });
        if (!configured) {
          throw ConfigError(Element(entry.Key("rules"), r) + ": '" + name +
                            "' is not a configured rule id");
        }
        cap.rules.push_back(name);
      }
    }
    entry.Finish();
    caps.push_back(std::move(cap));
  }
  return caps;
}

}  // namespace

void ReadPolicySections(YamlReader& root, const std::vector<RuleSpec>& rules,
                        const TimeZoneCatalog& zones, PolicyConfig& policy) {
  policy.channels = ReadChannelSection(root);
  YamlReader policies = root.Child("policies");
  policy.quiet_hours = ReadQuietHours(policies);
  policy.timezone = policies.String("timezone", policy.timezone);
  if (!zones.Knows(policy.timezone)) {
    throw ConfigError("policies.timezone: unknown time zone '" + policy.timezone +
                      "' (an IANA name such as Europe/Berlin from the system tz database, "
                      "package tzdata)");
  }
  policy.caps = ReadCaps(policies, rules);
  policy.max_trigger_age_ms = policies.Duration("max_trigger_age", policy.max_trigger_age_ms);
  policies.Finish();
}

RulePolicy ReadRulePolicy(YamlReader& rule) {
  RulePolicy policy;
  const std::string percent = rule.String("holdout_percent", "0");
  std::optional<int32_t> basis_points = ParseBasisPoints(percent);
  if (!basis_points) {
    throw ConfigError(rule.Key("holdout_percent") + ": '" + percent +
                      "' is not a percentage from 0 to 100 with at most two decimals");
  }
  policy.holdout_basis_points = *basis_points;
  const std::string quiet = rule.Enum("quiet_hours", "defer", {"defer", "drop", "ignore"});
  policy.quiet_hours = quiet == "drop"     ? QuietHoursAction::kDrop
                       : quiet == "ignore" ? QuietHoursAction::kIgnore
                                           : QuietHoursAction::kDefer;
  policy.on_cap = rule.Enum("on_cap", "drop", {"drop", "defer"}) == "defer" ? CapAction::kDefer
                                                                            : CapAction::kDrop;
  policy.priority = static_cast<int32_t>(rule.Int(
      "priority", 0, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  return policy;
}

}  // namespace touchstream
