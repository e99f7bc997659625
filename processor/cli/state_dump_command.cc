// `touchstream state-dump`: every stored customer state as JSON lines, sorted by customer id.
#include <fstream>
#include <iostream>
#include <map>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "processor/json/json_lines.h"
#include "state/state_db.h"

namespace touchstream {

void AddStateDumpCommand(CLI::App& app, Action* run) {
  struct Options {
    std::string config;
    std::string output = "-";
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "state-dump",
      "Print every customer state in the config's state.dir as JSON lines sorted by customer "
      "id (read-only; safe while a processor runs). Compare with `backtest --state-out`.");
  cmd->add_option("--config", opts->config, "YAML config file (for state.dir)")->required();
  cmd->add_option("--output", opts->output, "'-' for stdout")->capture_default_str();
  cmd->callback([opts, run] {
    *run = [opts]() -> int {
      Config config = LoadConfigFile(opts->config);
      auto db = StateDb::OpenReadOnly(config.state_dir);
      if (!db.ok()) {
        std::cerr << "touchstream state-dump: " << db.status().message() << "\n";
        return kExitFailure;
      }
      std::map<std::string, std::string> lines;
      Status s = (*db)->ForEachCustomer([&](int32_t, v1::state::CustomerState state) {
        lines[state.customer_id()] = ToJsonLine(state);
      });
      if (!s.ok()) {
        std::cerr << "touchstream state-dump: " << s.message() << "\n";
        return kExitFailure;
      }
      std::ofstream file;
      if (opts->output != "-") file.open(opts->output);
      std::ostream& out = opts->output == "-" ? std::cout : file;
      for (const auto& [id, line] : lines) out << line << "\n";
      if (!out.flush()) {
        std::cerr << "touchstream state-dump: cannot write "
                  << (opts->output == "-" ? std::string("stdout") : opts->output) << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });
}

}  // namespace touchstream
