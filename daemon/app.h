// App: the composition root. It wires configuration, state store, HTTP listener,
// signals and systemd together, and owns the process lifecycle:
//
//   start:    lock the state file, bind listener, open state (migrate, integrity check),
//             READY=1
//   SIGHUP:   load + validate config and mappings; swap on success, keep old on failure
//   SIGTERM:  STOPPING=1, refuse new work, drain in-flight work (bounded), flush state,
//             exit 0
//
// It does no domain work itself.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "config/config.h"
#include "connectors/ghl/client.h"
#include "connectors/ghl/oauth.h"
#include "core/http_server.h"
#include "daemon/metrics.h"
#include "daemon/systemd_notify.h"
#include "daemon/webhook_ingress.h"
#include "daemon/work_tracker.h"
#include "state/app_installs.h"
#include "state/sqlite_state_store.h"
#include "state/state_lock.h"
#include "sync/engine.h"
#include "sync/ghl_gateway.h"

namespace ghl::daemon {

using http_server::HttpServer;
using http_server::Request;
using http_server::Response;
namespace http = http_server::http;

// Exit codes: 0 clean stop; 1 a runtime failure (state, listener); 78 (EX_CONFIG) bad
// configuration, which the unit's RestartPreventExitStatus= keeps from restart loops.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 78;

class App {
 public:
  App(std::filesystem::path config_path, std::shared_ptr<const config::Config> config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int Run();

 private:
  void WaitForSignal();
  void LogLocations() const;
  void Reload();
  void Shutdown(const std::string& why);
  Response Handle(const Request& req);
  std::string Summary() const;
  bool Ready(std::string* why) const;

  std::filesystem::path config_path_;
  std::shared_ptr<const config::Config> config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  Metrics metrics_;
  SystemdNotifier notifier_;
  WorkTracker work_;
  void StartGhlClient();
  // Hands `location` to the GHL client (or gives it a new token source) and checks it.
  void ServeLocation(const std::string& location_id,
                     std::shared_ptr<ghl_client::TokenSource> tokens);
  // After a reload: adds the locations the new configuration has, pauses the ones it
  // dropped, and gives a changed token to the client.
  void ApplyLocations(const config::Config& old_cfg);
  void ProbeLocation(const std::string& location_id);
  void RestoreBudget(const std::string& location_id);
  void SaveBudgets();
  void ScheduleBudgetFlush();

  // INSTALL / UNINSTALL (daemon/app_installs.cc): the app_installs table, recorded by the
  // engine from webhooks, acted on here. Run at start and after the engine recorded one.
  void ApplyInstalls();
  void Install(const state::AppInstall& row);
  bool Uninstall(const state::AppInstall& row);
  // Forgets the OAuth tokens of `resource` stored before `event_at_ms`; true when tokens
  // stored after it (a new `ghl-syncd auth`) were kept.
  bool ForgetTokens(const std::string& resource, int64_t event_at_ms);
  // Per location: why its INSTALL could not be acted on yet (said once per change).
  std::map<std::string, std::string> install_problems_;
  // The syncs of `config`, the mappings without `locations:` also serving `installed`.
  std::vector<sync::SyncSetup> BuildSyncsFor(const config::Config& config,
                                             const std::set<std::string>& installed,
                                             config::Diagnostics& errors) const;
  // Pauses a location on purpose (uninstalled, removed from the configuration): it leaves
  // readiness and its start-up check stops until ServeLocation takes it back.
  void Hold(const std::string& location_id, const std::string& why);
  std::set<std::string> held_;
  // Rebuilds the syncs for the current locations (an install or uninstall).
  void RebuildSyncs();
  std::shared_ptr<ghl_client::OAuthSessions> oauth_;
  // Locations that INSTALL webhooks added (not in ghl-syncd.yaml).
  std::set<std::string> installed_;
  // Every location handed to ghl_ (it cannot forget one; a dropped one is paused).
  std::set<std::string> served_;
  // resource -> (event_at_ms, installed) of the app_installs row acted on last.
  std::map<std::string, std::pair<int64_t, bool>> applied_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> install_timers_;

  // One daemon per state file (state/state_lock.h): taken before anything touches the
  // state file, held until the process ends. Declared before store_, so released after it.
  int LockState(state::StateLock::Mode mode);
  std::unique_ptr<state::StateLock> state_lock_;
  std::unique_ptr<state::SqliteStateStore> store_;
  SystemClock clock_;
  std::unique_ptr<ghl_client::CurlMulti> curl_;
  std::unique_ptr<ghl_client::GhlClient> ghl_;
  boost::asio::steady_timer budget_timer_;
  // Per location: empty once GHL accepted its token, else why not (for /readyz).
  std::map<std::string, std::string> location_problems_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> probe_timers_;
  std::unique_ptr<HttpServer> http_;
  // Webhook endpoint (webhooks.enabled): started after the store opens, ended before it
  // closes. Its inbox is the state file's webhook_inbox (state/inbox.h).
  int StartWebhooks();
  std::unique_ptr<WebhookIngress> webhooks_;
  // The sync engine (sync/engine.h) on its worker thread; it calls GHL through gateway_.
  int StartSync();
  std::unique_ptr<sync::LoopGateway> gateway_;
  std::unique_ptr<sync::Engine> engine_;
  std::atomic<sync::Engine*> wake_{nullptr};  // woken by the webhook writer after a commit
  bool stopping_ = false;
};

}  // namespace ghl::daemon
