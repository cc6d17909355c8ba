// Engine: every sync of the configuration at work, on one worker thread with its own
// connection to the state store (connectors block; the event loop must not).
//
// The worker, in a loop:
//   1. webhook inbox: pending rows oldest first; each becomes a change for the syncs that
//      serve its location and object, and is marked done in the transaction that commits
//      that change (skipped when no sync serves it; left pending when a side could not be
//      read, so it is tried again).
//   2. passes: each sync polls GHL and scans its connector every poll_interval (the first
//      pass is the backfill).
//   3. outbox: due jobs of every sync are dispatched.
// Wake() (after the webhook writer committed) cuts the wait short. A pass does not hold
// webhooks up: between its steps (SyncRunner::SetYield) the worker runs the inbox and
// dispatches real-time writes when Wake() was called, or at least every 100 ms.
//
// Thread-safety: Start/Stop/Wake/Replace/Snapshot from any thread.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"
#include "connectors/connector.h"
#include "connectors/ghl/webhook_event.h"
#include "core/clock.h"
#include "mapping/mapping.h"
#include "sync/ghl_gateway.h"
#include "sync/runner.h"

namespace ghl::sync {

struct SyncSetup {
  std::filesystem::path file;  // the mapping file, for messages
  std::shared_ptr<const mapping::Mapping> mapping;
  std::unique_ptr<connectors::Connector> connector;
  std::vector<std::string> locations;
};

// Compiles every mapping of `config` and builds its connector. Every problem goes to
// `errors` (file:line:col: key: message); the syncs are returned only when there is none.
// `installed`: locations the app was installed on at run time (INSTALL webhooks), served
// by the mappings that name no `locations:`; a mapping cannot name them.
std::vector<SyncSetup> BuildSyncs(const config::Config& config, config::Diagnostics& errors,
                                  const config::EnvLookup& env = config::ProcessEnv(),
                                  const std::vector<std::string>& installed = {});

struct EngineOptions {
  std::filesystem::path state_path;
  std::chrono::milliseconds busy_timeout{5000};
  std::chrono::milliseconds idle_wait{200};
  int inbox_batch = 200;
  // A webhook whose change fails this many times is given up on (state/inbox.h MarkFailed);
  // between attempts it waits runner.backoff_base_ms doubling to runner.backoff_max_ms.
  int inbox_max_attempts = 12;
  int64_t progress_log_interval_ms = 30'000;  // while writes are waiting
  RunnerOptions runner;
  // Audit rows (sync/store.h AuditEntry) older than this are deleted, at most
  // `audit_prune_batch` once a minute; 0 keeps them forever (state.audit_retention).
  std::chrono::milliseconds audit_retention{std::chrono::days(30)};
  int audit_prune_batch = 10'000;
  // INSTALL / UNINSTALL webhooks of this Marketplace app (the part of its client id before
  // the first '-', as GHL's appId) are recorded in the app_installs table; "" (no OAuth
  // app configured): they are skipped. `on_installs_changed` is called, on the engine's
  // thread, after one was recorded.
  std::string app_id;
  std::function<void()> on_installs_changed;
};

struct SyncStatus {
  std::string name;
  int64_t links = 0;
  int64_t outbox = 0;
  int64_t dead_letters = 0;
  int64_t passes = 0;
  std::string last_error;  // "" after a good pass
  PassReport last;
  double write_rate = 0;    // writes completed per second over the last minute
  double eta_seconds = -1;  // until the outbox is empty at that pace; -1: no pace yet
};

// The cursor row (sync, "progress") where the engine leaves "<rate> <eta_s> <at_ms>" for
// `ghl-syncd status`.
inline constexpr const char* kProgressCursor = "progress";

class Engine {
 public:
  Engine(const Clock& clock, GhlGateway& gateway, prometheus::Registry* registry,
         EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Opens the engine's connection and starts the worker with `syncs`.
  Result<void> Start(std::vector<SyncSetup> syncs);
  // Replaces the syncs (a reload) between two rounds of the worker.
  void Replace(std::vector<SyncSetup> syncs);
  void Wake();
  // Finishes the current round and joins the worker. Idempotent.
  void Stop();
  std::vector<SyncStatus> Snapshot() const;

 private:
  void Run();
  void Round();
  void Dispatch(int rounds);
  void ProcessInbox();
  // Inside a pass: the inbox and real-time writes, when woken or every 100 ms.
  void Between();
  // Backs the inbox off after a failure (0.4 s doubling to 30 s) and says so (the first
  // and every 10th time). Returns false, for `ok = InboxFailed(...)`.
  bool InboxFailed(const std::string& what);
  // Records an INSTALL / UNINSTALL event and marks its row done, in one transaction. The
  // value: "" when recorded, else why the event was skipped.
  Result<std::string> RecordAppEvent(int64_t row_id, const ghl_client::WebhookEvent& event,
                                     int64_t now);
  void ReportProgress(size_t runner, SyncStatus& status);
  // Deletes audit rows past options_.audit_retention, once a minute.
  void PruneAudit(int64_t now);
  struct Metrics;

  const Clock& clock_;
  GhlGateway& gateway_;
  EngineOptions options_;
  std::unique_ptr<Metrics> metrics_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::atomic<bool> inbox_woken_{false};  // for Between(): set by Wake()
  std::optional<std::vector<SyncSetup>> replacement_;
  mutable std::mutex status_mu_;
  std::vector<SyncStatus> status_;
  std::thread worker_;

  // Worker-thread state.
  struct Worker;
  std::unique_ptr<Worker> w_;
};

}  // namespace ghl::sync
