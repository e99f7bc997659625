// Real Kafka brokers turn Nagle's algorithm off on every connection (TCP_NODELAY); librdkafka's
// mock cluster, which the embedded Kafka is, does not. With Nagle on, a response written while
// the previous one waits for the client's delayed ACK is held up to 40 ms: every produce
// acknowledgement through the embedded Kafka took 40-59 ms, and each commit's changelog markers,
// which wait for its records' acknowledgements, one round trip more (benchmarks/RESULTS.md,
// latency). The mock accepts its connections on its own thread and exposes no socket option,
// so while this object lives a thread of its own sets TCP_NODELAY, every 10 ms, on the process's
// TCP sockets whose local port is one of the brokers' (a new connection's first responses may
// still be held once). Clients in the same process (`demo`) keep their own setting.
#pragma once

#include <atomic>
#include <set>
#include <thread>

namespace touchstream {

class NoDelaySockets {
 public:
  // `broker_ports`: the local ports of the brokers' listening sockets.
  explicit NoDelaySockets(std::set<int> broker_ports);
  ~NoDelaySockets();
  NoDelaySockets(const NoDelaySockets&) = delete;
  NoDelaySockets& operator=(const NoDelaySockets&) = delete;

  // One pass over the process's file descriptors; returns how many sockets it changed.
  static int SetOnBrokerSockets(const std::set<int>& broker_ports);

 private:
  const std::set<int> broker_ports_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace touchstream
