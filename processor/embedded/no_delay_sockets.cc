#include "processor/embedded/no_delay_sockets.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>

namespace touchstream {

int NoDelaySockets::SetOnAllTcpSockets() {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return 0;
  int changed = 0;
  while (const dirent* entry = readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(fds)) continue;
    // Fails on anything but a TCP socket (not a socket, a UDP or Unix socket): left alone.
    int on = 0;
    socklen_t size = sizeof(on);
    if (getsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &on, &size) != 0 || on) {
      continue;
    }
    on = 1;
    if (setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0) {
      ++changed;
    }
  }
  closedir(fds);
  return changed;
}

NoDelaySockets::NoDelaySockets()
    : thread_([this] {
        while (!stop_.load()) {
          SetOnAllTcpSockets();
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }) {}

NoDelaySockets::~NoDelaySockets() {
  stop_.store(true);
  thread_.join();
}

}  // namespace touchstream
