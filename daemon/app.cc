#include "daemon/app.h"

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <csignal>

#include "core/log.h"
#include "daemon/auth_command.h"
#include "daemon/ghl_setup.h"
#include "daemon/version.h"
#include "state/rate_budget.h"
#include "state/sqlite_state_store.h"

namespace ghl::daemon {
namespace {

void ApplyLogging(const config::LoggingConfig& logging) {
  log::Setup(*log::ParseLevel(logging.level), *log::ParseFormat(logging.format));
}

// Settings that are bound at start; a reload reports a change to them instead of
// pretending to apply it.
std::vector<std::string> RestartOnlyChanges(const config::Config& old_cfg,
                                            const config::Config& new_cfg) {
  std::vector<std::string> changed;
  if (old_cfg.state.path != new_cfg.state.path) changed.push_back("state.path");
  if (old_cfg.state.busy_timeout != new_cfg.state.busy_timeout) {
    changed.push_back("state.busy_timeout");
  }
  if (old_cfg.state.audit_retention != new_cfg.state.audit_retention) {
    changed.push_back("state.audit_retention");
  }
  if (!(old_cfg.http.listen == new_cfg.http.listen)) changed.push_back("http.listen");
  if (old_cfg.webhooks.max_attempts != new_cfg.webhooks.max_attempts) {
    changed.push_back("webhooks.max_attempts");
  }
  const auto& a = old_cfg.ghl.oauth;
  const auto& b = new_cfg.ghl.oauth;
  if (a.client_id != b.client_id || a.client_secret.Reveal() != b.client_secret.Reveal() ||
      a.token_url != b.token_url || a.refresh_margin != b.refresh_margin) {
    changed.push_back("ghl.oauth");
  }
  if (old_cfg.ghl.base_url != new_cfg.ghl.base_url) changed.push_back("ghl.base_url");
  if (old_cfg.ghl.rate_limit.burst != new_cfg.ghl.rate_limit.burst ||
      old_cfg.ghl.rate_limit.daily != new_cfg.ghl.rate_limit.daily ||
      old_cfg.ghl.rate_limit.interval != new_cfg.ghl.rate_limit.interval) {
    changed.push_back("ghl.rate_limit");
  }
  return changed;
}

}  // namespace

App::App(std::filesystem::path config_path, std::shared_ptr<const config::Config> config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      notifier_(io_),
      work_(io_),
      budget_timer_(io_) {
  work_.on_change = [this](size_t n) { metrics_.in_flight.Set(static_cast<double>(n)); };
}

App::~App() = default;

std::string App::Summary() const {
  const std::string installed =
      installed_.empty() ? "" : fmt::format(" (+{} installed at run time)", installed_.size());
  return fmt::format("running: {} location(s){}, {} mapping(s)", config_->ghl.locations.size(),
                     installed, config_->mappings.size());
}

int App::Run() {
  ApplyLogging(config_->logging);
  spdlog::info("ghl-syncd {} ({}) starting with {}", kVersion, kCommit, config_path_.string());
  // A lock file left by an earlier start is tried first: a second daemon started with the
  // same configuration names the one in its way, not the port that one listens on.
  if (int code = LockState(state::StateLock::Mode::kIfPresent); code != 0) return code;
  // Then the listener: a port in use fails before the state file is touched. No request
  // is served before io_.run(), so nobody sees the store half-open.

  auto http =
      HttpServer::Start(io_, {.host = config_->http.listen.host, .port = config_->http.listen.port},
                        [this](const Request& req) { return Handle(req); });
  if (!http.ok()) {
    spdlog::error("{} (http.listen in {})", http.error().message, config_path_.string());
    return kExitFailure;
  }
  http_ = std::move(http).value();
  spdlog::info("http listener on {}:{} serving /metrics /healthz /readyz",
               config_->http.listen.host, http_->port());

  // No migration or dispatch before this process holds the state file.
  if (!state_lock_) {
    if (int code = LockState(state::StateLock::Mode::kCreate); code != 0) return code;
  }
  auto store =
      state::OpenSqlite({.path = config_->state.path, .busy_timeout = config_->state.busy_timeout});
  if (!store.ok()) {
    spdlog::error("{}", store.error().message);
    return kExitFailure;
  }
  store_ = std::move(store).value();
  if (int code = StartWebhooks(); code != 0) return code;

  LogLocations();
  StartGhlClient();
  ApplyInstalls();
  if (int code = StartSync(); code != 0) return code;
  metrics_.mappings_loaded.Set(static_cast<double>(config_->mappings.size()));
  metrics_.ready.Set(1);
  WaitForSignal();
  notifier_.Ready(Summary());
  if (auto interval = notifier_.StartWatchdog()) {
    spdlog::info("systemd watchdog: pinging every {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count());
  }
  spdlog::info("ready: {}", Summary());

  io_.run();

  webhooks_.reset();  // commits what it queued, before the store closes
  wake_ = nullptr;
  if (engine_) engine_->Stop();
  engine_.reset();
  gateway_.reset();
  SaveBudgets();
  ghl_.reset();
  curl_.reset();
  if (auto r = store_->Checkpoint(); !r.ok()) spdlog::warn("{}", r.error().message);
  if (auto r = store_->Close(); !r.ok()) spdlog::warn("{}", r.error().message);
  spdlog::info("stopped");
  return 0;
}

int App::LockState(state::StateLock::Mode mode) {
  auto lock = state::StateLock::Acquire(config_->state.path, mode);
  if (!lock.ok()) {
    spdlog::error("{} (state.path in {})", lock.error().message, config_path_.string());
    return kExitFailure;
  }
  state_lock_ = std::move(lock).value();
  return 0;
}

void App::LogLocations() const {
  for (const auto& loc : config_->ghl.locations) {
    spdlog::debug("location {} ({}): token {}", loc.id, loc.name, loc.token);
  }
}

void App::WaitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      Reload();
    } else {
      Shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    if (!io_.stopped()) WaitForSignal();
  });
}

