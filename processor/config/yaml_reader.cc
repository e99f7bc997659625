#include "processor/config/yaml_reader.h"

#include <charconv>

namespace touchstream {

void RejectDuplicateKeys(const YAML::Node& map, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) continue;  // no key a reader asks for: reported as unknown
    const std::string& key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      throw ConfigError((path.empty() ? key : path + "." + key) +
                        ": defined twice (YAML keeps both; which one counts is not defined)");
    }
  }
}

YamlReader::YamlReader(YAML::Node node, std::string path)
    : node_(std::move(node)), path_(std::move(path)) {
  if (!node_ || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  } else if (!node_.IsMap()) {
    throw ConfigError((path_.empty() ? std::string("config") : path_) +
                      ": expected a mapping of keys to values");
  }
  RejectDuplicateKeys(node_, path_);
}

std::string YamlReader::Key(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool YamlReader::Has(const std::string& key) const { return static_cast<bool>(node_[key]); }

void YamlReader::Fail(const std::string& key, const std::string& what) const {
  throw ConfigError(Key(key) + ": " + what);
}

YAML::Node YamlReader::Get(const std::string& key) {
  read_.insert(key);
  YAML::Node value = node_[key];
  if (value && !value.IsNull() && !value.IsScalar()) Fail(key, "expected a single value");
  return value;
}

std::string YamlReader::String(const std::string& key, const std::string& fallback) {
  YAML::Node v = Get(key);
  if (!v || v.IsNull()) return fallback;
  return v.Scalar();
}

int64_t YamlReader::Int(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  YAML::Node v = Get(key);
  if (!v || v.IsNull()) return fallback;
  return ParseInt(key, v.Scalar(), min, max);
}

std::vector<int64_t> YamlReader::IntList(const std::string& key, int64_t min, int64_t max) {
  YAML::Node list = Raw(key);
  std::vector<int64_t> values;
  if (!list || list.IsNull()) return values;
  if (!list.IsSequence()) Fail(key, "expected a list of integers, e.g. [12, 13]");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string element = key + "[" + std::to_string(i) + "]";
    if (!list[i].IsScalar()) Fail(element, "expected an integer");
    values.push_back(ParseInt(element, list[i].Scalar(), min, max));
  }
  return values;
}

int64_t YamlReader::ParseInt(const std::string& key, const std::string& s, int64_t min,
                             int64_t max) const {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) Fail(key, "'" + s + "' is not an integer");
  if (value < min || value > max) {
    Fail(key, std::to_string(value) + " is out of range [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  }
  return value;
}

bool YamlReader::Bool(const std::string& key, bool fallback) {
  YAML::Node v = Get(key);
  if (!v || v.IsNull()) return fallback;
  const std::string& s = v.Scalar();
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(key, "'" + s + "' is not true or false");
}

DurationMs YamlReader::Duration(const std::string& key, DurationMs fallback) {
  YAML::Node v = Get(key);
  if (!v || v.IsNull()) return fallback;
  std::optional<DurationMs> d = ParseDuration(v.Scalar());
  if (!d) {
    Fail(key, "invalid duration '" + v.Scalar() +
                  "' (expected an integer with a unit: 500ms, 30s, 15m, 1h, 7d)");
  }
  // Any duration is added to event times: bounded so that the sum cannot overflow.
  if (*d > kMaxConfigDurationMs) Fail(key, "must be at most 36500d (100 years)");
  return *d;
}

std::string YamlReader::Enum(const std::string& key, const std::string& fallback,
                             const std::set<std::string>& allowed) {
  std::string value = String(key, fallback);
  if (!allowed.count(value)) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    Fail(key, "'" + value + "' is not one of: " + list);
  }
  return value;
}

YamlReader YamlReader::Child(const std::string& key) {
  read_.insert(key);
  return YamlReader(node_[key], Key(key));
}

YAML::Node YamlReader::Raw(const std::string& key) {
  read_.insert(key);
  return node_[key];
}

void YamlReader::Finish() const {
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (!read_.count(key)) throw ConfigError(Key(key) + ": unknown key");
  }
}

}  // namespace touchstream
