// The emulator's optional YAML config file (`ghl-emulator --config FILE`), checked as
// strictly as the daemon's: unknown keys, types and ranges, every error with its place.
// Command-line flags given explicitly override the file.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/schema.h"
#include "core/secret.h"

namespace ghl::emulator {

using namespace std::chrono_literals;

struct LocationSeed {
  std::string id;
  std::string name;
  std::string company_id;
  Secret token;  // its Private Integration Token
  bool allow_duplicate_contact = false;
  std::vector<std::string> duplicate_priority = {"email", "phone"};
};

struct RateLimitFileConfig {
  bool enabled = true;
  int64_t burst = 100;
  std::chrono::milliseconds interval = 10s;
  int64_t daily = 200'000;
};

struct WebhookFileConfig {
  std::vector<std::string> urls;
  std::vector<std::chrono::milliseconds> retry_schedule = {10min, 10min, 10min,
                                                           10min, 10min, 10min};
  std::filesystem::path keys_dir;
};

struct EmulatorFileConfig {
  config::ListenAddress listen{"127.0.0.1", 8089};
  int64_t seed = 1;
  std::chrono::milliseconds search_lag = 2s;
  std::chrono::milliseconds token_ttl = 86'399s;
  RateLimitFileConfig rate_limit;
  WebhookFileConfig webhooks;
  // Where the world is loaded from at start (if the file exists) and saved at exit;
  // empty: the world lives in memory only.
  std::filesystem::path snapshot;
  // Empty: one generated location. Each listed location gets a user, a pipeline, a
  // calendar and the default custom fields.
  std::vector<LocationSeed> locations;
};

struct EmulatorConfigResult {
  EmulatorFileConfig config;
  config::Diagnostics errors;
};

EmulatorConfigResult LoadEmulatorConfig(const std::filesystem::path& path,
                                        const config::EnvLookup& env = config::ProcessEnv());
std::string EmulatorConfigReference();

}  // namespace ghl::emulator