void App::Reload() {
  if (stopping_) {
    spdlog::info("SIGHUP ignored: shutting down");
    return;
  }
  notifier_.Reloading();
  spdlog::info("SIGHUP: reloading {}", config_path_.string());
  auto loaded = config::Load(config_path_);
  if (!loaded.config) {
    for (const auto& d : loaded.errors) spdlog::error("config reload: {}", d.ToString());
    spdlog::error(
        "config reload failed with {} problem(s); still running on the previous "
        "configuration",
        loaded.errors.size());
    metrics_.reloads_failed.Increment();
    metrics_.last_reload_success.Set(0);
    notifier_.Status(Summary() + "; last reload FAILED, see log");
    return;
  }
  // Locations installed at run time that the file now lists are the file's from now on
  // (once this reload is accepted).
  std::shared_ptr<const config::Config> new_config = std::move(loaded.config);
  std::set<std::string> installed = installed_;
  for (const auto& loc : new_config->ghl.locations) installed.erase(loc.id);
  config::Diagnostics sync_errors;
  auto syncs = BuildSyncsFor(*new_config, installed, sync_errors);
  if (!sync_errors.empty()) {
    for (const auto& d : sync_errors) spdlog::error("config reload: {}", d.ToString());
    spdlog::error(
        "config reload failed with {} problem(s) in the mappings or connectors; still running "
        "the previous syncs",
        sync_errors.size());
    metrics_.reloads_failed.Increment();
    metrics_.last_reload_success.Set(0);
    notifier_.Status(Summary() + "; last reload FAILED, see log");
    return;
  }
  if (engine_) engine_->Replace(std::move(syncs));
  for (const auto& key : RestartOnlyChanges(*config_, *new_config)) {
    spdlog::warn("config reload: {} changed; it takes effect after a restart", key);
  }
  auto old_config = std::move(config_);
  config_ = std::move(new_config);
  installed_ = std::move(installed);
  ApplyLocations(*old_config);
  ApplyLogging(config_->logging);
  LogLocations();
  metrics_.reloads_ok.Increment();
  metrics_.last_reload_success.Set(1);
  metrics_.mappings_loaded.Set(static_cast<double>(config_->mappings.size()));
  spdlog::info("config reloaded: {}", Summary());
  notifier_.Status(Summary());
}

