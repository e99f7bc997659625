// `touchstream state-compact`: rewrites a stopped instance's state files so that nothing deleted
// (an erased customer, a released partition's copy, delivered outbox records) stays on disk.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include "processor/cli/commands.h"
#include "processor/config/config.h"
#include "state/state_db.h"

namespace touchstream {

namespace {

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ignored)) {
    if (entry.is_regular_file(ignored)) bytes += entry.file_size(ignored);
  }
  return bytes;
}

// What the compacted store holds, per column family, and per customer: the measure of the state
// goal in benchmarks/RESULTS.md (customers' SST bytes after a full compaction / customers).
Status PrintSizes(StateDb& db) {
  std::vector<size_t> sizes;
  if (Status s = db.ForEachCustomer(
          [&](int32_t, v1::state::CustomerState state) { sizes.push_back(state.ByteSizeLong()); });
      !s.ok()) {
    return s;
  }
  std::sort(sizes.begin(), sizes.end());
  auto at = [&](double q) {
    return sizes.empty() ? 0
                         : sizes[std::min(sizes.size() - 1, static_cast<size_t>(q * sizes.size()))];
  };
  for (const StateDb::FamilyStats& family : db.ReadStats().families) {
    std::cout << family.name << ": " << family.sst_bytes << " SST bytes";
    if (family.name == "customers") {
      std::cout << ", " << sizes.size() << " customers";
      if (!sizes.empty()) {
        std::cout << ", " << family.sst_bytes / sizes.size()
                  << " SST bytes per customer; encoded state p50 " << at(0.5) << ", p90 " << at(0.9)
                  << ", p99 " << at(0.99) << ", max " << sizes.back() << " bytes";
      }
    }
    std::cout << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddStateCompactCommand(CLI::App& app, Action* run) {
  auto config_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "state-compact",
      "Flush and rewrite every file of the config's state.dir (a forced bottommost compaction of "
      "every column family), then reopen it, so that no deleted key, e.g. an erased customer's "
      "id, remains in any file, WAL included. The processor must be stopped (the store's lock).");
  cmd->add_option("--config", *config_path, "YAML config file (for state.dir)")->required();
  auto sizes = std::make_shared<bool>(false);
  cmd->add_flag("--sizes", *sizes,
                "then print each column family's SST bytes, and the customers' count, SST bytes "
                "per customer and encoded state sizes (p50, p90, p99, max) on stdout");
  cmd->callback([config_path, sizes, run] {
    *run = [config_path, sizes]() -> int {
      const Config config = LoadConfigFile(*config_path);
      // Opening would create an empty store where none is (a mistyped state.dir): nothing to do
      // there, and nothing compacted where the operator meant.
      if (std::error_code error; !std::filesystem::exists(config.state_dir + "/CURRENT", error)) {
        std::cerr << "touchstream state-compact: no state store in " << config.state_dir
                  << " (state.dir of " << *config_path << ")\n";
        return kExitFailure;
      }
      const uint64_t before = DirectoryBytes(config.state_dir);
      {
        auto db = StateDb::Open(config.state_dir, config.sync_writes);
        if (!db.ok()) {
          std::cerr << "touchstream state-compact: " << db.status().message() << "\n";
          return kExitFailure;
        }
        if (Status s = (*db)->CompactAll(); !s.ok()) {
          std::cerr << "touchstream state-compact: " << s.message() << "\n";
          return kExitFailure;
        }
      }
      // Reopened: a fresh MANIFEST, and the files the compaction replaced are deleted.
      auto reopened = StateDb::Open(config.state_dir, config.sync_writes);
      if (!reopened.ok()) {
        std::cerr << "touchstream state-compact: " << reopened.status().message() << "\n";
        return kExitFailure;
      }
      if (*sizes) {
        if (Status s = PrintSizes(**reopened); !s.ok()) {
          std::cerr << "touchstream state-compact: " << s.message() << "\n";
          return kExitFailure;
        }
      }
      reopened->reset();
      std::cerr << "touchstream state-compact: " << config.state_dir << ": " << before
                << " bytes before, " << DirectoryBytes(config.state_dir) << " after\n";
      return kExitOk;
    };
  });
}

}  // namespace touchstream
