#include "daemon/auth_command.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <map>
#include <set>

#include "connectors/ghl/oauth_wire.h"
#include "core/http_server.h"
#include "core/log.h"
#include "state/sqlite_state_store.h"

namespace ghl::daemon {
namespace {

using ghl_client::Installed;
using http_server::HttpServer;
using http_server::Responder;
namespace http = http_server::http;

// Where GHL's redirect lands: the port and path of the redirect URI.
struct Redirect {
  std::string host;
  int port = 80;
  std::string path = "/";
};

std::optional<Redirect> ParseRedirect(const std::string& uri) {
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  Redirect r;
  if (uri.compare(0, scheme, "https") == 0) r.port = 443;
  const size_t authority = scheme + 3;
  const size_t slash = uri.find_first_of("/?#", authority);
  std::string hostport = uri.substr(authority, slash - authority);
  if (slash != std::string::npos && uri[slash] == '/') {
    r.path = uri.substr(slash, uri.find_first_of("?#", slash) - slash);
  }
  const size_t colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
    try {
      r.port = std::stoi(hostport.substr(colon + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    hostport.resize(colon);
  }
  r.host = hostport;
  if (r.host.empty() || r.port < 0 || r.port > 65535) return std::nullopt;
  return r;
}

std::string Unescape(std::string_view s) {
  std::string plus(s);
  for (auto& c : plus) c = c == '+' ? ' ' : c;
  int length = 0;
  std::unique_ptr<char, decltype(&curl_free)> out(
      curl_easy_unescape(nullptr, plus.data(), static_cast<int>(plus.size()), &length), &curl_free);
  return out ? std::string(out.get(), static_cast<size_t>(length)) : std::string();
}

std::map<std::string, std::string> ParseQuery(std::string_view target) {
  std::map<std::string, std::string> out;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    out[Unescape(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : Unescape(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return out;
}

std::string Describe(const Installed& installed) {
  const auto& t = installed.tokens;
  if (t.user_type == state::OAuthUserType::kCompany) {
    return fmt::format("company {} (agency token); scopes: {}", t.resource, t.scopes);
  }
  return fmt::format("location {}{}; scopes: {}", t.resource,
                     t.company_id.empty() ? "" : " of company " + t.company_id, t.scopes);
}

// One run of `ghl-syncd auth` on its own event loop.
class AuthRun {
  // The browser's request, answered once the code is exchanged.
  using Browser = std::shared_ptr<std::pair<http_server::Request, std::shared_ptr<Responder>>>;

 public:
  AuthRun(const config::Config& config, const AuthCommandOptions& options, std::ostream& out,
          std::ostream& err, state::sqlite::Db& db)
      : config_(config),
        options_(options),
        out_(out),
        err_(err),
        db_(db),
        sessions_(
            ghl_client::OAuthSessions::Create(io_, curl_, db, clock_, OAuthOptionsFor(config.ghl))),
        timer_(io_) {}

  int Run() {
    if (!options_.code.empty()) {
      Exchange(options_.code, nullptr);
    } else if (!Listen()) {
      return 1;
    }
    io_.run();
    return exit_code_;
  }

 private:
  bool Listen() {
    const auto& oauth = config_.ghl.oauth;
    auto redirect = ParseRedirect(oauth.redirect_uri);
    if (!redirect) {
      err_ << "ghl.oauth.redirect_uri '" << oauth.redirect_uri << "' has no usable host and port\n";
      return false;
    }
    const int port = options_.port >= 0 ? options_.port : redirect->port;
    auto server = HttpServer::StartAsync(
        io_, {.host = "127.0.0.1", .port = static_cast<uint16_t>(port)},
        [this, path = redirect->path](http_server::Request&& req, std::shared_ptr<Responder> res) {
          OnRequest(path, std::move(req), std::move(res));
        });
    if (!server.ok()) {
      err_ << server.error().message << " (the port of ghl.oauth.redirect_uri, or --port)\n";
      return false;
    }
    server_ = std::move(server).value();
    out_ << "Open this URL in a browser and choose what to install the app on:\n\n  "
         << AuthorizationUrl(oauth) << "\n\n"
         << "Waiting for GHL's redirect on http://127.0.0.1:" << server_->port() << redirect->path
         << " (gives up after " << options_.timeout.count() << " s).\n";
    if (redirect->host != "127.0.0.1" && redirect->host != "localhost") {
      out_ << "GHL sends the browser to " << oauth.redirect_uri << ": forward that to this port, "
           << "or copy the code= value from the browser's address bar and run "
              "`ghl-syncd auth --code CODE`.\n";
    }
    out_.flush();
    timer_.expires_after(options_.timeout);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      err_ << "no redirect from GHL within " << options_.timeout.count() << " s; nothing stored\n";
      Stop(1);
    });
    return true;
  }

  void OnRequest(const std::string& path, http_server::Request&& req,
                 std::shared_ptr<Responder> res) {
    const std::string target(req.target());
    if (target.substr(0, target.find('?')) != path) {
      return res->Send(http_server::TextResponse(req, http::status::not_found, "not found\n"));
    }
    auto query = ParseQuery(target);
    if (busy_) {
      return res->Send(http_server::TextResponse(req, http::status::conflict,
                                                 "ghl-syncd is already exchanging a code\n"));
    }
    if (query["code"].empty()) {
      const std::string why = query["error"].empty()
                                  ? "the redirect carries no code"
                                  : query["error"] + " " + query["error_description"];
      err_ << "GHL's redirect did not authorize the app: " << why << "\n";
      res->Send(http_server::TextResponse(req, http::status::bad_request,
                                          "ghl-syncd: not authorized: " + why + "\n"));
      return Stop(1);
    }
    Exchange(query["code"],
             std::make_shared<Browser::element_type>(std::move(req), std::move(res)));
  }

  void Exchange(const std::string& code, Browser browser) {
    busy_ = true;
    sessions_->ExchangeCode(code, options_.user_type, [this, browser](Result<Installed> r) {
      if (!r.ok()) {
        err_ << r.error().message << "\n";
        if (browser) {
          browser->second->Send(http_server::TextResponse(
              browser->first, http::status::bad_gateway, "ghl-syncd: " + r.error().message + "\n"));
        }
        return Stop(1);
      }
      out_ << "Installed: " << Describe(*r) << "\n";
      out_.flush();
      if (browser) {
        browser->second->Send(http_server::TextResponse(
            browser->first, http::status::ok,
            "ghl-syncd: installed for " + Describe(*r) +
                ". You can close this tab; the terminal shows the rest.\n"));
      }
      exit_code_ = 0;
      MintNext(r->tokens.resource, r->approved_locations);
    });
  }

  // An agency install: a location token for each approved location, one at a time.
  void MintNext(const std::string& company, std::vector<std::string> locations) {
    if (locations.empty()) return Finish();
    const std::string location = locations.back();
    locations.pop_back();
    sessions_->MintLocationToken(
        company, location, [this, company, location, rest = std::move(locations)](auto r) mutable {
          if (r.ok()) {
            out_ << "  location " << location << ": location token stored\n";
          } else {
            out_ << "  location " << location << ": no token: " << r.error().message << "\n";
            exit_code_ = 1;
          }
          MintNext(company, std::move(rest));
        });
  }

  void Finish() {
    out_ << "Tokens stored in " << config_.state.path.string() << ".\n";
    std::set<std::string> stored;
    if (auto all = state::OAuthTokenStore(db_).LoadAll(); all.ok()) {
      for (const auto& t : *all) stored.insert(t.resource);
    }
    for (const auto& loc : config_.ghl.locations) {
      if (loc.auth == "oauth" && !stored.count(loc.id)) {
        out_ << "Note: location " << loc.id << " has `auth: oauth` but no tokens yet.\n";
      }
    }
    out_ << "A running ghl-syncd adopts renewed tokens by itself; locations new to its "
            "configuration need a restart.\n";
    Stop(exit_code_);
  }

  // Stops after a moment, so that the browser gets its page.
  void Stop(int code) {
    exit_code_ = code;
    timer_.expires_after(std::chrono::milliseconds(200));
    timer_.async_wait([this](const boost::system::error_code&) {
      if (server_) server_->Stop();
      io_.stop();
    });
  }

  const config::Config& config_;
  const AuthCommandOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  state::sqlite::Db& db_;
  boost::asio::io_context io_;
  ghl_client::CurlMulti curl_{io_, {}};
  SystemClock clock_;
  std::shared_ptr<ghl_client::OAuthSessions> sessions_;
  std::unique_ptr<HttpServer> server_;
  boost::asio::steady_timer timer_;
  bool busy_ = false;
  int exit_code_ = 1;
};

}  // namespace

ghl_client::OAuthOptions OAuthOptionsFor(const config::GhlConfig& ghl) {
  ghl_client::OAuthOptions o;
  o.client_id = ghl.oauth.client_id;
  o.client_secret = ghl.oauth.client_secret;
  o.token_url = ghl.oauth.token_url.empty() ? ghl.base_url + "/oauth/token" : ghl.oauth.token_url;
  o.location_token_url = ghl.base_url + "/oauth/locationToken";
  o.redirect_uri = ghl.oauth.redirect_uri;
  o.refresh_margin = ghl.oauth.refresh_margin;
  o.timeout = ghl.request_timeout;
  return o;
}

std::string AuthorizationUrl(const config::OAuthConfig& oauth) {
  std::string scopes;
  for (const auto& s : oauth.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  return oauth.authorize_url + "?" +
         ghl_client::oauth_wire::FormEncode({{"response_type", "code"},
                                             {"redirect_uri", oauth.redirect_uri},
                                             {"client_id", oauth.client_id},
                                             {"scope", scopes}});
}

std::shared_ptr<ghl_client::TokenSource> TokenSourceFor(const config::LocationConfig& location,
                                                        ghl_client::OAuthSessions* sessions) {
  if (location.auth != "oauth") {
    return std::make_shared<ghl_client::StaticToken>(location.token.Reveal());
  }
  auto source = sessions->Source(location.id);
  source->Start();
  return source;
}

std::shared_ptr<ghl_client::OAuthSessions> OAuthSessionsFor(
    const config::GhlConfig& ghl, boost::asio::io_context& io, ghl_client::CurlMulti& curl,
    state::sqlite::Db& db, const Clock& clock,
    std::function<void(const char* outcome)> on_refresh) {
  if (ghl.oauth.client_id.empty()) return nullptr;
  auto options = OAuthOptionsFor(ghl);
  options.on_refresh = std::move(on_refresh);
  return ghl_client::OAuthSessions::Create(io, curl, db, clock, std::move(options));
}

void AddAuthCommand(CLI::App& cli, std::string& config_path, AuthCommandOptions& options) {
  auto* auth = cli.add_subcommand(
      "auth", "Authorize the GHL Marketplace app (OAuth) and store its tokens in the state file");
  auth->add_option("-c,--config", config_path, "Configuration file (env GHL_SYNCD_CONFIG)")
      ->capture_default_str();
  auth->add_option("--code", options.code,
                   "Exchange this authorization code (the code= of GHL's redirect) instead of "
                   "waiting for the redirect");
  auth->add_option("--port", options.port,
                   "Listen for the redirect on this port of 127.0.0.1 instead of the redirect "
                   "URI's (0: any free port)")
      ->check(CLI::Range(0, 65535));
  auth->add_option("--user-type", options.user_type,
                   "Ask for a Company (agency) or Location token; default: as installed")
      ->check(CLI::IsMember({"Company", "Location"}));
  auth->add_option_function<int>(
          "--timeout", [&options](int s) { options.timeout = std::chrono::seconds(s); },
          "Seconds to wait for the redirect (default 600)")
      ->check(CLI::Range(1, 86'400));
  options.command = auth;
}

int RunAuthCommandIfParsed(const AuthCommandOptions& options, const std::string& config_path) {
  if (options.command == nullptr || !options.command->parsed()) return -1;
  auto loaded = config::Load(config_path);
  for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
  if (!loaded.config) {
    std::cerr << loaded.errors.size() << " problem(s) found in the configuration; fix them and "
              << "run `ghl-syncd check --config " << config_path << "`.\n";
    return 78;
  }
  log::Setup(*log::ParseLevel(loaded.config->logging.level), log::Format::kText);
  return RunAuthCommand(*loaded.config, options, std::cout, std::cerr);
}

int RunAuthCommand(const config::Config& config, const AuthCommandOptions& options,
                   std::ostream& out, std::ostream& err) {
  if (config.ghl.oauth.client_id.empty()) {
    err << config.source.string()
        << ": ghl.oauth.client_id is not set; add the Marketplace app's client_id and "
           "client_secret under ghl.oauth\n";
    return 78;
  }
  auto store =
      state::OpenSqlite({.path = config.state.path, .busy_timeout = config.state.busy_timeout});
  if (!store.ok()) {
    err << store.error().message << "\n";
    return 1;
  }
  const int code = AuthRun(config, options, out, err, (*store)->db()).Run();
  if (auto closed = (*store)->Close(); !closed.ok()) err << closed.error().message << "\n";
  return code;
}

}  // namespace ghl::daemon
