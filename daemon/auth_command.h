// OAuth in the daemon: the `ghl-syncd auth` command, and the token sources `run` hands to
// the GHL client (connectors/ghl/oauth.h has the refresh protocol).
//
// `ghl-syncd auth` installs the Marketplace app's tokens into the state store:
//   - without --code it prints the authorization URL (ghl.oauth.authorize_url with
//     client_id, redirect_uri and scope), listens on 127.0.0.1 at the redirect URI's port
//     (or --port, when a proxy or tunnel forwards the redirect) for GHL's redirect, and
//     exchanges the code it brings;
//   - with --code CODE (headless) it exchanges that code at once.
// An agency (Company) install also mints and stores a location token for every location
// the install approved. It prints what was installed (company and location ids, scopes),
// never a token. Running it again replaces the tokens of what it installs, which is how a
// pair lost to a crash mid-refresh is replaced; a running daemon adopts them by itself.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "config/config.h"
#include "connectors/ghl/oauth.h"

namespace ghl::daemon {

struct AuthCommandOptions {
  CLI::App* command = nullptr;        // set by AddAuthCommand
  std::string code;                   // empty: wait for GHL's redirect
  std::string user_type;              // "Company", "Location", or empty: the install decides
  int port = -1;                      // listen port; -1: the redirect URI's
  std::chrono::seconds timeout{600};  // how long to wait for the redirect
};

// Adds `auth` to `cli`; `config_path` is the shared --config option's target.
void AddAuthCommand(CLI::App& cli, std::string& config_path, AuthCommandOptions& options);
// Loads the configuration and runs `auth` if it was parsed; returns the exit code, or -1
// when it was not.
int RunAuthCommandIfParsed(const AuthCommandOptions& options, const std::string& config_path);

// Runs `ghl-syncd auth`; returns the process exit code (0, 1, or 78 for configuration).
int RunAuthCommand(const config::Config& config, const AuthCommandOptions& options,
                   std::ostream& out, std::ostream& err);

// The OAuth options of `ghl`: the token endpoints under ghl.base_url unless
// ghl.oauth.token_url says otherwise.
ghl_client::OAuthOptions OAuthOptionsFor(const config::GhlConfig& ghl);

// The consent page URL: authorize_url?response_type=code&redirect_uri=..&client_id=..&scope=..
std::string AuthorizationUrl(const config::OAuthConfig& oauth);

// The token source of one configured location: its Private Integration Token, or (with
// `auth: oauth`) its started OAuth source from `sessions`, which must then not be null.
std::shared_ptr<ghl_client::TokenSource> TokenSourceFor(const config::LocationConfig& location,
                                                        ghl_client::OAuthSessions* sessions);

// The sessions `run` needs: null unless ghl.oauth.client_id is set (the configuration
// requires it for `auth: oauth`). INSTALL webhooks need them even before any location has
// OAuth tokens. Every source keeps them alive; `curl`, `db` and `clock` must outlive them.
// `on_refresh`: see ghl_client::OAuthOptions (the daemon counts them in a metric).
std::shared_ptr<ghl_client::OAuthSessions> OAuthSessionsFor(
    const config::GhlConfig& ghl, boost::asio::io_context& io, ghl_client::CurlMulti& curl,
    state::sqlite::Db& db, const Clock& clock,
    std::function<void(const char* outcome)> on_refresh = {});

}  // namespace ghl::daemon
