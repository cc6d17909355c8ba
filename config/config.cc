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
  static const Table<LocationConfig> table({
      fields::String("id", &LocationConfig::id, "GHL location (sub-account) id.").Required(),
      fields::String("name", &LocationConfig::name,
                     "A label for logs and metrics; defaults to the id.", true),
      fields::SecretValue("token", &LocationConfig::token,
                          "Private Integration Token of this sub-account. Use "
                          "`${ENV_VAR}` or `token_file:` (e.g. a systemd credential), "
                          "never a literal in a shared file.")
          .Required(),
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
          fields::Int("max_in_flight_per_location", &GhlConfig::max_in_flight_per_location, 1, 64,
                      "Concurrent requests per location."),
          fields::Section("rate_limit", &GhlConfig::rate_limit, RateLimitTable(),
                          "GHL's limits as this daemon enforces them on itself."),
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

std::string ReferenceMarkdown() {
  std::vector<DocRow> rows;
  RootTable().Document(rows, "");
  std::string out =
      "| key | type | default | description |\n"
      "|---|---|---|---|\n";
  for (const auto& r : rows) {
    out +=
        "| `" + r.key + "` | " + r.type + " | " + r.default_value + " | " + r.description + " |\n";
  }
  return out;
}

}  // namespace ghl::config
