// Subcommands of the `touchstream` binary. Each Add*Command registers its options on `app`
// and sets `*run` to the action when the subcommand is chosen; the action returns the exit
// code (see kExit*).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace touchstream {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // runtime failure (Kafka, state store)
inline constexpr int kExitUsage = 2;     // bad arguments or bad config
inline constexpr int kExitRejected = 3;  // produce: some input lines were rejected

using Action = std::function<int()>;

void AddRunCommand(CLI::App& app, Action* run);
void AddEmbeddedKafkaCommand(CLI::App& app, Action* run);
void AddProduceCommand(CLI::App& app, Action* run);
void AddTailCommand(CLI::App& app, Action* run);
void AddBacktestCommand(CLI::App& app, Action* run);
void AddDemoCommand(CLI::App& app, Action* run);
void AddStateDumpCommand(CLI::App& app, Action* run);
void AddStateCompactCommand(CLI::App& app, Action* run);
void AddLoadgenCommand(CLI::App& app, Action* run);

}  // namespace touchstream
