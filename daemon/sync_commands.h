// The operator's commands on the sync state: `dlq`, `status`, `plan` and `audit`. They open the
// state file next to a running daemon (SQLite WAL allows it); `dlq replay` puts entries
// back into the outbox (failed webhooks into the inbox), where the running daemon's dispatcher
// picks them up.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ghl::daemon {

struct SyncCommands {
  CLI::App* dlq = nullptr;
  CLI::App* dlq_list = nullptr;
  CLI::App* dlq_show = nullptr;
  CLI::App* dlq_replay = nullptr;
  CLI::App* dlq_drop = nullptr;
  CLI::App* status = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* audit = nullptr;
  std::string sync;
  std::string record;  // audit --record: a GHL id or external key
  std::string id;      // dlq: "12" (a write) or "w12" (a webhook)
  bool all = false;
  bool json = false;
  int limit = 50;
};

// Adds the subcommands to `cli`; `config_path` is the shared --config option's target.
void AddSyncCommands(CLI::App& cli, std::string& config_path, SyncCommands& c);
// Runs whichever of them was parsed; returns the exit code, or -1 when none was.
int RunSyncCommands(const SyncCommands& c, const std::string& config_path);

}  // namespace ghl::daemon
