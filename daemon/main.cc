// ghl-syncd command line: run, check, version, reference.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "config/config.h"
#include "connectors/registry.h"
#include "daemon/app.h"
#include "daemon/auth_command.h"
#include "daemon/deletes_command.h"
#include "daemon/ghl_check.h"
#include "daemon/sync_commands.h"
#include "daemon/version.h"
#include "mapping/mapping.h"
#include "sync/engine.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/ghl-syncd/ghl-syncd.yaml";

// Loads the config; prints every problem to stderr when there are any.
std::shared_ptr<const ghl::config::Config> LoadOrReport(const std::string& path) {
  auto loaded = ghl::config::Load(path);
  for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
  if (!loaded.errors.empty()) {
    std::cerr << loaded.errors.size() << " problem(s) found in the configuration; nothing "
              << "was started. Fix them and run `ghl-syncd check --config " << path << "`.\n";
  }
  return loaded.config;
}

}  // namespace

int main(int argc, char** argv) {
  // Commands print their results on stdout (`status --json` is read by programs); what
  // they log goes to stderr. `run` sets up its own logging from the configuration.
  spdlog::set_default_logger(spdlog::stderr_color_mt("ghl-syncd"));
  CLI::App cli{"ghl-syncd: two-way sync between GoHighLevel and your own systems"};
  cli.require_subcommand(1);
  std::string config_path = kDefaultConfig;
  if (const char* env = std::getenv("GHL_SYNCD_CONFIG")) config_path = env;  // NOLINT

  auto* run = cli.add_subcommand("run", "Run the daemon in the foreground (as systemd does)");
  run->add_option("-c,--config", config_path, "Configuration file (env GHL_SYNCD_CONFIG)")
      ->capture_default_str();
  auto* check = cli.add_subcommand(
      "check", "Validate the configuration and mapping files; print every problem");
  check->add_option("-c,--config", config_path, "Configuration file (env GHL_SYNCD_CONFIG)")
      ->capture_default_str();
  auto* version = cli.add_subcommand("version", "Print version and build commit");
  auto* reference = cli.add_subcommand("reference", "Print a reference (Markdown)");
  std::string reference_of = "config";
  reference
      ->add_option("what", reference_of,
                   "config (ghl-syncd.yaml), connectors (their options), mappings (mapping files)")
      ->check(CLI::IsMember({"config", "connectors", "mappings"}))
      ->capture_default_str();
  ghl::daemon::SyncCommands sync_commands;
  ghl::daemon::AddSyncCommands(cli, config_path, sync_commands);
  ghl::daemon::AuthCommandOptions auth_command;
  ghl::daemon::AddAuthCommand(cli, config_path, auth_command);
  ghl::daemon::DeletesCommand deletes_command;
  ghl::daemon::AddDeletesCommand(cli, config_path, deletes_command);

  CLI11_PARSE(cli, argc, argv);

  if (version->parsed()) {
    std::printf("ghl-syncd %s (commit %s)\n", ghl::daemon::kVersion, ghl::daemon::kCommit);
    return 0;
  }
  if (reference->parsed()) {
    const std::string text = reference_of == "connectors" ? ghl::connectors::ReferenceMarkdown()
                             : reference_of == "mappings" ? ghl::mapping::ReferenceMarkdown()
                                                          : ghl::config::ReferenceMarkdown();
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (int code = ghl::daemon::RunSyncCommands(sync_commands, config_path); code >= 0) return code;
  if (int code = ghl::daemon::RunDeletesCommand(deletes_command, config_path); code >= 0) {
    return code;
  }
  if (int code = ghl::daemon::RunAuthCommandIfParsed(auth_command, config_path); code >= 0) {
    return code;
  }
  if (check->parsed()) {
    auto config = LoadOrReport(config_path);
    if (!config) return 1;
    ghl::config::Diagnostics errors;
    auto syncs = ghl::sync::BuildSyncs(*config, errors);
    for (const auto& d : errors) std::cerr << d.ToString() << "\n";
    if (!errors.empty()) {
      std::cerr << errors.size() << " problem(s) found in the mappings or connectors.\n";
      return 1;
    }
    std::vector<std::string> notes;
    ghl::daemon::CheckCustomFieldKeys(*config, syncs, errors, notes);
    for (const auto& d : errors) std::cerr << d.ToString() << "\n";
    for (const auto& n : notes) std::cerr << "note: " << n << "\n";
    if (!errors.empty()) {
      std::cerr << errors.size() << " problem(s) found in the mappings against GHL.\n";
      return 1;
    }
    for (auto& s : syncs) {
      if (auto health = s.connector->Health(); !health.ok()) {
        std::cerr << "warning: sync " << s.mapping->spec().name << ": " << health.error().message
                  << "\n";
      }
    }
    std::printf("%s: OK (%zu location(s), %zu mapping file(s))\n", config_path.c_str(),
                config->ghl.locations.size(), config->mappings.size());
    return 0;
  }
  if (run->parsed()) {
    auto config = LoadOrReport(config_path);
    if (!config) return ghl::daemon::kExitConfig;
    ghl::daemon::App app(config_path, std::move(config));
    return app.Run();
  }
  return 1;
}
