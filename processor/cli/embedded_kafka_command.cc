// `touchstream embedded-kafka`: librdkafka's mock cluster as a separate process, with a control
// channel on stdin to inject the faults the mock supports (processor/embedded/fault_command.h).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/diagnostics/log.h"
#include "processor/embedded/embedded_kafka.h"
#include "processor/embedded/fault_command.h"
#include "processor/embedded/topic_spec.h"
#include "processor/run/shutdown.h"

namespace touchstream {

namespace {

constexpr size_t kMaxLineBytes = 4096;

struct ControlLine {
  std::string text;
  bool too_long = false;  // text is dropped; the line still gets its one reply
};

// Command lines from a file descriptor, read without blocking past a timeout so that the
// caller keeps watching its stop flag. Owned by one thread.
class ControlInput {
 public:
  explicit ControlInput(int fd) : fd_(fd) {
    // A background job that reads its terminal is stopped by SIGTTIN; with SIGTTIN ignored the
    // read fails with EIO instead, and the cluster keeps running (`embedded-kafka ... &`).
    if (isatty(fd_)) signal(SIGTTIN, SIG_IGN);
  }

  // Waits up to `timeout_ms` for input and returns the complete lines read. After EOF (or a
  // read error) it only sleeps: the cluster runs on without a control channel.
  std::vector<ControlLine> Read(int timeout_ms) {
    std::vector<ControlLine> lines;
    if (!open_ || (isatty(fd_) && tcgetpgrp(fd_) != getpgrp())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return lines;
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return lines;  // timeout, or EINTR from a stop signal
    char buffer[4096];
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN || (errno == EIO && isatty(fd_)))) {
      return lines;
    }
    if (n <= 0) {
      open_ = false;
      if (!partial_.empty() || too_long_) lines.push_back(TakeLine());
      LogInfo("control channel: stdin closed; running until SIGTERM/SIGINT");
      return lines;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        lines.push_back(TakeLine());
      } else if (partial_.size() < kMaxLineBytes) {
        partial_ += buffer[i];
      } else {
        too_long_ = true;
      }
    }
    return lines;
  }

 private:
  ControlLine TakeLine() {
    ControlLine line{too_long_ ? std::string() : std::move(partial_), too_long_};
    partial_.clear();
    too_long_ = false;
    return line;
  }

  const int fd_;
  bool open_ = true;
  std::string partial_;
  bool too_long_ = false;
};

// The topics this process created: `leader` refuses others, since the mock would create them.
std::set<std::string> ConfigTopics(const Config& config) {
  return {config.touchpoints.name, config.triggers.name,  config.dead_letter.name,
          config.audit.name,       config.changelog.name, config.repartition.name};
}

// One reply line, without its newline: "ok ..." or "error: <reason>".
std::string Reply(EmbeddedKafka& kafka, const std::set<std::string>& topics,
                  const ControlLine& line) {
  if (line.too_long) {
    return "error: line longer than " + std::to_string(kMaxLineBytes) + " bytes";
  }
  auto command = ParseFaultCommand(line.text);
  if (!command.ok()) return "error: " + command.status().message();
  if (command->kind == FaultCommand::Kind::kLeader && topics.count(command->topic) == 0) {
    std::string known;
    for (const std::string& t : topics) known += (known.empty() ? "" : ", ") + t;
    return "error: unknown topic '" + command->topic + "' (topics: " + known + ")";
  }
  auto applied = kafka.ApplyFault(*command);
  if (!applied.ok()) return "error: " + applied.status().message();
  if (command->kind != FaultCommand::Kind::kHelp &&
      command->kind != FaultCommand::Kind::kPendingErrors) {
    LogInfo("fault: " + *applied);
  }
  return "ok " + *applied;
}

// A reply stays one printable line whatever bytes the command held.
std::string Printable(std::string text) {
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return text;
}

}  // namespace

void AddEmbeddedKafkaCommand(CLI::App& app, Action* run) {
  struct Options {
    std::string config;
    int brokers = 3;
    std::vector<std::string> topics;  // --topic NAME:PARTITIONS
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "embedded-kafka",
      "Start an embedded Kafka cluster (librdkafka's mock cluster) on 127.0.0.1, create the "
      "configured topics, print the bootstrap servers as the first line on stdout, and run "
      "until SIGTERM/SIGINT. For demos and tests, not production.");
  cmd->add_option("--config", opts->config,
                  "YAML config whose topics section names the topics to create (default: "
                  "touchpoints/6, triggers/6, touchpoints-dlq/1, touchstream-audit/1, "
                  "touchstream-customers-changelog/6, touchstream-touchpoints-repartition/6)");
  cmd->add_option("--brokers", opts->brokers, "number of brokers")
      ->capture_default_str()
      ->check(CLI::Range(1, 9));
  cmd->add_option("--topic", opts->topics,
                  "another topic to create, NAME:PARTITIONS (repeatable; e.g. a copy of the "
                  "changelog to restore from)")
      ->check([](const std::string& spec) {
        auto topic = ParseTopicSpec(spec);
        return topic.ok() ? std::string() : topic.status().message();
      });
  cmd->footer(
      "Control channel: one command per line on stdin injects a fault; each line gets one "
      "reply line on stdout, after the bootstrap servers: 'ok ...' or 'error: <reason>'. "
      "EOF on stdin closes only the channel. Brokers are numbered 1..N; names are "
      "case-insensitive.\n" +
      FaultCommandUsage());
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = opts->config.empty() ? Config{} : LoadConfigFile(opts->config);
      std::atomic<bool>& stop = InstallStopSignals();
      auto kafka = EmbeddedKafka::Start(opts->brokers);
      if (!kafka.ok()) {
        LogError(kafka.status().message());
        return kExitFailure;
      }
      if (Status s = (*kafka)->CreateTopics(config); !s.ok()) {
        LogError(s.message());
        return kExitFailure;
      }
      std::set<std::string> topics = ConfigTopics(config);
      std::string extra;
      for (const std::string& spec : opts->topics) {
        const TopicConfig topic = *ParseTopicSpec(spec);  // checked when parsed
        if (!topics.insert(topic.name).second) {
          LogError("--topic " + spec + ": the config's topics (or an earlier --topic) create " +
                   topic.name + " already");
          return kExitFailure;
        }
        if (Status s = (*kafka)->CreateTopic(topic); !s.ok()) {
          LogError(s.message());
          return kExitFailure;
        }
        extra += ", " + topic.name + "/" + std::to_string(topic.partitions);
      }
      std::cout << (*kafka)->bootstrap_servers() << std::endl;
      LogInfo("embedded Kafka with " + std::to_string(opts->brokers) + " brokers at " +
              (*kafka)->bootstrap_servers() + "; topics " + config.touchpoints.name + "/" +
              std::to_string(config.touchpoints.partitions) + ", " + config.triggers.name + "/" +
              std::to_string(config.triggers.partitions) + ", " + config.dead_letter.name + "/" +
              std::to_string(config.dead_letter.partitions) + ", " + config.audit.name + "/" +
              std::to_string(config.audit.partitions) + ", " + config.changelog.name + "/" +
              std::to_string(config.changelog.partitions) + ", " + config.repartition.name + "/" +
              std::to_string(config.repartition.partitions) + extra);
      ControlInput input(STDIN_FILENO);
      while (!stop.load()) {
        for (const ControlLine& line : input.Read(100)) {
          std::cout << Printable(Reply(**kafka, topics, line)) << std::endl;
        }
      }
      LogInfo("embedded Kafka stopping");
      return kExitOk;
    };
  });
}

}  // namespace touchstream
