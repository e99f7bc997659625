#include "processor/diagnostics/fault_points.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace touchstream {

namespace {

constexpr const char* kCrashPoints[] = {"after_poll",     "batch_built",     "db_write",
                                        "produce_queued", "delivery_report", "outbox_delete",
                                        "revoke"};
constexpr const char* kFailPoints[] = {"state_read"};

struct Armed {
  std::string point;  // empty: disarmed
  long hit_on = 1;
};

template <size_t N>
Armed Parse(const char* variable, const char* const (&points)[N]) {
  Armed armed;
  const char* spec = std::getenv(variable);
  if (spec == nullptr || *spec == '\0') return armed;
  std::string text(spec);
  const size_t colon = text.find(':');
  std::string point = text.substr(0, colon);
  long n = 1;
  if (colon != std::string::npos) n = std::strtol(text.c_str() + colon + 1, nullptr, 10);
  bool known = false;
  for (const char* p : points) known = known || point == p;
  if (!known || n < 1) {
    const std::string msg =
        std::string(variable) + "=" + text + ": unknown point or count; ignored\n";
    (void)!write(STDERR_FILENO, msg.data(), msg.size());
    return armed;
  }
  armed.point = point;
  armed.hit_on = n;
  return armed;
}

}  // namespace

void CrashPoint(const char* point) {
  static const Armed armed = Parse("TOUCHSTREAM_CRASH_AT", kCrashPoints);
  static std::atomic<long> hits{0};
  if (armed.point.empty() || armed.point != point) return;
  if (hits.fetch_add(1) + 1 < armed.hit_on) return;
  const std::string msg = std::string("crash point ") + point + " reached (TOUCHSTREAM_CRASH_AT)\n";
  (void)!write(STDERR_FILENO, msg.data(), msg.size());
  std::abort();
}

bool FailPoint(const char* point) {
  static const Armed armed = Parse("TOUCHSTREAM_FAIL_AT", kFailPoints);
  static std::atomic<long> hits{0};
  if (armed.point.empty() || armed.point != point) return false;
  if (hits.fetch_add(1) + 1 != armed.hit_on) return false;
  const std::string msg =
      std::string("failure point ") + point + " reached (TOUCHSTREAM_FAIL_AT)\n";
  (void)!write(STDERR_FILENO, msg.data(), msg.size());
  return true;
}

}  // namespace touchstream
