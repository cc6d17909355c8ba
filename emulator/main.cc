// ghl-emulator: a local, stateful GHL API v2 for tests, benchmarks, demos and trying
// mappings without touching a live account.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <iostream>

#include "core/http_server.h"
#include "core/log.h"
#include "emulator/emulator.h"
#include "emulator/webhooks.h"

int main(int argc, char** argv) {
  CLI::App cli{"ghl-emulator: a faithful, stateful local GoHighLevel API v2 with webhooks"};
  std::string listen = "127.0.0.1:8089";
  ghl::emulator::EmulatorOptions options;
  ghl::emulator::WebhookOptions webhook_options;
  int64_t burst = options.limits.burst, interval_ms = options.limits.interval.count(),
          daily = options.limits.daily;
  bool no_rate_limit = false;
  std::string log_level = "info";
  cli.add_option("--listen", listen, "Address to serve the API on (port 0: any free port)")
      ->capture_default_str();
  cli.add_option("--seed", options.seed, "Seed for ids and faults: same seed, same ids")
      ->capture_default_str();
  cli.add_option("--webhook-url", webhook_options.urls,
                 "Where to POST webhook events (repeatable)");
  cli.add_option("--webhook-retry-ms", webhook_options.retry_schedule_ms,
                 "Delays between retries after a 429 answer (GHL: six tries ~10 min apart)");
  cli.add_option("--keys-dir", webhook_options.keys_dir,
                 "Directory for the webhook signing keys (created and reused; default: fresh "
                 "keys each start)");
  cli.add_option("--rate-burst", burst, "Requests allowed in any rate window")
      ->capture_default_str();
  cli.add_option("--rate-interval-ms", interval_ms, "Length of the rate window")
      ->capture_default_str();
  cli.add_option("--rate-daily", daily, "Requests allowed per UTC day")->capture_default_str();
  cli.add_flag("--no-rate-limit", no_rate_limit, "Turn rate limiting off (headers still sent)");
  cli.add_option("--search-lag-ms", options.search_lag_ms,
                 "Delay before a change is visible to search endpoints")
      ->capture_default_str();
  cli.add_option("--token-ttl-s", options.access_token_ttl_s,
                 "Lifetime of OAuth access tokens it issues")
      ->capture_default_str();
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  const auto level = ghl::log::ParseLevel(log_level);
  if (!level) {
    std::cerr << "ghl-emulator: --log-level must be trace, debug, info, warn or error\n";
    return 2;
  }
  ghl::log::Setup(*level, ghl::log::Format::kText);
  options.limits.burst = burst;
  options.limits.interval = std::chrono::milliseconds(interval_ms);
  options.limits.daily = daily;
  options.limits.enabled = !no_rate_limit;

  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "ghl-emulator: --listen must be host:port, got '" << listen << "'\n";
    return 2;
  }
  boost::asio::io_context io;
  ghl::emulator::Emulator emulator(io, options);
  auto sink = ghl::emulator::MakeWebhookDispatcher(io, webhook_options, options.seed);
  if (!sink.ok()) {
    std::cerr << "ghl-emulator: " << sink.error().message << "\n";
    return 1;
  }
  emulator.set_webhook_sink(std::move(sink).value());
  const std::string summary = emulator.SeedDefault();

  const std::string host = listen.substr(0, colon);
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
  std::printf("ghl-emulator listening on http://%s:%u\n%s", host.c_str(),
              static_cast<unsigned>((*server)->port()), summary.c_str());
  std::printf("webhook public key (x-ghl-signature, Ed25519):\n%s",
              emulator.webhook_sink()->Ed25519PublicKeyPem().c_str());
  std::printf("webhook public key (x-wh-signature, RSA-SHA256):\n%s",
              emulator.webhook_sink()->RsaPublicKeyPem().c_str());
  std::printf("admin API: http://%s:%u/_emulator/info\n", host.c_str(),
              static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    (*server)->Stop();
    io.stop();
  });
  io.run();
  return 0;
}
