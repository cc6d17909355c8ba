// ghl-emulator: a local, stateful GHL API v2 for tests, benchmarks, demos and trying
// mappings without touching a live account.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/http_server.h"
#include "core/log.h"
#include "emulator/config_file.h"
#include "emulator/emulator.h"
#include "emulator/snapshot.h"
#include "emulator/webhooks.h"

namespace {

using ghl::emulator::EmulatorFileConfig;

// Settings from the file (or its defaults), overridden by flags given on the command line.
struct Settings {
  EmulatorFileConfig file;
  ghl::emulator::EmulatorOptions options;
  ghl::emulator::WebhookOptions webhooks;
};

void FromFile(const EmulatorFileConfig& f, Settings* s) {
  s->options.seed = static_cast<uint64_t>(f.seed);
  s->options.search_lag_ms = f.search_lag.count();
  s->options.access_token_ttl_s = f.token_ttl.count() / 1000;
  s->options.limits = {f.rate_limit.burst, f.rate_limit.interval, f.rate_limit.daily,
                       f.rate_limit.enabled};
  s->webhooks.urls = f.webhooks.urls;
  s->webhooks.retry_schedule_ms.clear();
  for (auto d : f.webhooks.retry_schedule) s->webhooks.retry_schedule_ms.push_back(d.count());
  s->webhooks.keys_dir = f.webhooks.keys_dir.string();
  s->options.snapshot_path = f.snapshot.string();
}

// Loads the snapshot file when there is one, else seeds the configured (or the default)
// locations. Returns the start-up summary, or the one-line error that stops start-up.
// Inferred: a snapshot that exists wins over the config file's `locations`; they only
// describe how a new world starts.
ghl::Result<std::string> LoadOrSeed(ghl::emulator::Emulator& emu, const Settings& s) {
  const std::string& path = s.options.snapshot_path;
  if (!path.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      auto loaded = ghl::emulator::LoadSnapshot(emu, path);
      if (!loaded.ok()) return loaded.error();
      return ghl::emulator::LoadedWorldSummary(emu.world()) + "snapshot: loaded " +
             std::to_string(*loaded) + " records from " + path + "\n";
    }
    if (ec) return ghl::Error{"snapshot " + path + ": " + ec.message()};
    // Said now rather than when the world is to be saved.
    const auto dir = std::filesystem::path(path).parent_path();
    if (!std::filesystem::is_directory(dir, ec)) {
      return ghl::Error{"snapshot " + path + ": directory " + dir.string() + " does not exist"};
    }
  }
  std::string summary;
  if (s.file.locations.empty()) summary = emu.SeedDefault();
  for (const auto& l : s.file.locations) {
    ghl::emulator::Location loc;
    loc.id = l.id;
    loc.name = l.name;
    loc.company_id = l.company_id;
    loc.allow_duplicate_contact = l.allow_duplicate_contact;
    loc.duplicate_priority = l.duplicate_priority;
    summary += emu.SeedLocation(loc, l.token.Reveal());
  }
  if (!path.empty()) summary += "snapshot: " + path + " (new; written at exit)\n";
  return summary;
}

