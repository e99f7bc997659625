#include "processor/embedded/no_delay_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>

namespace touchstream {

int NoDelaySockets::SetOnBrokerSockets(const std::set<int>& broker_ports) {
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return 0;
  int changed = 0;
  while (const dirent* entry = readdir(fds)) {
    char* end = nullptr;
    const long parsed = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || parsed == dirfd(fds)) continue;
    const int fd = static_cast<int>(parsed);
    // Fails on anything but a TCP socket (not a socket, a UDP or Unix socket): left alone.
    int on = 0;
    socklen_t size = sizeof(on);
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &size) != 0 || on) continue;
    sockaddr_storage local{};
    socklen_t local_size = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    int port = -1;
    if (local.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
    }
    if (broker_ports.count(port) == 0) continue;  // a client's socket, or another server's
    on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0) ++changed;
  }
  closedir(fds);
  return changed;
}

NoDelaySockets::NoDelaySockets(std::set<int> broker_ports)
    : broker_ports_(std::move(broker_ports)) {
  // The thread takes no stop signal: the process's handlers run on the threads that expect them.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      SetOnBrokerSockets(broker_ports_);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

NoDelaySockets::~NoDelaySockets() {
  stop_.store(true);
  thread_.join();
}

}  // namespace touchstream
