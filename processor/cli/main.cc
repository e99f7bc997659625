// touchstream: real-time engagement triggers from touchpoint events. See README.md.
#include <iostream>

#include "processor/cli/commands.h"
#include "processor/config/config_error.h"
#include "processor/core/parse_complaints.h"
#include "processor/diagnostics/log.h"
#include "processor/metrics/allocator_collector.h"

#ifndef TOUCHSTREAM_VERSION
#define TOUCHSTREAM_VERSION "dev"
#endif

int main(int argc, char** argv) {
  // protobuf's own lines in this log's format; a string field's bad UTF-8 named in its dead letter.
  touchstream::CaptureParseComplaints(
      [](const std::string& line) { touchstream::LogWarn("protobuf: " + line); });
  CLI::App app{
      "touchstream - real-time engagement triggers (cart abandoned, win-back, reactivated,\n"
      "reward windows) from online and offline touchpoint events on Kafka."};
  app.set_version_flag("--version", [] {
    return std::string(TOUCHSTREAM_VERSION) +
           "\nallocator: " + touchstream::DescribeThisAllocator();
  });
  app.require_subcommand(1);
  touchstream::Action action;
  touchstream::AddRunCommand(app, &action);
  touchstream::AddEmbeddedKafkaCommand(app, &action);
  touchstream::AddProduceCommand(app, &action);
  touchstream::AddTailCommand(app, &action);
  touchstream::AddBacktestCommand(app, &action);
  touchstream::AddDemoCommand(app, &action);
  touchstream::AddStateDumpCommand(app, &action);
  touchstream::AddStateCompactCommand(app, &action);
  touchstream::AddLoadgenCommand(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : touchstream::kExitUsage;
  }
  try {
    return action();
  } catch (const touchstream::ConfigError& e) {
    std::cerr << "touchstream: config error: " << e.what() << "\n";
    return touchstream::kExitUsage;
  }
}
