// webhooks_server: ghl-syncd's webhook endpoint alone (WebhookIngress and its inbox
// writer, nothing else of the daemon: no sync engine reading the inbox), so that
// bench/webhooks.sh can tell the endpoint's own cost from the rest of the daemon's.
//
//   webhooks_server --state FILE --key-file PEM [--key-file PEM] [--commit-wait-ms 2]
//
// Listens on 127.0.0.1 (a free port, printed as "webhook listener on 127.0.0.1:PORT")
// until SIGTERM or SIGINT. Nothing consumes the inbox, so max_backlog is lifted.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "daemon/webhook_ingress.h"
#include "state/sqlite_state_store.h"

int main(int argc, char** argv) {
  CLI::App cli{"ghl-syncd's webhook endpoint alone, for benchmarks"};
  std::string state;
  std::vector<std::string> keys;
  int commit_wait_ms = 2;
  cli.add_option("--state", state, "State file (created and migrated)")->required();
  cli.add_option("--key-file", keys, "Trusted public key (PEM), repeatable")->required();
  cli.add_option("--commit-wait-ms", commit_wait_ms, "webhooks.commit_wait");
  CLI11_PARSE(cli, argc, argv);

  auto store = ghl::state::OpenSqlite({.path = state});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  ghl::config::WebhooksConfig config;
  config.enabled = true;
  config.listen = {"127.0.0.1", 0};
  config.builtin_keys = false;
  config.public_key_files = keys;
  config.commit_wait = std::chrono::milliseconds(commit_wait_ms);
  config.max_backlog = 100'000'000;  // nothing processes the inbox here
  auto options = ghl::daemon::WebhookOptionsFromConfig(config, state);
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.error().message.c_str());
    return 1;
  }
  boost::asio::io_context io;
  ghl::SystemClock clock;
  prometheus::Registry registry;
  auto ingress =
      ghl::daemon::WebhookIngress::Start(io, std::move(options).value(), clock, registry);
  if (!ingress.ok()) {
    std::fprintf(stderr, "%s\n", ingress.error().message.c_str());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) {
    (*ingress)->Stop();
    io.stop();
  });
  std::printf("webhook listener on 127.0.0.1:%u\n", static_cast<unsigned>((*ingress)->port()));
  std::fflush(stdout);
  io.run();
  ingress->reset();  // commits what is queued
  return 0;
}
