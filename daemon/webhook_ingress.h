// WebhookIngress: the GHL webhook endpoint. Its own HTTP listener on the daemon's event
// loop, and an InboxWriter thread that commits accepted webhooks to the state file.
//
// A request goes through, in this order (first failure answers):
//   404 another path · 405 another method · 413 a body over max_body_bytes (not read) ·
//   401 no valid signature (webhook_verify.h) · 400 not a JSON object, or no timestamp ·
//   401 timestamp older than max_age or ahead by more than timestamp_window · 429 backlog at
//   max_backlog, stopping, or the inbox could not commit (lock, disk full, I/O error) · 200 once
//   the webhook is committed, or when its webhookId was seen before (not stored twice).
// Never a 5xx: GHL retries only after 429 and drops the event on anything else
// (FACTS.md §8.4). Nothing is stored for a refused request.
//
// Metrics (ghl_syncd_webhooks_*) are registered on the given registry.
// Thread-safety: Start, port, Refuse, Stop and the destructor run on the io_context's thread
// (or, for the destructor, once the io_context has stopped).
#pragma once

#include <prometheus/registry.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "connectors/ghl/webhook_verify.h"
#include "core/clock.h"
#include "core/http_server.h"
#include "core/result.h"
#include "daemon/webhook_writer.h"

namespace ghl::daemon {

struct WebhookIngressOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/webhooks/ghl";
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds timestamp_window = std::chrono::minutes(5);  // ahead of now
  std::chrono::milliseconds max_age = std::chrono::minutes(75);          // behind now
  int64_t max_backlog = 100'000;
  std::shared_ptr<const ghl_client::WebhookVerifier> verifier;  // required
  InboxWriter::Options writer;  // writer.clock is set to Start's clock
  // Optional: called for each webhook about to be queued; the handle it returns is held
  // until the webhook's answer is sent (so a drain can wait for it), released on the io
  // thread. A null handle means "stopping": the webhook gets 429.
  std::function<std::shared_ptr<void>()> begin_work;
  // Optional, on the io thread: a webhook was committed to the inbox (wakes its consumer).
  std::function<void()> on_stored;
};

// The options `webhooks:` describes, with the writer on its own connection to `state_path`.
// Fails (naming the key or file) when a key file cannot be read or a key cannot be parsed.
Result<WebhookIngressOptions> WebhookOptionsFromConfig(const config::WebhooksConfig& config,
                                                       const std::filesystem::path& state_path);

class WebhookIngress {
 public:
  // Starts the writer (opening its connection) and binds the listener.
  static Result<std::unique_ptr<WebhookIngress>> Start(boost::asio::io_context& io,
                                                       WebhookIngressOptions options,
                                                       const Clock& clock,
                                                       prometheus::Registry& registry);
  ~WebhookIngress();  // Stop(), then ends the writer after it committed what was queued
  WebhookIngress(const WebhookIngress&) = delete;
  WebhookIngress& operator=(const WebhookIngress&) = delete;

  uint16_t port() const;
  // From now on every webhook gets 429 (GHL retries later); answers in flight still go out.
  void Refuse();
  // Closes the listener and its connections. Idempotent.
  void Stop();

  struct Shared;

 private:
  WebhookIngress(std::shared_ptr<Shared> shared, std::unique_ptr<http_server::HttpServer> server);
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<http_server::HttpServer> server_;
};

}  // namespace ghl::daemon
