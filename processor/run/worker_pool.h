// Runs a fixed set of independent jobs on a few threads and waits for all of them: for work that
// a caller would otherwise do one job after another (restoring the partitions of one
// assignment). No queue outlives the call; each worker index names resources only that thread
// uses (its own Kafka reader, say).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace touchstream {

// Calls job(index, worker) once for every index in [0, count), in index order of start, on
// min(workers, count) threads: the calling thread is worker 0, the others are started for the
// call and joined before it returns. `job` must not throw. workers == 0 counts as 1.
inline void RunOnWorkers(size_t count, size_t workers,
                         const std::function<void(size_t index, size_t worker)>& job) {
  std::atomic<size_t> next{0};
  auto work = [&](size_t worker) {
    for (size_t i = next++; i < count; i = next++) job(i, worker);
  };
  std::vector<std::thread> threads;
  const size_t used = std::min(std::max<size_t>(workers, 1), std::max<size_t>(count, 1));
  for (size_t worker = 1; worker < used; ++worker) threads.emplace_back(work, worker);
  work(0);
  for (std::thread& t : threads) t.join();
}

}  // namespace touchstream
