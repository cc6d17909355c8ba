// How the daemon builds its GHL client from the configuration, shared by `run` (App) and
// the one-shot commands that call GHL (`plan`).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>

#include "config/config.h"
#include "connectors/ghl/client.h"
#include "connectors/ghl/curl_multi.h"
#include "core/clock.h"
#include "sync/ghl_gateway.h"

namespace ghl::daemon {

struct ClientSetup {
  ghl_client::ClientOptions options;
  ghl_client::CurlMulti::Options curl;
};

// A connection for every request the client may have in flight: a transfer that waits
// inside curl for a connection leaves later than the rate limiter counted it, and bunched
// sends can exceed GHL's window (seen in bench/ghl_client.sh).
ClientSetup ClientSetupFor(const config::GhlConfig& g);

// A GHL client on its own event loop, for commands that are not the daemon. Locations use
// their Private Integration Tokens. Run() on a thread; Stop() from another.
class GhlStack {
 public:
  explicit GhlStack(const config::Config& config);
  ~GhlStack();
  void Run() { io_.run(); }
  void Stop();
  sync::LoopGateway& gateway() { return *gateway_; }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  SystemClock clock_;
  std::unique_ptr<ghl_client::CurlMulti> curl_;
  std::unique_ptr<ghl_client::GhlClient> client_;
  std::unique_ptr<sync::LoopGateway> gateway_;
};

}  // namespace ghl::daemon
