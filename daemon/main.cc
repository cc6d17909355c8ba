// ghl-syncd command line: run, check, version, reference.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "config/config.h"
#include "daemon/app.h"
#include "daemon/version.h"

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
  auto* reference = cli.add_subcommand("reference", "Print the configuration reference (Markdown)");

  CLI11_PARSE(cli, argc, argv);

  if (version->parsed()) {
    std::printf("ghl-syncd %s (commit %s)\n", ghl::daemon::kVersion, ghl::daemon::kCommit);
    return 0;
  }
  if (reference->parsed()) {
    std::fputs(ghl::config::ReferenceMarkdown().c_str(), stdout);
    return 0;
  }
  if (check->parsed()) {
    auto config = LoadOrReport(config_path);
    if (!config) return 1;
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
