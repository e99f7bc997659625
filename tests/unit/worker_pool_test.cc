#include "processor/run/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace touchstream {
namespace {

TEST(WorkerPoolTest, RunsEveryJobOnceOnAtMostTheWorkersGiven) {
  std::vector<std::atomic<int>> runs(100);
  std::mutex mu;
  std::set<size_t> workers;
  std::set<std::thread::id> threads;
  RunOnWorkers(runs.size(), 3, [&](size_t i, size_t worker) {
    ++runs[i];
    std::lock_guard<std::mutex> lock(mu);
    workers.insert(worker);
    threads.insert(std::this_thread::get_id());
  });
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i], 1) << i;
  EXPECT_LE(workers.size(), 3u);
  EXPECT_EQ(workers.size(), threads.size());  // a worker index is one thread's
  for (size_t worker : workers) EXPECT_LT(worker, 3u);
}

TEST(WorkerPoolTest, JobsOverlapWhenThereAreWorkers) {
  // Each job waits (up to a minute: a bound for failure, not a timing) until both have started,
  // which one thread running them one after the other never sees.
  std::atomic<int> started{0};
  std::atomic<int> saw_both{0};
  RunOnWorkers(2, 2, [&](size_t, size_t) {
    ++started;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (started.load() < 2 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    if (started.load() == 2) ++saw_both;
  });
  EXPECT_EQ(saw_both.load(), 2);
}

TEST(WorkerPoolTest, OneJobOrOneWorkerRunsOnTheCallingThread) {
  const std::thread::id caller = std::this_thread::get_id();
  RunOnWorkers(1, 4, [&](size_t, size_t worker) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(worker, 0u);
  });
  int ran = 0;
  RunOnWorkers(5, 0, [&](size_t, size_t worker) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(worker, 0u);
    ++ran;
  });
  EXPECT_EQ(ran, 5);
  RunOnWorkers(0, 2, [&](size_t, size_t) { ADD_FAILURE() << "no job to run"; });
}

}  // namespace
}  // namespace touchstream
