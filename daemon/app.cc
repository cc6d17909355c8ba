#include "daemon/app.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "core/log.h"
#include "daemon/version.h"
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
  if (!(old_cfg.http.listen == new_cfg.http.listen)) changed.push_back("http.listen");
  return changed;
}

}  // namespace

App::App(std::filesystem::path config_path, std::shared_ptr<const config::Config> config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      notifier_(io_),
      work_(io_) {
  work_.on_change = [this](size_t n) { metrics_.in_flight.Set(static_cast<double>(n)); };
}

App::~App() = default;

std::string App::Summary() const {
  return fmt::format("running: {} location(s), {} mapping(s)", config_->ghl.locations.size(),
                     config_->mappings.size());
}

int App::Run() {
  ApplyLogging(config_->logging);
  spdlog::info("ghl-syncd {} ({}) starting with {}", kVersion, kCommit, config_path_.string());
  // The listener first: a port in use fails before the state file is touched. No request
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

  auto store =
      state::OpenSqlite({.path = config_->state.path, .busy_timeout = config_->state.busy_timeout});
  if (!store.ok()) {
    spdlog::error("{}", store.error().message);
    return kExitFailure;
  }
  store_ = std::move(store).value();

  LogLocations();
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

  if (auto r = store_->Checkpoint(); !r.ok()) spdlog::warn("{}", r.error().message);
  if (auto r = store_->Close(); !r.ok()) spdlog::warn("{}", r.error().message);
  spdlog::info("stopped");
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
  for (const auto& key : RestartOnlyChanges(*config_, *loaded.config)) {
    spdlog::warn("config reload: {} changed; it takes effect after a restart", key);
  }
  config_ = std::move(loaded.config);
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
    if (http_) http_->Stop();
    signals_.cancel();
    io_.stop();
  });
}

bool App::Ready(std::string* why) const {
  if (stopping_) *why += "stopping\n";
  if (!store_) *why += "state store not open\n";
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