void App::Shutdown(const std::string& why) {
  if (stopping_) {
    spdlog::info("{}: already stopping", why);
    return;
  }
  stopping_ = true;
  metrics_.ready.Set(0);
  if (webhooks_) webhooks_->Refuse();  // 429 from now on: GHL retries after the restart
  const auto timeout = config_->daemon.drain_timeout;
  spdlog::info("{}: stopping; draining {} unit(s) of work in flight (timeout {})", why,
               work_.in_flight(), config::FormatDuration(timeout));
  notifier_.Stopping("stopping: draining in-flight work");
  work_.Drain(timeout, [this, timeout](bool drained, size_t left) {
    if (!drained) {
      spdlog::warn(
          "drain timeout ({}) passed with {} unit(s) unfinished; they are resumed "
          "from the state store at the next start",
          config::FormatDuration(timeout), left);
    }
    notifier_.StopWatchdog();
    budget_timer_.cancel();
    for (auto& [id, t] : probe_timers_) t->cancel();
    for (auto& [id, t] : install_timers_) t->cancel();
    if (http_) http_->Stop();
    if (webhooks_) webhooks_->Stop();
    // The worker finishes its round; GHL calls it still makes answer "retry" at once.
    if (gateway_) gateway_->Close();
    if (engine_) engine_->Stop();
    signals_.cancel();
    io_.stop();
  });
}

namespace {
constexpr auto kBudgetFlushInterval = std::chrono::seconds(5);
std::string BudgetResource(const std::string& location_id) { return "location/" + location_id; }
}  // namespace

void App::StartGhlClient() {
  const auto& g = config_->ghl;
  const ClientSetup setup = ClientSetupFor(g);
  curl_ = std::make_unique<ghl_client::CurlMulti>(io_, setup.curl);
  const ghl_client::ClientOptions& options = setup.options;
  ghl_ =
      std::make_unique<ghl_client::GhlClient>(io_, *curl_, clock_, options, &metrics_.registry());
  // `auth: oauth` locations share one OAuthSessions, kept alive by their token sources.
  auto& refreshes = prometheus::BuildCounter()
                        .Name("ghl_syncd_oauth_refreshes_total")
                        .Help(
                            "OAuth token refreshes by outcome (ok, retry, minted, adopted, "
                            "refused)")
                        .Register(metrics_.registry());
  oauth_ =
      OAuthSessionsFor(g, io_, *curl_, store_->db(), clock_, [&refreshes](const char* outcome) {
        refreshes.Add({{"outcome", outcome}}).Increment();
      });
  for (const auto& loc : g.locations) ServeLocation(loc.id, TokenSourceFor(loc, oauth_.get()));
  ScheduleBudgetFlush();
}

void App::ServeLocation(const std::string& location_id,
                        std::shared_ptr<ghl_client::TokenSource> tokens) {
  held_.erase(location_id);
  if (served_.insert(location_id).second) {
    ghl_->AddLocation(location_id, std::move(tokens));
    RestoreBudget(location_id);
  } else {
    ghl_->Resume(location_id, std::move(tokens));
  }
  location_problems_[location_id] = "not checked yet";
  ProbeLocation(location_id);
}

