// Integration-test harness: runs `touchstream` subcommands as separate processes and talks to
// the embedded Kafka with real librdkafka clients. Every wait is bounded; every process is
// stopped (SIGTERM, then SIGKILL) and every temp directory removed by the destructors.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace touchstream::testing {

// Path of the touchstream binary: $TOUCHSTREAM_BIN, else the one CMake built.
std::string TouchstreamBin();
// Path of the source tree.
std::string SourceDir();

// Waits up to `timeout` until `read()` contains `needle`.
bool WaitFor(const std::function<std::string()>& read, const std::string& needle,
             std::chrono::milliseconds timeout);

// A temp directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Writes `name` in the directory whole (a new file renamed over the old: a child reading it
  // sees one or the other, never a truncated one); returns its path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// What a child process reads on stdin.
enum class ChildStdin {
  kDevNull,  // EOF at once
  kPipe,     // a channel the parent writes with ChildProcess::WriteStdin
};

// A child process with stdout captured to a file (or read line by line for the first line).
// Owned by one thread.
class ChildProcess {
 public:
  // Starts `args` (args[0] is the program). stdout/stderr go to `log_prefix`.out / .err.
  ChildProcess(const std::vector<std::string>& args, const std::string& log_prefix,
               ChildStdin stdin_mode = ChildStdin::kDevNull);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Writes all of `text` to the child's stdin (ChildStdin::kPipe). False when there is no
  // pipe or the child no longer reads it (exited); never raises SIGPIPE.
  bool WriteStdin(const std::string& text);

  // Reads the first line of stdout, waiting up to `timeout`. Empty on timeout/exit.
  std::string FirstStdoutLine(std::chrono::milliseconds timeout);
  // SIGTERM and wait up to `timeout`; SIGKILL after. Returns the exit code (-signal if killed).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // SIGKILL (a crash) and reap.
  void Kill();
  // Sends `sig` (e.g. SIGSTOP, SIGCONT) and returns at once.
  void Signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code, or nullopt-like -1000 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  std::string Stderr() const;
  std::string Stdout() const;
  bool running() const { return pid_ > 0; }

 private:
  int pid_ = -1;
  int exit_code_ = -1000;
  int stdin_fd_ = -1;  // the parent's end of the stdin channel, or -1
  std::string out_path_;
  std::string err_path_;
};

// `touchstream embedded-kafka` with the topics of `config_path`. Owned by one thread.
class EmbeddedKafkaProcess {
 public:
  // One broker, no control channel (stdin is /dev/null).
  EmbeddedKafkaProcess(const std::string& config_path, const std::string& log_prefix);
  // `brokers` brokers (numbered 1..brokers) and the fault control channel on stdin (Control).
  EmbeddedKafkaProcess(const std::string& config_path, const std::string& log_prefix, int brokers);
  const std::string& bootstrap() const { return bootstrap_; }

