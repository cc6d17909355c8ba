// App: the GHL Marketplace app's INSTALL / UNINSTALL webhooks at run time.
//
// The sync engine records each event in the app_installs table (state/app_installs.h) in
// the transaction that marks its inbox row done, then asks for ApplyInstalls, which brings
// the daemon in line with the table. It runs at start too, so an event recorded just
// before a crash is acted on after it. Acting twice on a row does no harm:
//   INSTALL of a location not in ghl-syncd.yaml: a location token is minted from the stored
//     agency token of its company (unless one is stored), the location is handed to the
//     GHL client and served by every mapping without `locations:`. A failure (no agency
//     token yet) is reported on /readyz and retried every 30 s.
//   INSTALL of a configured `auth: oauth` location: its token is minted when none is
//     stored, and a pause (an earlier UNINSTALL) is lifted.
//   UNINSTALL: the tokens stored before the event are forgotten (a later `ghl-syncd auth`
//     keeps its own); a location installed at run time stops being served; a configured
//     one is paused and reported until the app is installed there again. Links and sync
//     state stay in the state file.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/app.h"
#include "daemon/auth_command.h"
#include "state/migrations.h"
#include "state/oauth_tokens.h"

namespace ghl::daemon {
namespace {

constexpr auto kInstallRetry = std::chrono::seconds(30);

const config::LocationConfig* Configured(const config::Config& config, const std::string& id) {
  for (const auto& loc : config.ghl.locations) {
    if (loc.id == id) return &loc;
  }
  return nullptr;
}

// True (and said) for a configured location with a Private Integration Token, which the
// app's installs do not concern.
bool ServedWithToken(const config::LocationConfig* configured, const char* event) {
  if (configured == nullptr || configured->auth == "oauth") return false;
  spdlog::info("{} of location {}: it is served with a Private Integration Token; nothing to do",
               event, configured->id);
  return true;
}

}  // namespace

std::vector<sync::SyncSetup> App::BuildSyncsFor(const config::Config& config,
                                                const std::set<std::string>& installed,
                                                config::Diagnostics& errors) const {
  return sync::BuildSyncs(config, errors, config::ProcessEnv(),
                          std::vector<std::string>(installed.begin(), installed.end()));
}

void App::Hold(const std::string& location_id, const std::string& why) {
  held_.insert(location_id);
  ghl_->Pause(location_id, why);
  location_problems_.erase(location_id);
  if (auto it = probe_timers_.find(location_id); it != probe_timers_.end()) it->second->cancel();
}

void App::RebuildSyncs() {
  if (!engine_) return;  // at start, StartSync builds them with the installed locations
  config::Diagnostics errors;
  auto syncs = BuildSyncsFor(*config_, installed_, errors);
  if (!errors.empty()) {
    for (const auto& d : errors) spdlog::error("{}", d.ToString());
    spdlog::error(
        "the syncs were not rebuilt for the installed locations; still running the "
        "previous ones");
    return;
  }
  engine_->Replace(std::move(syncs));
  notifier_.Status(Summary());
}

void App::ApplyInstalls() {
  if (stopping_ || !store_ || !ghl_) return;
  auto rows = state::AppInstallStore(store_->db()).All();
  if (!rows.ok()) {
    spdlog::error(
        "cannot read the app installs from the state file: {}; tried again at the "
        "next INSTALL or UNINSTALL webhook and at the next start",
        rows.error().message);
    return;
  }
  bool removed = false;
  for (const auto& row : *rows) {
    const std::pair<int64_t, bool> seen{row.event_at_ms, row.installed};
    auto it = applied_.find(row.resource);
    if (it != applied_.end() && it->second == seen) continue;
    applied_[row.resource] = seen;
    if (!row.location) {
      if (!row.installed) {
        spdlog::info("UNINSTALL of company {}: the app was removed from the agency", row.resource);
        ForgetTokens(row.resource, row.event_at_ms);
      } else {
        spdlog::info("INSTALL of company {}: its locations' INSTALL webhooks add them",
                     row.resource);
      }
      continue;
    }
    if (row.installed) {
      Install(row);
    } else {
      removed = Uninstall(row) || removed;
    }
  }
  if (removed) RebuildSyncs();
}

void App::Install(const state::AppInstall& row) {
  const std::string id = row.resource;
  const auto* configured = Configured(*config_, id);
  if (ServedWithToken(configured, "INSTALL")) return;
  if (!oauth_) return;  // the engine records none without an app
  if (configured == nullptr && !config_->ghl.oauth.follow_installs) {
    spdlog::info("INSTALL of location {}: not added, ghl.oauth.follow_installs is off", id);
    return;
  }
  const std::pair<int64_t, bool> seen{row.event_at_ms, row.installed};
  oauth_->OnInstall(id, row.company_id, [this, row, seen](auto source) {
    const std::string& id = row.resource;
    if (stopping_) return;
    if (applied_[id] != seen) {
      // An UNINSTALL came while the token was minted: the token must not outlive it.
      if (source.ok() && !applied_[id].second) (void)oauth_->OnUninstall(id);
      return;
    }
    // The configuration may have changed while the token was minted.
    const auto* configured = Configured(*config_, id);
    if (configured != nullptr && configured->auth != "oauth") return;
    if (configured == nullptr && !config_->ghl.oauth.follow_installs) return;
    if (!source.ok()) {
      const std::string why = "INSTALL webhook: " + source.error().message;
      if (install_problems_[id] != why) {
        spdlog::error("location {}: {}; retrying every {}s", id, why, kInstallRetry.count());
      }
      install_problems_[id] = why;
      // A configured location is expected to work: readiness says why it does not. One
      // this daemon was never told to serve (another agency's install, say) does not
      // make it unready.
      if (configured != nullptr) location_problems_[id] = why;
      auto& timer = install_timers_[id];
      if (!timer) timer = std::make_unique<boost::asio::steady_timer>(io_);
      timer->expires_after(kInstallRetry);
      timer->async_wait([this, row, seen](const boost::system::error_code& ec) {
        if (ec || stopping_ || applied_[row.resource] != seen) return;
        Install(row);
      });
      return;
    }
    install_problems_.erase(id);
    const bool added = configured == nullptr && installed_.insert(id).second;
    spdlog::info(
        "location {}: the app is installed there (INSTALL webhook of {}); {}", id,
        state::FormatUtcIso8601(Clock::TimePoint(std::chrono::milliseconds(seen.first))),
        configured != nullptr ? "serving it" : "served by every mapping without locations:");
    ServeLocation(id, std::move(source).value());
    if (added) RebuildSyncs();
  });
}

bool App::Uninstall(const state::AppInstall& row) {
  const std::string& id = row.resource;
  const auto* configured = Configured(*config_, id);
  if (ServedWithToken(configured, "UNINSTALL")) return false;
  const bool reauthorized = ForgetTokens(id, row.event_at_ms);
  if (auto it = install_timers_.find(id); it != install_timers_.end()) it->second->cancel();
  install_problems_.erase(id);
  if (reauthorized) {
    spdlog::info(
        "location {}: `ghl-syncd auth` stored new tokens after the UNINSTALL webhook; "
        "it stays served",
        id);
    return false;
  }
  if (served_.count(id) == 0) {
    if (configured == nullptr) location_problems_.erase(id);  // an install that never worked
    return false;
  }
  const std::string why = "the app was uninstalled from this location (UNINSTALL webhook)";
  Hold(id, why);
  if (installed_.erase(id) > 0) {
    spdlog::info(
        "location {}: the app is uninstalled (UNINSTALL webhook); no longer served, its links "
        "stay in the state file",
        id);
    return true;
  }
  location_problems_[id] = fmt::format("{}; install it again, or remove the location from {}", why,
                                       config_path_.string());
  spdlog::error("location {}: {}", id, location_problems_[id]);
  return false;
}

bool App::ForgetTokens(const std::string& resource, int64_t event_at_ms) {
  if (!oauth_) return false;
  auto stored = state::OAuthTokenStore(store_->db()).Load(resource);
  if (!stored.ok()) {
    spdlog::error("{}: cannot read its OAuth tokens: {}", resource, stored.error().message);
    return false;
  }
  if (!stored->has_value()) return false;
  if ((*stored)->updated_at_ms > event_at_ms) return true;
  if (auto r = oauth_->OnUninstall(resource); !r.ok()) {
    spdlog::error("{}: forgetting its OAuth tokens failed: {}", resource, r.error().message);
    return false;
  }
  spdlog::info("{}: its OAuth tokens are forgotten", resource);
  return false;
}

}  // namespace ghl::daemon