void App::ApplyLocations(const config::Config& old_cfg) {
  auto find = [](const config::Config& c, const std::string& id) -> const config::LocationConfig* {
    for (const auto& loc : c.ghl.locations) {
      if (loc.id == id) return &loc;
    }
    return nullptr;
  };
  for (const auto& loc : config_->ghl.locations) {
    const auto* before = find(old_cfg, loc.id);
    // A paused location is tried again (a reload may bring its fix), unless it is held
    // on purpose (the app was uninstalled there).
    const bool changed = before == nullptr || before->auth != loc.auth ||
                         before->token.Reveal() != loc.token.Reveal() ||
                         (ghl_->Status(loc.id).paused && held_.count(loc.id) == 0);
    if (!changed) continue;
    if (loc.auth == "oauth" && !oauth_) {
      spdlog::warn("config reload: location {} uses OAuth, which needs a restart to start", loc.id);
      continue;
    }
    spdlog::info("config reload: location {} {}", loc.id, before ? "updated" : "added");
    ServeLocation(loc.id, TokenSourceFor(loc, oauth_.get()));
  }
  for (const auto& loc : old_cfg.ghl.locations) {
    if (find(*config_, loc.id) != nullptr || installed_.count(loc.id) > 0) continue;
    spdlog::info("config reload: location {} removed; its state stays in the state file", loc.id);
    Hold(loc.id, "removed from the configuration");
  }
}

// One authenticated call per location at start: it proves the token works (readiness)
// and reads the custom field definitions that mappings resolve keys against. Retried
// every 30 s until it succeeds; a rejected token pauses only that location.
void App::ProbeLocation(const std::string& location_id) {
  ghl_->Call(location_id, ghl_client::Lane::kRealtime,
             {"customFields.list", "GET", "/locations/" + location_id + "/customFields?model=all"},
             [this, location_id](ghl_client::ApiResult r) {
               if (stopping_ || held_.count(location_id) > 0) return;
               if (r.outcome == ghl_client::Outcome::kOk) {
                 location_problems_[location_id].clear();
                 spdlog::info("location {}: GHL accepted the token", location_id);
                 return;
               }
               const std::string why = fmt::format("GHL check failed ({} {}): {}", r.status,
                                                   ghl_client::ToString(r.error), r.message);
               if (location_problems_[location_id] != why) {
                 spdlog::error("location {}: {}; retrying every 30s", location_id, why);
               }
               location_problems_[location_id] = why;
               // One timer per location, reused: retries must not pile up timers.
               auto& timer = probe_timers_[location_id];
               if (!timer) timer = std::make_unique<boost::asio::steady_timer>(io_);
               timer->expires_after(std::chrono::seconds(30));
               timer->async_wait([this, location_id](const boost::system::error_code& ec) {
                 // Not a location paused on purpose (uninstalled, removed).
                 if (ec || stopping_ || held_.count(location_id) > 0) return;
                 if (ghl_->Status(location_id).paused) ghl_->Resume(location_id);
                 ProbeLocation(location_id);
               });
             });
}

void App::RestoreBudget(const std::string& location_id) {
  state::RateBudgetStore budgets(store_->db());
  const auto now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now());
  auto stored = budgets.Load(BudgetResource(location_id));
  if (!stored.ok()) {
    spdlog::warn("cannot read the saved GHL budget of {}: {}", location_id, stored.error().message);
    return;
  }
  if (!stored->has_value()) return;
  ghl_->limiter(location_id)->RestoreDaily({(*stored)->day, (*stored)->used}, now);
  spdlog::info("location {}: {} GHL requests left today (restored)", location_id,
               ghl_->limiter(location_id)->DailyRemaining(now));
}

void App::SaveBudgets() {
  if (!ghl_ || !store_) return;
  state::RateBudgetStore budgets(store_->db());
  const std::string now = state::FormatUtcIso8601(clock_.Now());
  for (const auto& id : served_) {
    auto* limiter = ghl_->limiter(id);
    if (limiter == nullptr || limiter->daily_state().used == 0) continue;
    const auto d = limiter->daily_state();
    if (auto r = budgets.Save(BudgetResource(id), {d.day, d.used}, now); !r.ok()) {
      spdlog::warn("cannot save the GHL budget of {}: {}", id, r.error().message);
    }
  }
}