// On SIGTERM/SIGINT: saves the world when a snapshot file is configured. The exit code.
int SaveAtExit(ghl::emulator::Emulator& emu) {
  const std::string& path = emu.options().snapshot_path;
  if (path.empty()) return 0;
  auto saved = ghl::emulator::SaveSnapshot(emu, path);
  if (!saved.ok()) {
    std::cerr << "ghl-emulator: " << saved.error().message << "\n";
    return 1;
  }
  std::cerr << "ghl-emulator: saved " << *saved << " records to " << path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"ghl-emulator: a faithful, stateful local GoHighLevel API v2 with webhooks"};
  Settings s;
  FromFile(s.file, &s);
  std::string config_path, listen = s.file.listen.ToString(), log_level = "info";
  int64_t burst = 0, interval_ms = 0, daily = 0, timeout_ms = 0;
  std::vector<int64_t> retry_ms;
  std::vector<std::string> urls;
  std::string keys_dir, snapshot;
  bool no_rate_limit = false, print_reference = false;
  uint64_t seed = 0;
  int64_t search_lag_ms = 0, token_ttl_s = 0;

  auto* o_config = cli.add_option("-c,--config", config_path,
                                  "YAML config file (see README: ghl-emulator configuration); "
                                  "flags override it");
  auto* o_listen = cli.add_option("--listen", listen, "host:port to serve on (port 0: any free)")
                       ->capture_default_str();
  auto* o_seed = cli.add_option("--seed", seed, "Seed for ids and faults: same seed, same ids");
  auto* o_urls = cli.add_option("--webhook-url", urls, "Where to POST webhook events (repeatable)");
  auto* o_retry = cli.add_option("--webhook-retry-ms", retry_ms,
                                 "Delays between retries after a 429 answer, e.g. 50,50 "
                                 "(GHL: six, about 10 minutes apart)")
                      ->delimiter(',');
  auto* o_timeout =
      cli.add_option("--webhook-timeout-ms", timeout_ms, "Per-attempt webhook delivery timeout");
  auto* o_keys = cli.add_option("--keys-dir", keys_dir,
                                "Directory for the webhook signing keys (created and reused; "
                                "default: fresh keys each start)");
  auto* o_snapshot = cli.add_option(
      "--snapshot", snapshot,
      "Snapshot file: load the world from it at start if it exists (else seed), save it "
      "there on SIGTERM/SIGINT and on POST /_emulator/snapshot");
  auto* o_burst = cli.add_option("--rate-burst", burst, "Requests allowed in any rate window");
  auto* o_interval = cli.add_option("--rate-interval-ms", interval_ms, "Length of the window");
  auto* o_daily = cli.add_option("--rate-daily", daily, "Requests allowed per UTC day");
  cli.add_flag("--no-rate-limit", no_rate_limit, "Turn rate limiting off (headers still sent)");
  auto* o_lag = cli.add_option("--search-lag-ms", search_lag_ms,
                               "Delay before a change is visible to search endpoints");
  auto* o_ttl =
      cli.add_option("--token-ttl-s", token_ttl_s, "Lifetime of OAuth access tokens it issues");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cli.add_flag("--config-reference", print_reference,
               "Print the config file reference (Markdown) and exit");
  CLI11_PARSE(cli, argc, argv);

  if (print_reference) {
    std::fputs(ghl::emulator::EmulatorConfigReference().c_str(), stdout);
    return 0;
  }
  const auto level = ghl::log::ParseLevel(log_level);
  if (!level) {
    std::cerr << "ghl-emulator: --log-level must be trace, debug, info, warn or error\n";
    return 2;
  }
  ghl::log::Setup(*level, ghl::log::Format::kText);

  if (o_config->count() > 0) {
    auto loaded = ghl::emulator::LoadEmulatorConfig(config_path);
    for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
    if (!loaded.errors.empty()) {
      std::cerr << "ghl-emulator: " << loaded.errors.size() << " problem(s) in " << config_path
                << "\n";
      return 2;
    }
    s.file = loaded.config;
    FromFile(s.file, &s);
    if (o_listen->count() == 0) listen = s.file.listen.ToString();
  }
  if (o_seed->count() > 0) s.options.seed = seed;
  if (o_urls->count() > 0) s.webhooks.urls = urls;
  if (o_retry->count() > 0) s.webhooks.retry_schedule_ms = retry_ms;
  if (o_timeout->count() > 0) s.webhooks.timeout_ms = timeout_ms;
  if (o_keys->count() > 0) s.webhooks.keys_dir = keys_dir;
  if (o_burst->count() > 0) s.options.limits.burst = burst;
  if (o_interval->count() > 0) s.options.limits.interval = std::chrono::milliseconds(interval_ms);
  if (o_daily->count() > 0) s.options.limits.daily = daily;
  if (no_rate_limit) s.options.limits.enabled = false;
  if (o_lag->count() > 0) s.options.search_lag_ms = search_lag_ms;
  if (o_ttl->count() > 0) s.options.access_token_ttl_s = token_ttl_s;
  if (o_snapshot->count() > 0) s.options.snapshot_path = snapshot;
  if (!s.options.snapshot_path.empty()) {
    s.options.snapshot_path = std::filesystem::absolute(s.options.snapshot_path).string();
  }

  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    std::cerr << "ghl-emulator: --listen must be host:port, got '" << listen << "'\n";
    return 2;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::asio::io_context io;
  ghl::emulator::Emulator emulator(io, s.options);
  auto sink = ghl::emulator::MakeWebhookDispatcher(io, s.webhooks, s.options.seed);
  if (!sink.ok()) {
    std::cerr << "ghl-emulator: " << sink.error().message << "\n";
    return 1;
  }
  emulator.set_webhook_sink(std::move(sink).value());
  auto summary = LoadOrSeed(emulator, s);
  if (!summary.ok()) {
    std::cerr << "ghl-emulator: " << summary.error().message << "\n";
    return 1;
  }

  auto server = ghl::http_server::HttpServer::StartAsync(
      io,
      {.host = host,
       .port = static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1)),
       .body_limit = 10 << 20},
      [&emulator](ghl::http_server::Request&& req,
                  std::shared_ptr<ghl::http_server::Responder> responder) {
        emulator.Handle(std::move(req), std::move(responder));
      });
  if (!server.ok()) {
    std::cerr << "ghl-emulator: " << server.error().message << "\n";
    return 1;
  }
  // Handled from here on, before "admin API:" tells a supervisor the emulator is up.
  int exit_code = 0;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    exit_code = SaveAtExit(emulator);
    (*server)->Stop();
    io.stop();
  });
  const unsigned port = (*server)->port();
  std::printf("ghl-emulator listening on http://%s:%u\n%s", listen.substr(0, colon).c_str(), port,
              summary->c_str());
  std::printf("webhook public key (x-ghl-signature, Ed25519):\n%s",
              emulator.webhook_sink()->Ed25519PublicKeyPem().c_str());
  std::printf("webhook public key (x-wh-signature, RSA-SHA256):\n%s",
              emulator.webhook_sink()->RsaPublicKeyPem().c_str());
  std::printf("admin API: http://%s:%u/_emulator/info\n", listen.substr(0, colon).c_str(), port);
  std::fflush(stdout);

  io.run();
  return exit_code;
}
