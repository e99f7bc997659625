#include "processor/diagnostics/crash_point.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace touchstream {

namespace {

constexpr const char* kPoints[] = {"after_poll",     "batch_built",     "db_write",
                                   "produce_queued", "delivery_report", "outbox_delete",
                                   "revoke"};

struct Armed {
  std::string point;  // empty: disarmed
  long hit_on = 1;
};

Armed Parse() {
  Armed armed;
  const char* spec = std::getenv("TOUCHSTREAM_CRASH_AT");
  if (spec == nullptr || *spec == '\0') return armed;
  std::string text(spec);
  const size_t colon = text.find(':');
  std::string point = text.substr(0, colon);
  long n = 1;
  if (colon != std::string::npos) n = std::strtol(text.c_str() + colon + 1, nullptr, 10);
  bool known = false;
  for (const char* p : kPoints) known = known || point == p;
  if (!known || n < 1) {
    const std::string msg = "TOUCHSTREAM_CRASH_AT=" + text + ": unknown point or count; ignored\n";
    (void)!write(STDERR_FILENO, msg.data(), msg.size());
    return armed;
  }
  armed.point = point;
  armed.hit_on = n;
  return armed;
}

}  // namespace

void CrashPoint(const char* point) {
  static const Armed armed = Parse();
  static std::atomic<long> hits{0};
  if (armed.point.empty() || armed.point != point) return;
  if (hits.fetch_add(1) + 1 < armed.hit_on) return;
  const std::string msg = std::string("crash point ") + point + " reached (TOUCHSTREAM_CRASH_AT)\n";
  (void)!write(STDERR_FILENO, msg.data(), msg.size());
  std::abort();
}

}  // namespace touchstream
