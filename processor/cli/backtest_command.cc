// `touchstream backtest`: the pipeline with no Kafka, events in, triggers out.
#include <fstream>
#include <iostream>

#include "processor/backtest/backtest.h"
#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/json/json_lines.h"

namespace touchstream {

void AddBacktestCommand(CLI::App& app, Action* run) {
  struct Options {
    std::string config;
    std::string input = "-";
    std::string output = "-";
    std::string until;
    std::string state_out;
    std::string audit_out;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "backtest",
      "Run the rules over a JSON-lines event file with no Kafka: deterministic, pure event "
      "time. Prints triggers as JSON lines (and, with --audit-out, the policy stage's audit "
      "records); invalid lines are reported on stderr.");
  cmd->add_option("--config", opts->config,
                  "YAML config file (rules, policies, validation, timers)")
      ->required();
  cmd->add_option("--input", opts->input, "events as JSON lines; '-' for stdin")
      ->capture_default_str();
  cmd->add_option("--output", opts->output, "triggers as JSON lines; '-' for stdout")
      ->capture_default_str();
  cmd->add_option("--until", opts->until,
                  "advance the watermark to this RFC 3339 time at the end of input, firing "
                  "what is due by then (default: stay at the last event's time)");
  cmd->add_option("--state-out", opts->state_out,
                  "write the final customer states as JSON lines sorted by customer id (the "
                  "format of `state-dump`)");
  cmd->add_option("--audit-out", opts->audit_out,
                  "write the audit records (every policy decision other than an immediate "
                  "send: DEFERRED, RELEASED, SUPPRESSED, HOLDOUT, ERASED; proto/audit.proto) "
                  "as JSON lines in decision order; '-' for stdout");
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = LoadConfigFile(opts->config);
      BacktestOptions options;
      if (!opts->until.empty()) {
        options.until_ms = ParseTime(opts->until);
        if (!options.until_ms) {
          std::cerr << "touchstream backtest: --until: '" << opts->until
                    << "' is not an RFC 3339 time\n";
          return kExitUsage;
        }
      }
      std::ifstream in_file;
      std::ofstream out_file;
      if (opts->input != "-") {
        in_file.open(opts->input);
        if (!in_file) {
          std::cerr << "touchstream backtest: cannot read " << opts->input << "\n";
          return kExitUsage;
        }
      }
      if (opts->output != "-") {
        out_file.open(opts->output);
        if (!out_file) {
          std::cerr << "touchstream backtest: cannot write " << opts->output << "\n";
          return kExitUsage;
        }
      }
      std::ofstream audit_file;
      if (!opts->audit_out.empty() && opts->audit_out != "-") {
        audit_file.open(opts->audit_out);
        if (!audit_file) {
          std::cerr << "touchstream backtest: cannot write " << opts->audit_out << "\n";
          return kExitUsage;
        }
      }
      std::istream& in = opts->input == "-" ? std::cin : in_file;
      std::ostream& out = opts->output == "-" ? std::cout : out_file;
      if (!opts->audit_out.empty()) {
        options.audit_out = opts->audit_out == "-" ? &std::cout : &audit_file;
      }
      MemoryStore store;
      BacktestReport report = RunBacktest(config, in, out, std::cerr, options, &store);
      if (audit_file.is_open() && !audit_file) {
        std::cerr << "touchstream backtest: cannot write " << opts->audit_out << "\n";
        return kExitFailure;
      }
      if (!opts->state_out.empty()) {
        std::ofstream state_file(opts->state_out);
        for (const auto& [id, state] : store.customers()) {
          if (state.first_seen_ms() != 0) state_file << ToJsonLine(state) << "\n";
        }
        if (!state_file) {
          std::cerr << "touchstream backtest: cannot write " << opts->state_out << "\n";
          return kExitFailure;
        }
      }
      std::cerr << "backtest: " << report.events << " events, " << report.duplicates
                << " duplicates, " << report.rejected << " rejected, " << report.triggers
                << " triggers, " << report.audits << " audit records, " << report.trimmed.total()
                << " state entries trimmed (" << report.trimmed.max_cart_lines
                << " max_cart_lines, " << report.trimmed.max_state_bytes << " max_state_bytes)\n";
      return kExitOk;
    };
  });
}

}  // namespace touchstream
