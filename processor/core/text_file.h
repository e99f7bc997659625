// A whole file read into a string: the /proc and cgroup files the metrics and the huge-page
// check parse, the config file, and the integration tests' captured output.
#pragma once

#include <optional>
#include <string>

namespace touchstream {

// The text of the file at `path`; nullopt if it cannot be opened or is a directory.
std::optional<std::string> ReadTextFile(const std::string& path);

// The same, empty if it cannot be opened (for files whose absence reads as no data).
inline std::string ReadTextFileOrEmpty(const std::string& path) {
  return ReadTextFile(path).value_or(std::string());
}

}  // namespace touchstream