  // Sends one fault command line (grammar: `touchstream embedded-kafka --help`,
  // processor/embedded/fault_command.h) and returns its reply line: "ok ..." when applied, else
  // "error: ..." — also when there is no control channel, the process exited or no reply came
  // within `timeout`.
  std::string Control(const std::string& command,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string Stderr() const { return process_.Stderr(); }

 private:
  EmbeddedKafkaProcess(const std::string& config_path, const std::string& log_prefix, int brokers,
                       ChildStdin stdin_mode);

  ChildProcess process_;
  std::string bootstrap_;
  size_t stdout_read_ = 0;  // bytes of stdout consumed: the bootstrap line and read replies
};

struct Record {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  bool null_value = false;  // a tombstone (value is then empty)
  std::map<std::string, std::string> headers;
};

// The low watermark (earliest offset still held) of each of `partitions` partitions of `topic`;
// -1 where it cannot be queried.
std::vector<int64_t> LowWatermarks(const std::string& bootstrap, const std::string& topic,
                                   int partitions);

// Every record of `partitions` partitions of `topic`, by partition, from the beginning to the
// end offset at the time of the call, in offset order (fails the test on a timeout).
std::map<int32_t, std::vector<Record>> ReadTopic(const std::string& bootstrap,
                                                 const std::string& topic, int partitions);

// Produces `records` to their partitions of `topic`, in order, with their keys, values (null
// for tombstones) and headers; returns when all are acknowledged (or fails the test).
void ProduceRecords(const std::string& bootstrap, const std::string& topic,
                    const std::map<int32_t, std::vector<Record>>& records);

// What the log cleaner of a cleanup.policy=compact topic leaves of one partition: of the first
// `cleanable` records (those older than min.compaction.lag.ms) only the last of each key, and
// no tombstone (as after delete.retention.ms); the records from `cleanable` on unchanged, all
// in their order.
std::vector<Record> Compacted(const std::vector<Record>& records, size_t cleanable);

// Compacts `topic` of the cluster at `from_bootstrap` into the same topic of the cluster at
// `to_bootstrap` (which must have it, empty, with as many partitions): reads each partition
// from the beginning to its end, keeps what the log cleaner keeps (Compacted; `cleanable`
// says how many leading records of a partition it may compact, all of them when not given)
// and writes the survivors in order to the same partition. Returns the records written per
// partition.
using CleanableFn = std::function<size_t(int32_t partition, const std::vector<Record>& records)>;
std::map<int32_t, std::vector<Record>> CompactChangelog(const std::string& from_bootstrap,
                                                        const std::string& topic, int partitions,
                                                        const std::string& to_bootstrap,
                                                        const CleanableFn& cleanable = {});

// Produces raw records, partitioned by key as the Java client does (murmur2: each customer's
// records land in the partition that owns the customer); returns when all are acknowledged (or
// fails the test).
void ProduceRaw(const std::string& bootstrap, const std::string& topic,
                const std::vector<std::pair<std::string, std::string>>& key_values);

struct KeyedValue {
  std::optional<std::string> key;  // nullopt: no key
  std::string value;
};
// Produces `records` in order with librdkafka's `partitioner` ("murmur2_random": the Java
// client's; "consistent_random": librdkafka's default, CRC32; "random"); returns when all are
// acknowledged (or fails the test).
void ProduceWithPartitioner(const std::string& bootstrap, const std::string& topic,
                            const std::vector<KeyedValue>& records, const std::string& partitioner);

// Reads partition 0 of `topic` (test topics have one partition) from the beginning until `count`
// records arrived or `timeout` passed; then keeps reading for `settle` to catch unexpected extra
// records.
std::vector<Record> ConsumeAll(const std::string& bootstrap, const std::string& topic, size_t count,
                               std::chrono::milliseconds timeout,
                               std::chrono::milliseconds settle = std::chrono::seconds(2));

// The sum of every sample of `name` (any labels) in Prometheus text output; -1 if none.
double MetricSum(const std::string& metrics, const std::string& name);
// The same from http://127.0.0.1:`port`/metrics; -1 when it does not answer.
double ScrapeMetricSum(int port, const std::string& name);

// A loopback TCP port that was free a moment ago: a random one below the kernel's ephemeral
// range that a bind succeeded on (harness.cc says why), else one the kernel picks.
int FreeLoopbackPort();

struct HttpResponse {
  int status = 0;  // 0: no connection or no valid response
  std::string body;
};
// GET http://127.0.0.1:`port``path_and_query` (HTTP/1.0, civetweb's client).
HttpResponse HttpGet(int port, const std::string& path_and_query);
// Percent-encodes everything but unreserved characters (for query parameters).
std::string UrlEncode(const std::string& text);

// What a benchmark script printed, and how it ended.
struct ScriptRun {
  int exit_code = -1000;  // ChildProcess::Wait's: -1000 when it outlived the timeout
  std::string out;
  std::string err;
};
// Runs benchmarks/`script` under bash with TOUCHSTREAM_BIN (this build's binary), a free PORT and
// `env` (VAR=value each) set, and `args`; logs into `dir`. The tests that keep the scripts from
// rotting run them small and untimed this way (make test).
ScriptRun RunBenchmarkScript(const TempDir& dir, const std::string& script,
                             const std::vector<std::string>& env,
                             const std::vector<std::string>& args);

}  // namespace touchstream::testing
