#include "processor/diagnostics/log.h"

#include <unistd.h>

#include "processor/core/clock.h"

namespace touchstream {

namespace {

void Write(const char* level, const std::string& message) {
  std::string line = FormatTime(SystemClock().NowMs()) + " " + level + " " + message + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

void LogInfo(const std::string& message) { Write("INFO ", message); }
void LogWarn(const std::string& message) { Write("WARN ", message); }
void LogError(const std::string& message) { Write("ERROR", message); }

}  // namespace touchstream
