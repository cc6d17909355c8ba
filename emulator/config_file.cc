#include "emulator/config_file.h"

#include <set>

namespace ghl::emulator {
namespace {

namespace f = config::fields;
using config::Context;
using config::Table;
using std::chrono::milliseconds;

const Table<LocationSeed>& LocationTable() {
  static const Table<LocationSeed> table(
      {
          f::String("id", &LocationSeed::id, "Location id.").Required(),
          f::String("name", &LocationSeed::name, "Display name; defaults to the id.", true),
          f::String("company_id", &LocationSeed::company_id,
                    "Agency (company) the location belongs to; generated if absent.", true),
          f::SecretValue("token", &LocationSeed::token,
                         "Its Private Integration Token (what clients send as Bearer).")
              .Required(),
          f::Bool("allow_duplicate_contact", &LocationSeed::allow_duplicate_contact,
                  "GHL's \"Allow Duplicate Contact\" setting."),
          f::StringList("duplicate_priority", &LocationSeed::duplicate_priority,
                        "Order in which upsert and duplicate search match: `email`, `phone`."),
      },
      [](const LocationSeed& l, const YAML::Node& node, Context& ctx) {
        for (const auto& p : l.duplicate_priority) {
          if (p != "email" && p != "phone") {
            auto scope = ctx.Enter(".duplicate_priority");
            ctx.Error(node["duplicate_priority"], "'" + p + "' is not one of: email phone");
          }
        }
      });
  return table;
}

const Table<RateLimitFileConfig>& RateTable() {
  static const Table<RateLimitFileConfig> table({
      f::Bool("enabled", &RateLimitFileConfig::enabled,
              "Enforce the limits (headers are sent either way)."),
      f::Int("burst", &RateLimitFileConfig::burst, 1, 1'000'000,
             "Requests allowed in any window of `interval`."),
      f::Duration("interval", &RateLimitFileConfig::interval, milliseconds(10),
                  milliseconds(3'600'000), "Length of the sliding window."),
      f::Int("daily", &RateLimitFileConfig::daily, 1, 1'000'000'000,
             "Requests allowed per UTC day."),
  });
  return table;
}

const Table<WebhookFileConfig>& WebhookTable() {
  static const Table<WebhookFileConfig> table({
      f::StringList("urls", &WebhookFileConfig::urls, "Where events are POSTed."),
      f::DurationList("retry_schedule", &WebhookFileConfig::retry_schedule, milliseconds(0),
                      milliseconds(86'400'000),
                      "Delays between retries, used only after a 429 answer (as GHL does)."),
      f::Path("keys_dir", &WebhookFileConfig::keys_dir,
              "Directory holding the signing keys, created and reused; empty: new keys "
              "each start."),
  });
  return table;
}

const Table<EmulatorFileConfig>& RootTable() {
  static const Table<EmulatorFileConfig> table(
      {
          f::Listen("listen", &EmulatorFileConfig::listen, "Address to serve the API on."),
          f::Int("seed", &EmulatorFileConfig::seed, 0, INT64_MAX,
                 "Seed for generated ids and faults."),
          f::Duration("search_lag", &EmulatorFileConfig::search_lag, milliseconds(0),
                      milliseconds(600'000), "Delay before a change is visible to search."),
          f::Duration("token_ttl", &EmulatorFileConfig::token_ttl, milliseconds(1000),
                      milliseconds(31'536'000'000), "Lifetime of issued OAuth access tokens."),
          f::Section("rate_limit", &EmulatorFileConfig::rate_limit, RateTable(),
                     "GHL's burst and daily limits, per app and location."),
          f::Section("webhooks", &EmulatorFileConfig::webhooks, WebhookTable(),
                     "Webhook delivery."),
          f::Path("snapshot", &EmulatorFileConfig::snapshot,
                  "Snapshot file: the world is loaded from it at start when it exists (instead "
                  "of seeding `locations`) and saved to it at exit and on POST "
                  "/_emulator/snapshot; empty: memory only."),
          f::List("locations", &EmulatorFileConfig::locations, LocationTable(),
                  "Locations to create at start."),
      },
      [](const EmulatorFileConfig& c, const YAML::Node& node, Context& ctx) {
        std::set<std::string> ids, tokens;
        for (size_t i = 0; i < c.locations.size(); ++i) {
          const auto& l = c.locations[i];
          auto scope = ctx.Enter(".locations[" + std::to_string(i) + "]");
          if (!l.id.empty() && !ids.insert(l.id).second) {
            ctx.Error(node["locations"][i]["id"], "location '" + l.id + "' is listed twice");
          }
          if (!l.token.empty() && !tokens.insert(l.token.Reveal()).second) {
            ctx.Error(node["locations"][i], "two locations share one token");
          }
        }
      });
  return table;
}

}  // namespace

EmulatorConfigResult LoadEmulatorConfig(const std::filesystem::path& path,
                                        const config::EnvLookup& env) {
  EmulatorConfigResult result;
  auto root = config::ReadYamlFile(path, result.errors);
  if (!root) return result;
  Context ctx(path.string(), std::filesystem::absolute(path).parent_path(), env, &result.errors);
  RootTable().Parse(result.config, *root, ctx);
  for (auto& l : result.config.locations) {
    if (l.name.empty()) l.name = l.id;
  }
  return result;
}

std::string EmulatorConfigReference() {
  std::vector<config::DocRow> rows;
  RootTable().Document(rows, "");
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    out +=
        "| `" + r.key + "` | " + r.type + " | " + r.default_value + " | " + r.description + " |\n";
  }
  return out;
}

}  // namespace ghl::emulator
