#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "processor/core/partition_name.h"
#include "processor/core/text_file.h"

namespace touchstream::testing {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

std::string TouchstreamBin() {
  const std::string env = Env("TOUCHSTREAM_BIN");
  return env.empty() ? TOUCHSTREAM_BIN_PATH : env;
}
std::string SourceDir() { return TOUCHSTREAM_SOURCE_DIR_PATH; }

bool WaitFor(const std::function<std::string()>& read, const std::string& needle,
             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/touchstream-test-XXXXXX";
  char* dir = mkdtemp(tmpl);
  path_ = dir != nullptr ? dir : "/tmp";
}

TempDir::~TempDir() {
  if (std::getenv("TOUCHSTREAM_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  const std::string file = path_ + "/" + name;
  // Whole or not at all: a file may be rewritten while a child reads it (Cluster::AwaitState
  // writes the instance's config again for state-dump just after the instance started from it),
  // and a child that opened it between the truncation and the write read an empty config: every
  // default (another group, port 9464, no such changelog topic), and it stopped.
  static std::atomic<unsigned> writes{0};
  const std::string partial = file + ".partial-" + std::to_string(writes++);
  {
    std::ofstream out(partial);
    out << content;
  }
  std::filesystem::rename(partial, file);
  return file;
}

ChildProcess::ChildProcess(const std::vector<std::string>& args, const std::string& log_prefix,
                           ChildStdin stdin_mode)
    : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
  // Everything the child needs is prepared before fork: between fork and exec it may only
  // make async-signal-safe calls (the test process runs librdkafka threads).
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // A Unix socket pair rather than pipe(2): send(MSG_NOSIGNAL) to an exited child fails
  // instead of raising SIGPIPE in the test. Close-on-exec keeps later children off it.
  int channel[2] = {-1, -1};
  if (stdin_mode == ChildStdin::kPipe &&
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
    ADD_FAILURE() << "socketpair: " << std::strerror(errno);
    channel[0] = channel[1] = -1;
  }
  pid_ = fork();
  if (pid_ == 0) {
    int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = channel[1] >= 0 ? channel[1] : open("/dev/null", O_RDONLY);
    dup2(in, STDIN_FILENO);  // the copy is not close-on-exec
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (channel[1] >= 0) close(channel[1]);
  if (pid_ > 0) {
    stdin_fd_ = channel[0];
  } else if (channel[0] >= 0) {
    close(channel[0]);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(std::chrono::seconds(10));
  if (stdin_fd_ >= 0) close(stdin_fd_);
}

bool ChildProcess::WriteStdin(const std::string& text) {
  if (stdin_fd_ < 0 || pid_ <= 0) return false;
  for (size_t written = 0; written < text.size();) {
    const ssize_t n = send(stdin_fd_, text.data() + written, text.size() - written, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

std::string ChildProcess::FirstStdoutLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = ReadTextFileOrEmpty(out_path_);
    const size_t nl = out.find('\n');
    if (nl != std::string::npos) return out.substr(0, nl);
    if (Wait(std::chrono::milliseconds(0)) != -1000) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      pid_ = -1;
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChildProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, SIGTERM);
  int code = Wait(timeout);
  if (code == -1000) {
    kill(pid_, SIGKILL);
    code = Wait(std::chrono::seconds(5));
  }
  return code;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Wait(std::chrono::seconds(10));
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

std::string ChildProcess::Stderr() const { return ReadTextFileOrEmpty(err_path_); }
std::string ChildProcess::Stdout() const { return ReadTextFileOrEmpty(out_path_); }

EmbeddedKafkaProcess::EmbeddedKafkaProcess(const std::string& config_path,
                                           const std::string& log_prefix)
    : EmbeddedKafkaProcess(config_path, log_prefix, 1, ChildStdin::kDevNull) {}

EmbeddedKafkaProcess::EmbeddedKafkaProcess(const std::string& config_path,
                                           const std::string& log_prefix, int brokers)
    : EmbeddedKafkaProcess(config_path, log_prefix, brokers, ChildStdin::kPipe) {}

EmbeddedKafkaProcess::EmbeddedKafkaProcess(const std::string& config_path,
                                           const std::string& log_prefix, int brokers,
                                           ChildStdin stdin_mode)
    : process_({TouchstreamBin(), "embedded-kafka", "--brokers", std::to_string(brokers),
                "--config", config_path},
               log_prefix, stdin_mode) {
  bootstrap_ = process_.FirstStdoutLine(std::chrono::seconds(20));
  stdout_read_ = bootstrap_.empty() ? 0 : bootstrap_.size() + 1;
}

std::string EmbeddedKafkaProcess::Control(const std::string& command,
                                          std::chrono::milliseconds timeout) {
  if (bootstrap_.empty()) return "error: embedded-kafka did not start";
  if (command.find('\n') != std::string::npos) return "error: one command, one line";
  if (!process_.WriteStdin(command + "\n")) {
    return "error: cannot write to embedded-kafka's stdin (no control channel, or it exited)";
  }
  // Each command line gets exactly one reply line, in order.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::string out = process_.Stdout();
    const size_t nl = out.size() > stdout_read_ ? out.find('\n', stdout_read_) : std::string::npos;
    if (nl != std::string::npos) {
      std::string reply = out.substr(stdout_read_, nl - stdout_read_);
      stdout_read_ = nl + 1;
      return reply;
    }
    if (process_.Wait(std::chrono::milliseconds(0)) != -1000) {
      return "error: embedded-kafka exited before replying to '" + command + "'";
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return "error: no reply to '" + command + "' within " + std::to_string(timeout.count()) +
             " ms";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

// An idempotent producer to `bootstrap` partitioning keys with librdkafka's `partitioner`:
// idempotence keeps each partition's order exactly as given, retries included. nullptr, and a
// test failure, if it cannot be created.
std::unique_ptr<RdKafka::Producer> OrderedProducer(
    const std::string& bootstrap, const std::string& partitioner = "murmur2_random") {
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  if (conf->set("bootstrap.servers", bootstrap, errstr) != RdKafka::Conf::CONF_OK ||
      conf->set("enable.idempotence", "true", errstr) != RdKafka::Conf::CONF_OK ||
      conf->set("partitioner", partitioner, errstr) != RdKafka::Conf::CONF_OK) {
    ADD_FAILURE() << errstr;
    return nullptr;
  }
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  if (!producer) ADD_FAILURE() << errstr;
  return producer;
}

}  // namespace

void ProduceRaw(const std::string& bootstrap, const std::string& topic,
                const std::vector<std::pair<std::string, std::string>>& key_values) {
  std::vector<KeyedValue> records;
  records.reserve(key_values.size());
  for (const auto& [key, value] : key_values) records.push_back({key, value});
  ProduceWithPartitioner(bootstrap, topic, records, "murmur2_random");
}

void ProduceWithPartitioner(const std::string& bootstrap, const std::string& topic,
                            const std::vector<KeyedValue>& records,
                            const std::string& partitioner) {
  std::unique_ptr<RdKafka::Producer> producer = OrderedProducer(bootstrap, partitioner);
  ASSERT_TRUE(producer);
  for (const KeyedValue& r : records) {
    RdKafka::ErrorCode err =
        producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                          const_cast<char*>(r.value.data()), r.value.size(),
                          r.key ? r.key->data() : nullptr, r.key ? r.key->size() : 0, 0, nullptr);
    ASSERT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
  }
  ASSERT_EQ(producer->flush(20'000), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->outq_len(), 0);
}

namespace {

// A consumer in group `group_id` for reading topics by assignment: it commits nothing and an
// empty fetch waits 20 ms.
std::unique_ptr<RdKafka::KafkaConsumer> Reader(const std::string& bootstrap,
                                               const std::string& group_id) {
  std::string errstr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, errstr);
  conf->set("group.id", group_id, errstr);
  conf->set("enable.auto.commit", "false", errstr);
  conf->set("fetch.wait.max.ms", "20", errstr);
  return std::unique_ptr<RdKafka::KafkaConsumer>(
      RdKafka::KafkaConsumer::create(conf.get(), errstr));
}

constexpr char kTopicReaderGroup[] = "integration-test-topic-reader";

// A consumed message as a Record: a null payload is a tombstone.
Record ToRecord(RdKafka::Message& m) {
  Record r;
  r.partition = m.partition();
  r.offset = m.offset();
  if (m.key_pointer()) r.key.assign(static_cast<const char*>(m.key_pointer()), m.key_len());
  if (m.payload() != nullptr) {
    r.value.assign(static_cast<const char*>(m.payload()), m.len());
  } else {
    r.null_value = true;
  }
  if (RdKafka::Headers* h = m.headers()) {
    for (const auto& header : h->get_all()) {
      r.headers[header.key()] =
          std::string(static_cast<const char*>(header.value()), header.value_size());
    }
  }
  return r;
}

}  // namespace

std::vector<Record> ConsumeAll(const std::string& bootstrap, const std::string& topic, size_t count,
                               std::chrono::milliseconds timeout,
                               std::chrono::milliseconds settle) {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(bootstrap, "integration-test-reader");
  std::vector<RdKafka::TopicPartition*> partitions = {
      RdKafka::TopicPartition::create(topic, 0, RdKafka::Topic::OFFSET_BEGINNING)};
  consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);

  std::vector<Record> records;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool settling = false;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() == RdKafka::ERR_NO_ERROR) records.push_back(ToRecord(*m));
    if (!settling && records.size() >= count) {
      settling = true;
      deadline = std::chrono::steady_clock::now() + settle;
    }
  }
  consumer->close();
  return records;
}

std::vector<int64_t> LowWatermarks(const std::string& bootstrap, const std::string& topic,
                                   int partitions) {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(bootstrap, kTopicReaderGroup);
  std::vector<int64_t> out;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    if (consumer->query_watermark_offsets(topic, p, &low, &high, 10'000) != RdKafka::ERR_NO_ERROR) {
      low = -1;
    }
    out.push_back(low);
  }
  consumer->close();
  return out;
}

std::map<int32_t, std::vector<Record>> ReadTopic(const std::string& bootstrap,
                                                 const std::string& topic, int partitions) {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = Reader(bootstrap, kTopicReaderGroup);
  std::map<int32_t, std::vector<Record>> out;
  std::map<int32_t, int64_t> ends;  // partitions still to read -> their end offset
  std::vector<RdKafka::TopicPartition*> assignment;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    const RdKafka::ErrorCode err = consumer->query_watermark_offsets(topic, p, &low, &high, 10'000);
    EXPECT_EQ(err, RdKafka::ERR_NO_ERROR)
        << PartitionName(topic, p) << ": " << RdKafka::err2str(err);
    out[p];
    if (high > low) {
      ends[p] = high;
      assignment.push_back(RdKafka::TopicPartition::create(topic, p, low));
    }
  }
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!ends.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    auto end = ends.find(m->partition());
    if (end == ends.end()) continue;
    out[m->partition()].push_back(ToRecord(*m));
    if (m->offset() + 1 >= end->second) ends.erase(end);
  }
  EXPECT_TRUE(ends.empty()) << "reading " << topic << ": " << ends.size()
                            << " partitions not read to their end within 30 s";
  consumer->close();
  return out;
}

void ProduceRecords(const std::string& bootstrap, const std::string& topic,
                    const std::map<int32_t, std::vector<Record>>& records) {
  std::unique_ptr<RdKafka::Producer> producer = OrderedProducer(bootstrap);
  ASSERT_TRUE(producer);
  for (const auto& [partition, list] : records) {
    for (const Record& r : list) {
      RdKafka::Headers* headers = RdKafka::Headers::create();
      for (const auto& [key, value] : r.headers) headers->add(key, value.data(), value.size());
      RdKafka::ErrorCode err;
      while ((err = producer->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                      r.null_value ? nullptr : const_cast<char*>(r.value.data()),
                                      r.null_value ? 0 : r.value.size(), r.key.data(), r.key.size(),
                                      0, headers, nullptr)) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(10);
      }
      if (err != RdKafka::ERR_NO_ERROR) delete headers;  // else librdkafka owns them
      ASSERT_EQ(err, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(err);
    }
  }
  ASSERT_EQ(producer->flush(30'000), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->outq_len(), 0);
}

std::vector<Record> Compacted(const std::vector<Record>& records, size_t cleanable) {
  cleanable = std::min(cleanable, records.size());
  std::map<std::string, size_t> last;  // key -> index of its last record in the cleanable part
  for (size_t i = 0; i < cleanable; ++i) last[records[i].key] = i;
  std::vector<Record> out;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i < cleanable && (last[records[i].key] != i || records[i].null_value)) continue;
    out.push_back(records[i]);
  }
  return out;
}

std::map<int32_t, std::vector<Record>> CompactChangelog(const std::string& from_bootstrap,
                                                        const std::string& topic, int partitions,
                                                        const std::string& to_bootstrap,
                                                        const CleanableFn& cleanable) {
  std::map<int32_t, std::vector<Record>> survivors;
  for (const auto& [partition, records] : ReadTopic(from_bootstrap, topic, partitions)) {
    survivors[partition] =
        Compacted(records, cleanable ? cleanable(partition, records) : records.size());
  }
  ProduceRecords(to_bootstrap, topic, survivors);
  return survivors;
}

double MetricSum(const std::string& metrics, const std::string& name) {
  std::istringstream lines(metrics);
  std::string line;
  double sum = -1;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    sum = (sum < 0 ? 0 : sum) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

double ScrapeMetricSum(int port, const std::string& name) {
  const HttpResponse response = HttpGet(port, "/metrics");
  return response.status == 200 ? MetricSum(response.body, name) : -1;
}

namespace {

// Whether a listening socket could bind 127.0.0.1:`port` now (0: any; the port bound is returned
// through `bound`).
bool CanBindLoopback(int port, int* bound) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (ok && bound != nullptr) *bound = ntohs(addr.sin_port);
  close(fd);
  return ok;
}

}  // namespace

int FreeLoopbackPort() {
  // Below the kernel's ephemeral range: a port the kernel picks itself (another test's broker
  // listener, any outgoing connection) is never one handed out here, so nothing but another
  // test picking the same number can take it before the child binds it (a port the kernel had
  // chosen for a bind to port 0 was taken that way while tests ran side by side). Random, so that
  // tests side by side rarely pick alike.
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  int ephemeral_low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> ephemeral_low;
  constexpr int kFirst = 10000;
  if (ephemeral_low > kFirst + 1000) {
    std::uniform_int_distribution<int> pick(kFirst, ephemeral_low - 1);
    for (int attempt = 0; attempt < 100; ++attempt) {
      const int port = pick(rng);
      if (CanBindLoopback(port, nullptr)) return port;
    }
  }
  int port = 0;
  return CanBindLoopback(0, &port) ? port : 0;
}

HttpResponse HttpGet(int port, const std::string& path_and_query) {
  static const bool initialized = (mg_init_library(0), true);
  (void)initialized;
  HttpResponse response;
  char error[256] = {0};
  mg_connection* conn =
      mg_download("127.0.0.1", port, 0, error, sizeof(error),
                  "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path_and_query.c_str());
  if (conn == nullptr) return response;
  const mg_response_info* info = mg_get_response_info(conn);
  response.status = info != nullptr ? info->status_code : 0;
  char buffer[8192];
  for (int n; (n = mg_read(conn, buffer, sizeof(buffer))) > 0;) response.body.append(buffer, n);
  mg_close_connection(conn);
  return response;
}

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ScriptRun RunBenchmarkScript(const TempDir& dir, const std::string& script,
                             const std::vector<std::string>& env,
                             const std::vector<std::string>& args) {
  std::vector<std::string> command{"/usr/bin/env", "TOUCHSTREAM_BIN=" + TouchstreamBin(),
                                   "PORT=" + std::to_string(FreeLoopbackPort())};
  command.insert(command.end(), env.begin(), env.end());
  command.push_back("bash");
  command.push_back(SourceDir() + "/benchmarks/" + script);
  command.insert(command.end(), args.begin(), args.end());
  ChildProcess process(command, dir.path() + "/" + script);
  ScriptRun run;
  run.exit_code = process.Wait(std::chrono::seconds(150));
  run.out = process.Stdout();
  run.err = process.Stderr();
  return run;
}

}  // namespace touchstream::testing
