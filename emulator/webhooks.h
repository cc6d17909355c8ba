// Webhook delivery: signs each event with Ed25519 (x-ghl-signature) and RSA-SHA256
// (x-wh-signature) over the exact body bytes and POSTs it to the configured URLs.
//
// Like GHL (FACTS.md §8.4): only a 429 answer is retried, on `retry_schedule_ms`; any
// other failure (4xx, 5xx, refused, timeout) loses the event. Every attempt is recorded.
// Delivery runs on a worker thread so the event loop never waits on a receiver.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "emulator/emulator.h"

namespace ghl::emulator {

struct WebhookOptions {
  std::vector<std::string> urls;
  // Delays before each retry; GHL retries only after a 429 answer.
  std::vector<int64_t> retry_schedule_ms = {600'000, 600'000, 600'000, 600'000, 600'000, 600'000};
  std::string keys_dir;  // empty: fresh keys each start
  // Inferred: GHL does not document its per-attempt timeout; 10 s is a common webhook
  // sender default and keeps a hung receiver from stalling the queue for long.
  int64_t timeout_ms = 10'000;
};

// One delivery attempt (or a drop by the webhook_drop_rate fault), as the admin API lists it.
struct WebhookDelivery {
  uint64_t index = 0;  // position in the log since start (for `since` paging)
  std::string webhook_id;
  std::string type;
  std::string url;
  int attempt = 0;         // 1 = first try; 0 for a dropped event
  int status = 0;          // HTTP status; 0 when there was no answer
  std::string error;       // why there was no answer ("timeout", "connection refused", ...)
  std::string outcome;     // delivered | retry (429, another try scheduled) | lost | dropped
  bool duplicate = false;  // the extra copy sent by webhook_duplicate_rate
  int64_t at_ms = 0;       // wall clock when the attempt started
  int64_t duration_ms = 0;
};

// The dispatcher behind WebhookSink, with the settings the admin API changes at run time.
// Thread-safety: every method is called on the io_context's thread.
class WebhookDispatcher : public WebhookSink {
 public:
  struct Config {
    std::vector<std::string> urls;
    std::vector<int64_t> retry_schedule_ms;
    int64_t timeout_ms = 10'000;
  };
  // Applies to events published afterwards; attempts already queued keep their settings.
  virtual Result<void> SetConfig(const Config& config) = 0;
  virtual Config config() const = 0;
  // Attempts recorded with index >= `since`, oldest first, and the next index.
  virtual std::vector<WebhookDelivery> Deliveries(uint64_t since, uint64_t* next) const = 0;
  virtual void ClearDeliveries() = 0;
};

// Fails when the keys cannot be loaded or saved, or a URL is not http(s)://.
Result<std::unique_ptr<WebhookSink>> MakeWebhookDispatcher(boost::asio::io_context& io,
                                                           const WebhookOptions& options,
                                                           uint64_t seed);

}  // namespace ghl::emulator
