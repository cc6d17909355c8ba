// Webhook delivery: signs each event with Ed25519 (x-ghl-signature) and RSA-SHA256
// (x-wh-signature) over the exact body bytes and POSTs it to the configured URLs.
#pragma once

#include <boost/asio/io_context.hpp>
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
};

Result<std::unique_ptr<WebhookSink>> MakeWebhookDispatcher(boost::asio::io_context& io,
                                                           const WebhookOptions& options,
                                                           uint64_t seed);

}  // namespace ghl::emulator
