#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/log.h"

namespace ghl::config {
namespace {

using std::chrono::milliseconds;

const Table<LocationConfig>& LocationTable() {
  static const Table<LocationConfig> table(
      {
          fields::String("id", &LocationConfig::id, "GHL location (sub-account) id.").Required(),
          fields::String("name", &LocationConfig::name,
                         "A label for logs and metrics; defaults to the id.", true),
          fields::Enum("auth", &LocationConfig::auth, {"token", "oauth"},
                       "`token`: the Private Integration Token below. `oauth`: the Marketplace "
                       "app's tokens, installed with `ghl-syncd auth` (see `ghl.oauth`)."),
          fields::SecretValue("token", &LocationConfig::token,
                              "Private Integration Token of this sub-account; required with "
                              "`auth: token`. Use `${ENV_VAR}` or `token_file:` (e.g. a systemd "
                              "credential), never a literal in a shared file."),
      },
      [](LocationConfig& loc, const YAML::Node& node, Context& ctx) {
        if (loc.auth == "token" && loc.token.empty() && !node["token"] && !node["token_file"]) {
          ctx.Error(node, "missing required key 'token' (or 'token_file'), or set 'auth: oauth'");
        }
        if (loc.auth == "oauth" && (node["token"] || node["token_file"])) {
          ctx.Error(node["token"] ? node["token"] : node["token_file"],
                    "a token is not used with 'auth: oauth'; remove it or set 'auth: token'");
        }
      });
  return table;
}

const Table<OAuthConfig>& OAuthTable() {
  static const Table<OAuthConfig> table(
      {
          fields::String("client_id", &OAuthConfig::client_id,
                         "The Marketplace app's client id; required when a location has "
                         "`auth: oauth`."),
          fields::SecretValue("client_secret", &OAuthConfig::client_secret,
                              "The app's client secret; required with `client_id`. Use "
                              "`${ENV_VAR}` or `client_secret_file:`."),
          fields::String("redirect_uri", &OAuthConfig::redirect_uri,
                         "The redirect URI registered with the app. `ghl-syncd auth` listens "
                         "on its port on 127.0.0.1 (or on `--port`) for GHL's redirect."),
          fields::StringList("scopes", &OAuthConfig::scopes,
                             "Scopes asked for in the authorization URL (the app's settings "
                             "must list them too)."),
          fields::Duration("refresh_margin", &OAuthConfig::refresh_margin, milliseconds(0),
                           milliseconds(43'200'000),
                           "Refresh an access token this long before it expires (at most "
                           "half its lifetime before)."),
          fields::Url("authorize_url", &OAuthConfig::authorize_url,
                      "GHL's consent page (white-label: "
                      "`https://marketplace.leadconnectorhq.com/v2/oauth/chooselocation`)."),
          fields::Url("token_url", &OAuthConfig::token_url,
                      "GHL's token endpoint; empty means `<ghl.base_url>/oauth/token`."),
          fields::Bool("follow_installs", &OAuthConfig::follow_installs,
                       "An INSTALL webhook of this app adds its location at run time (a "
                       "token minted from the stored agency token), served by every mapping "
                       "without `locations:`; UNINSTALL removes it. Off: such webhooks are "
                       "logged and skipped."),
      },
      [](OAuthConfig& o, const YAML::Node& node, Context& ctx) {
        const auto& uri = o.redirect_uri;
        if (uri.rfind("http://", 0) != 0 && uri.rfind("https://", 0) != 0) {
          auto scope = ctx.Enter(".redirect_uri");
          ctx.Error(node["redirect_uri"] ? node["redirect_uri"] : node,
                    "expected an http:// or https:// URL, got '" + uri + "'");
        }
        if (!o.client_id.empty() && o.client_secret.empty() && !node["client_secret"] &&
            !node["client_secret_file"]) {
          ctx.Error(node, "missing required key 'client_secret' (or 'client_secret_file')");
        }
      });
  return table;
}

const Table<RateLimitConfig>& RateLimitTable() {
  static const Table<RateLimitConfig> table({
      fields::Int("burst", &RateLimitConfig::burst, 1, 100'000,
                  "Requests GHL allows per location in any window of `interval` (sandbox and "
                  "trial accounts: 25)."),
      fields::Duration("interval", &RateLimitConfig::interval, milliseconds(100),
                       milliseconds(3'600'000), "GHL's burst window."),
      fields::Int("daily", &RateLimitConfig::daily, 1, 100'000'000,
                  "Requests GHL allows per location per UTC day (sandbox: 10000)."),
      fields::Int("burst_margin", &RateLimitConfig::burst_margin, 0, 50,
                  "Stay this many requests under `burst`."),
      fields::Duration("window_margin", &RateLimitConfig::window_margin, milliseconds(0),
                       milliseconds(10'000),
                       "Count the window this much longer than GHL does, to absorb clock skew "
                       "and differences in network latency."),
      fields::Int("realtime_reserve_percent", &RateLimitConfig::realtime_reserve_percent, 0, 100,
                  "Share of the daily budget only real-time changes may use, so a backfill "
                  "cannot starve them."),
  });
  return table;
}

const Table<GhlConfig>& GhlTable() {
  static const Table<GhlConfig> table(
      {
          fields::Url("base_url", &GhlConfig::base_url,
                      "GHL API base URL; point it at `ghl-emulator` to try things out."),
          fields::Duration("request_timeout", &GhlConfig::request_timeout, milliseconds(100),
                           milliseconds(600'000), "Timeout of one GHL API request."),
          fields::Duration("search_lag", &GhlConfig::search_lag, milliseconds(0),
                           milliseconds(600'000),
                           "How long GHL's search may take to show a write. An opportunity "
                           "create whose answer was lost is read back (by its contact, "
                           "pipeline and name) no sooner than this after the attempt, so that "
                           "it is not created twice."),
          fields::Int("max_in_flight_per_location", &GhlConfig::max_in_flight_per_location, 1, 64,
                      "Concurrent requests per location."),
          fields::Section("rate_limit", &GhlConfig::rate_limit, RateLimitTable(),
                          "GHL's limits as this daemon enforces them on itself."),
          fields::Section("oauth", &GhlConfig::oauth, OAuthTable(),
                          "The Marketplace app, for locations with `auth: oauth`."),
          fields::List("locations", &GhlConfig::locations, LocationTable(),
                       "The sub-accounts this daemon serves.")
              .Required(),
      },
      [](const GhlConfig& ghl, const YAML::Node& node, Context& ctx) {
        std::set<std::string> ids;
        for (size_t i = 0; i < ghl.locations.size(); ++i) {
          const auto& id = ghl.locations[i].id;
          if (!id.empty() && !ids.insert(id).second) {
            auto scope = ctx.Enter(".locations[" + std::to_string(i) + "].id");
            ctx.Error(node["locations"][i]["id"], "location '" + id + "' is listed twice");
          }
        }
        if (node["locations"] && node["locations"].IsSequence() && ghl.locations.empty()) {
          auto scope = ctx.Enter(".locations");
          ctx.Error(node["locations"], "at least one location is needed");
        }
        for (size_t i = 0; i < ghl.locations.size(); ++i) {
          if (ghl.locations[i].auth != "oauth" || !ghl.oauth.client_id.empty()) continue;
          auto scope = ctx.Enter(".locations[" + std::to_string(i) + "].auth");
          ctx.Error(node["locations"][i]["auth"],
                    "'auth: oauth' needs the app's credentials: set ghl.oauth.client_id and "
                    "ghl.oauth.client_secret");
          break;
        }
      });
  return table;
}

const Table<StateConfig>& StateTable() {
  static const Table<StateConfig> table({
      fields::Path("path", &StateConfig::path,
                   "SQLite state file (created 0600, parent directory created 0700). Under "
                   "systemd use `${STATE_DIRECTORY}/state.db`."),
      fields::Duration("busy_timeout", &StateConfig::busy_timeout, milliseconds(0),
                       milliseconds(600'000), "How long a write waits for a lock on the file."),
      fields::Duration("audit_retention", &StateConfig::audit_retention, milliseconds(0),
                       milliseconds(3650LL * 86'400'000),
                       "How long entries of the audit trail (every write the sync engine made, "
                       "`ghl-syncd audit`) are kept; older ones are deleted once a minute. 0 "
                       "keeps them forever."),
  });
  return table;
}

const Table<HttpConfig>& HttpTable() {
  static const Table<HttpConfig> table({
      fields::Listen("listen", &HttpConfig::listen,
                     "Address of the `/metrics`, `/healthz` and `/readyz` listener. Port 0 picks "
                     "a free port (logged at start)."),
  });
  return table;
}

const Table<LoggingConfig>& LoggingTable() {
  static const Table<LoggingConfig> table({
      fields::Enum("level", &LoggingConfig::level, {"trace", "debug", "info", "warn", "error"},
                   "Least severe level written. Changed by a reload."),
      fields::Enum("format", &LoggingConfig::format, {"auto", "text", "journal"},
                   "`journal`: `<N>` priority prefixes and no timestamps; `auto` picks it when "
                   "stderr is the systemd journal."),
  });
  return table;
}

const Table<DaemonConfig>& DaemonTable() {
  static const Table<DaemonConfig> table({
      fields::Duration("drain_timeout", &DaemonConfig::drain_timeout, milliseconds(0),
                       milliseconds(600'000),
                       "On SIGTERM, how long in-flight work may take to finish before exit."),
  });
  return table;
}

const Table<WebhooksConfig>& WebhooksTable() {
  using W = WebhooksConfig;
  static const Table<W> table(
      {
          fields::Bool("enabled", &W::enabled,
                       "Serve the GHL webhook endpoint (off: GHL changes arrive by polling only)."),
          fields::Listen("listen", &W::listen,
                         "Address of the webhook listener (plain HTTP: put a TLS proxy such as "
                         "nginx in front, see Webhooks). Port 0 picks a free port (logged)."),
          fields::String("path", &W::path,
                         "URL path GHL posts to; other paths get 404, other methods 405."),
          fields::Int("max_body_bytes", &W::max_body_bytes, 1024, 64 << 20,
                      "Larger bodies are refused with 413 before they are read."),
          fields::Duration("read_timeout", &W::read_timeout, milliseconds(100),
                           milliseconds(600'000),
                           "A request's headers and body must arrive within this, and an idle "
                           "keep-alive connection is closed after it (slow clients)."),
          fields::Duration("timestamp_window", &W::timestamp_window, milliseconds(1000),
                           milliseconds(86'400'000),
                           "A webhook whose `timestamp` is further ahead of this machine's "
                           "clock than this is refused (clock skew)."),
          fields::Duration("max_age", &W::max_age, milliseconds(1000), milliseconds(86'400'000),
                           "A webhook whose `timestamp` is older than this is refused (replay "
                           "protection, with the webhookIds kept for `retention`). GHL re-sends "
                           "a webhook answered 429 with the same payload up to six times, about "
                           "10 minutes apart (~1 h 10 min, FACTS.md §8.4): the default keeps "
                           "every retry of the back-pressure answer."),
          fields::Bool("builtin_keys", &W::builtin_keys,
                       "Trust GHL's published public keys (Ed25519 and RSA). Turn off to trust "
                       "only the keys listed here."),
          fields::StringList("public_keys", &W::public_keys,
                             "More public keys, each a PEM block or its base64 body; Ed25519 "
                             "verifies x-ghl-signature, RSA x-wh-signature. Any listed key "
                             "verifies, so old and new keys overlap during a rotation."),
          fields::StringList("public_key_files", &W::public_key_files,
                             "Files holding one PEM public key each, as `public_keys`."),
          fields::Bool("rsa_signatures", &W::rsa_signatures,
                       "Accept the legacy x-wh-signature (RSA-SHA256) when a webhook has no "
                       "x-ghl-signature. Turn off once GHL signs with Ed25519 only."),
          fields::Int("max_backlog", &W::max_backlog, 1, 100'000'000,
                      "Unprocessed webhooks in the inbox beyond which new ones get 429 (GHL "
                      "retries those later)."),
          fields::Duration("commit_wait", &W::commit_wait, milliseconds(0), milliseconds(100),
                           "How long a commit waits for more webhooks to share its transaction "
                           "(group commit); the 200s wait for that commit."),
          fields::Int("max_batch", &W::max_batch, 1, 100'000,
                      "Most webhooks committed in one transaction."),
          fields::Duration("busy_timeout", &W::busy_timeout, milliseconds(0), milliseconds(60'000),
                           "How long a commit waits for the state file's write lock before "
                           "the webhooks in it get 429."),
          fields::Int("max_attempts", &W::max_attempts, 1, 1000,
                      "How often the engine tries to commit a webhook's change (1 s apart, "
                      "doubling to 10 min) before it gives up and keeps the webhook in the "
                      "dead-letter queue (`ghl-syncd dlq`). The webhooks behind a failing one "
                      "go on meanwhile; attempts made while the sync's passes fail too or its "
                      "connector fails its health check (an outage) do not count."),
          fields::Duration("retention", &W::retention, milliseconds(3'600'000),
                           milliseconds(365LL * 86'400'000),
                           "How long seen webhookIds (replay protection) and processed inbox "
                           "rows are kept."),
      },
      [](W& w, const YAML::Node& node, Context& ctx) {
        if (!w.path.empty() && (w.path[0] != '/' || w.path.find_first_of("?# ") != w.path.npos)) {
          auto scope = ctx.Enter(".path");
          ctx.Error(node["path"],
                    "expected a URL path such as /webhooks/ghl, got '" + w.path + "'");
        }
        if (w.retention <= std::max(w.timestamp_window, w.max_age)) {
          auto scope = ctx.Enter(".retention");
          ctx.Error(node["retention"] ? node["retention"] : node,
                    "must be longer than max_age and timestamp_window, or a replayed webhook "
                    "could be accepted again once its id is forgotten");
        }
        for (auto& file : w.public_key_files) file = ctx.Resolve(file).string();
      });
  return table;
}

// Connector types; each connector's own options are validated by connectors/registry.
const std::vector<std::string>& KnownConnectorTypes() {
  static const std::vector<std::string> types = {"csv", "sqlite", "postgresql", "rest"};
  return types;
}

const Table<ConnectorConfig>& ConnectorTable() {
  static const Table<ConnectorConfig> table =
      Table<ConnectorConfig>(
          {
              fields::Enum("type", &ConnectorConfig::type, KnownConnectorTypes(),
                           "Kind of external system; its other keys are listed under "
                           "Connectors below.")
                  .Required(),
          },
          [](ConnectorConfig& c, const YAML::Node& node, Context& ctx) {
            c.node = node;
            c.file = ctx.file();
            c.base_dir = ctx.base_dir();
          })
          .AllowOtherKeys();
  return table;
}

const Table<Config>& RootTable() {
  static const Table<Config> table({
      fields::Section("ghl", &Config::ghl, GhlTable(), "The GoHighLevel side.").Required(),
      fields::Section("state", &Config::state, StateTable(), "The state store."),
      fields::Section("http", &Config::http, HttpTable(), "Metrics and health listener."),
      fields::Section("logging", &Config::logging, LoggingTable(), "Logging."),
      fields::Section("daemon", &Config::daemon, DaemonTable(), "Process lifecycle."),
      fields::Section("webhooks", &Config::webhooks, WebhooksTable(), "GHL webhook endpoint."),
      fields::Map("connectors", &Config::connectors, &ConnectorConfig::name, ConnectorTable(),
                  "External systems, by a name that mapping files refer to."),
      fields::Path("mappings_dir", &Config::mappings_dir,
                   "Directory of mapping files (`*.yaml`, `*.yml`), one sync per file."),
  });
  return table;
}

void LoadMappings(Config& config, Diagnostics& errors) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.mappings_dir, ec)) {
    errors.push_back({config.source.string(), 0, 0, "mappings_dir",
                      "mappings directory " + config.mappings_dir.string() +
                          " does not exist or is not a directory; create it or fix the path"});
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(config.mappings_dir, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::set<std::string> names;
  for (const auto& file : files) {
    auto root = ReadYamlFile(file, errors);
    if (!root) continue;
    const std::string name = file.stem().string();
    if (!names.insert(name).second) {
      errors.push_back({file.string(), 0, 0, "",
                        "another mapping file is also named '" + name +
                            "'; sync names must be "
                            "unique"});
      continue;
    }
    config.mappings.push_back({file, name, *root});
  }
}

}  // namespace

LoadResult Load(const std::filesystem::path& path, const EnvLookup& env) {
  LoadResult result;
  auto root = ReadYamlFile(path, result.errors);
  if (!root) return result;
  auto config = std::make_shared<Config>();
  config->source = path;
  Context ctx(path.string(), std::filesystem::absolute(path).parent_path(), env, &result.errors);
  // The default mappings_dir is relative to the config file, like every other path.
  config->mappings_dir = ctx.Resolve(config->mappings_dir.string());
  RootTable().Parse(*config, *root, ctx);
  for (auto& location : config->ghl.locations) {
    if (location.name.empty()) location.name = location.id;
  }
  LoadMappings(*config, result.errors);
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

std::string ReferenceMarkdown() { return MarkdownTable(RootTable()); }

}  // namespace ghl::config
