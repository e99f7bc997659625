// Strict typed access to one YAML mapping of the config. Every accessor names the full key
// path in its error, and Finish() rejects keys nobody asked for (typos fail at start-up
// instead of silently using a default).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "processor/config/config_error.h"
#include "processor/core/time.h"

namespace touchstream {

// The longest duration a config accepts (100 years): durations are added to event times.
inline constexpr DurationMs kMaxConfigDurationMs = 36500 * kDayMs;

// Throws ConfigError naming `path`.key for a key `map` holds twice (yaml-cpp keeps both, and a
// lookup finds the first: a second rule of the same name, or a second value, was ignored).
void RejectDuplicateKeys(const YAML::Node& map, const std::string& path);

// Not thread-safe; used during start-up only. The mapping's keys are unique (checked on
// construction).
class YamlReader {
 public:
  // `node` must be a mapping or null (treated as empty); `path` is its dotted key ("" = root).
  YamlReader(YAML::Node node, std::string path);

  std::string Key(const std::string& key) const;
  bool Has(const std::string& key) const;

  std::string String(const std::string& key, const std::string& fallback);
  int64_t Int(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  // A list of integers in [min, max], e.g. [12, 13]; empty if absent. Errors name the element
  // ("topics.touchpoints.schema_ids[1]: ...").
  std::vector<int64_t> IntList(const std::string& key, int64_t min, int64_t max);
  bool Bool(const std::string& key, bool fallback);
  // A duration such as 30s or 7d, at most kMaxConfigDurationMs.
  DurationMs Duration(const std::string& key, DurationMs fallback);
  // One of `allowed`.
  std::string Enum(const std::string& key, const std::string& fallback,
                   const std::set<std::string>& allowed);
  // A nested mapping (empty if absent).
  YamlReader Child(const std::string& key);
  // The raw node (for lists and free-form maps); marks the key as read.
  YAML::Node Raw(const std::string& key);

  // Throws ConfigError naming the first key that no accessor read.
  void Finish() const;

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }

 private:
  YAML::Node Get(const std::string& key);
  // `text` as an integer in [min, max]; errors name `key`.
  int64_t ParseInt(const std::string& key, const std::string& text, int64_t min, int64_t max) const;
  [[noreturn]] void Fail(const std::string& key, const std::string& what) const;

  YAML::Node node_;
  std::string path_;
  std::set<std::string> read_;
};

}  // namespace touchstream
