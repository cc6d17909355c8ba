// `ghl-syncd deletes`: the deletes the mass-delete guard held (sync/delete_guard.h,
// SyncStore::HoldDelete). Like `dlq`, it opens the state file next to a running daemon.
//
//   deletes list [--sync S] [--json]        what is held: pair, side, why, since when
//   deletes release [--sync S] --all|ID...  the deletes are made: each link becomes a
//                                           tombstone and its delete job is enqueued, as
//                                           the pass would have done; the running daemon's
//                                           dispatcher makes it. A record that changed
//                                           after its delete was held is kept (the pair
//                                           is unlinked instead).
//   deletes drop [--sync S] --all|ID...     the deletes are discarded: the pairs are
//                                           unlinked (as `deletes: ignore` does) and no
//                                           record is deleted on either side.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ghl::daemon {

struct DeletesCommand {
  CLI::App* deletes = nullptr;
  CLI::App* list = nullptr;
  CLI::App* release = nullptr;
  CLI::App* drop = nullptr;
  std::string sync;
  std::vector<int64_t> ids;
  bool all = false;
  bool json = false;
  int limit = 1000;
};

// Adds `deletes` to `cli`; `config_path` is the shared --config option's target.
void AddDeletesCommand(CLI::App& cli, std::string& config_path, DeletesCommand& c);
// Runs it if it was parsed; returns the exit code, or -1 when it was not.
int RunDeletesCommand(const DeletesCommand& c, const std::string& config_path);

}  // namespace ghl::daemon
