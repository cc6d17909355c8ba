// The daemon's configuration: plain structs (defaults in the member initialisers, which
// the reference documentation reads), and the loader that fills them from
// ghl-syncd.yaml plus the mapping files in `mappings_dir`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/schema.h"
#include "core/secret.h"

namespace ghl::config {

using namespace std::chrono_literals;

struct LocationConfig {
  std::string id;
  std::string name;
  std::string auth = "token";  // token: `token` below; oauth: tokens from `ghl-syncd auth`
  Secret token;                // Private Integration Token of the sub-account
};

// The Marketplace app, for locations with `auth: oauth` (FACTS.md §1.3-1.5).
struct OAuthConfig {
  std::string client_id;
  Secret client_secret;
  std::string redirect_uri = "http://127.0.0.1:8765/oauth/callback";
  std::vector<std::string> scopes = {"contacts.readonly",
                                     "contacts.write",
                                     "opportunities.readonly",
                                     "opportunities.write",
                                     "calendars.readonly",
                                     "calendars/events.readonly",
                                     "calendars/events.write",
                                     "locations.readonly",
                                     "locations/customFields.readonly",
                                     "locations/customFields.write",
                                     "oauth.readonly",
                                     "oauth.write"};
  std::chrono::milliseconds refresh_margin = 10min;
  std::string authorize_url = "https://marketplace.gohighlevel.com/v2/oauth/chooselocation";
  std::string token_url;  // empty: <ghl.base_url>/oauth/token
  // INSTALL webhooks add locations at run time (UNINSTALL removes them).
  bool follow_installs = true;
};

struct RateLimitConfig {
  int64_t burst = 100;
  std::chrono::milliseconds interval = 10s;
  int64_t daily = 200'000;
  int64_t burst_margin = 1;
  std::chrono::milliseconds window_margin = 100ms;
  int64_t realtime_reserve_percent = 10;
};

struct GhlConfig {
  std::string base_url = "https://services.leadconnectorhq.com";
  std::chrono::milliseconds request_timeout = 30s;
  // How long GHL's search may take to show a write: a create found again only through it
  // (an opportunity) is read back no sooner after an attempt whose answer was lost.
  std::chrono::milliseconds search_lag = 15s;
  int64_t max_in_flight_per_location = 4;
  RateLimitConfig rate_limit;
  OAuthConfig oauth;
  std::vector<LocationConfig> locations;
};

struct StateConfig {
  std::filesystem::path path = "/var/lib/ghl-syncd/state.db";
  std::chrono::milliseconds busy_timeout = 5s;
  std::chrono::milliseconds audit_retention = std::chrono::days(30);  // 0: kept forever
};

struct HttpConfig {
  ListenAddress listen{"127.0.0.1", 9464};
};

struct LoggingConfig {
  std::string level = "info";
  std::string format = "auto";
};

struct DaemonConfig {
  std::chrono::milliseconds drain_timeout = 30s;
};

// The webhook endpoint (daemon/webhook_ingress.h). GHL reaches it through a TLS proxy.
struct WebhooksConfig {
  bool enabled = false;
  ListenAddress listen{"127.0.0.1", 8470};
  std::string path = "/webhooks/ghl";
  int64_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout = 10s;
  std::chrono::milliseconds timestamp_window = 5min;  // ahead of now (clock skew)
  std::chrono::milliseconds max_age = 75min;          // behind now (GHL's 429 retries)
  bool builtin_keys = true;
  std::vector<std::string> public_keys;       // PEM or base64 SPKI
  std::vector<std::string> public_key_files;  // resolved against the config file's directory
  bool rsa_signatures = true;
  int64_t max_backlog = 100'000;
  std::chrono::milliseconds commit_wait = 2ms;
  int64_t max_batch = 1000;
  std::chrono::milliseconds busy_timeout = 1s;
  int64_t max_attempts = 12;
  std::chrono::milliseconds retention = std::chrono::days(7);
};

// One external system. Only `type` is checked here; the rest of the block belongs to the
// connector, whose own schema validates it (connectors/registry.h).
struct ConnectorConfig {
  std::string name;  // the key under `connectors:`
  std::string type;
  YAML::Node node;  // the whole block, for the connector's own schema
  std::string file;
  std::filesystem::path base_dir;
};

// One mapping file, parsed as YAML. Its contents are checked by the mapping module.
struct MappingFile {
  std::filesystem::path path;
  std::string name;  // file name without extension: the sync's name
  YAML::Node root;
};

struct Config {
  GhlConfig ghl;
  StateConfig state;
  HttpConfig http;
  LoggingConfig logging;
  DaemonConfig daemon;
  WebhooksConfig webhooks;
  std::map<std::string, ConnectorConfig> connectors;
  std::filesystem::path mappings_dir = "mappings";

  std::filesystem::path source;       // the file this was loaded from
  std::vector<MappingFile> mappings;  // sorted by file name
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when there are errors
  Diagnostics errors;                    // every problem found, in file order
};

// Loads and validates `path` and every *.yaml / *.yml file in its mappings_dir.
// Relative paths in the file are relative to the file's own directory.
LoadResult Load(const std::filesystem::path& path, const EnvLookup& env = ProcessEnv());

// The configuration reference as a Markdown table, generated from the schema tables.
std::string ReferenceMarkdown();

}  // namespace ghl::config
