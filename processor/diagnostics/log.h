// Plain line logging to stderr with a UTC timestamp and level. Thread-safe (one write per line).
#pragma once

#include <string>

namespace touchstream {

void LogInfo(const std::string& message);
void LogWarn(const std::string& message);
void LogError(const std::string& message);

}  // namespace touchstream