void App::ScheduleBudgetFlush() {
  budget_timer_.expires_after(kBudgetFlushInterval);
  budget_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    SaveBudgets();
    ScheduleBudgetFlush();
  });
}

int App::StartSync() {
  config::Diagnostics errors;
  auto syncs = BuildSyncsFor(*config_, installed_, errors);
  if (!errors.empty()) {
    for (const auto& d : errors) spdlog::error("{}", d.ToString());
    spdlog::error("{} problem(s) in the mappings or connectors; nothing was started",
                  errors.size());
    return kExitConfig;
  }
  gateway_ = std::make_unique<sync::LoopGateway>(io_, *ghl_);
  sync::EngineOptions options;
  options.state_path = config_->state.path;
  options.busy_timeout = config_->state.busy_timeout;
  options.audit_retention = config_->state.audit_retention;
  options.inbox_max_attempts = static_cast<int>(config_->webhooks.max_attempts);
  options.runner.create_settle_ms = config_->ghl.search_lag.count();
  if (oauth_) {
    // GHL's appId is the client id's part before the first '-' (FACTS §9, the SDK's check).
    const auto& client_id = config_->ghl.oauth.client_id;
    options.app_id = client_id.substr(0, client_id.find('-'));
    options.on_installs_changed = [this] { boost::asio::post(io_, [this] { ApplyInstalls(); }); };
  }
  engine_ = std::make_unique<sync::Engine>(clock_, *gateway_, &metrics_.registry(), options);
  if (auto started = engine_->Start(std::move(syncs)); !started.ok()) {
    spdlog::error("sync engine: {}", started.error().message);
    return kExitFailure;
  }
  wake_ = engine_.get();
  return 0;
}

int App::StartWebhooks() {
  const auto& cfg = config_->webhooks;
  if (!cfg.enabled) return 0;
  auto options = WebhookOptionsFromConfig(cfg, config_->state.path);
  if (!options.ok()) {
    spdlog::error("{} (in {})", options.error().message, config_path_.string());
    return kExitConfig;
  }
  options->begin_work = [this]() -> std::shared_ptr<void> {
    auto token = work_.Begin();
    if (!token) return nullptr;
    return std::make_shared<WorkTracker::Token>(std::move(*token));
  };
  options->on_stored = [this] {
    if (auto* engine = wake_.load()) engine->Wake();
  };
  auto ingress =
      WebhookIngress::Start(io_, std::move(options).value(), clock_, metrics_.registry());
  if (!ingress.ok()) {
    spdlog::error("{} (webhooks.listen in {})", ingress.error().message, config_path_.string());
    return kExitFailure;
  }
  webhooks_ = std::move(ingress).value();
  spdlog::info("webhook listener on {}:{} serving POST {}", cfg.listen.host, webhooks_->port(),
               cfg.path);
  return 0;
}

bool App::Ready(std::string* why) const {
  if (stopping_) *why += "stopping\n";
  if (!store_) *why += "state store not open\n";
  for (const auto& [id, problem] : location_problems_) {
    if (!problem.empty()) *why += "location " + id + ": " + problem + "\n";
  }
  return why->empty();
}

Response App::Handle(const Request& req) {
  const std::string target(req.target().substr(0, req.target().find('?')));
  const bool known = target == "/metrics" || target == "/healthz" || target == "/readyz";
  if (!known) return http_server::TextResponse(req, http::status::not_found, "not found\n");
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = http_server::TextResponse(req, http::status::method_not_allowed, "use GET\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (target == "/metrics") {
    return http_server::TextResponse(req, http::status::ok, metrics_.Serialize(),
                                     "text/plain; version=0.0.4; charset=utf-8");
  }
  if (target == "/healthz") return http_server::TextResponse(req, http::status::ok, "ok\n");
  std::string why;
  if (Ready(&why)) return http_server::TextResponse(req, http::status::ok, "ready\n");
  return http_server::TextResponse(req, http::status::service_unavailable, "not ready:\n" + why);
}

}  // namespace ghl::daemon
