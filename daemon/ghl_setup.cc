#include "daemon/ghl_setup.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace ghl::daemon {

ClientSetup ClientSetupFor(const config::GhlConfig& g) {
  const long connections = std::max<long>(
      16, static_cast<long>(g.locations.size()) * static_cast<long>(g.max_in_flight_per_location));
  ClientSetup s;
  s.curl = {.max_connections_per_host = connections, .max_connections = connections};
  s.options.base_url = g.base_url;
  s.options.timeout = g.request_timeout;
  s.options.max_in_flight_per_location = static_cast<int>(g.max_in_flight_per_location);
  s.options.max_in_flight_total = static_cast<int>(connections);
  s.options.limits = {
      .burst = g.rate_limit.burst,
      .interval = g.rate_limit.interval,
      .daily = g.rate_limit.daily,
      .burst_margin = g.rate_limit.burst_margin,
      .window_margin = g.rate_limit.window_margin,
      .realtime_reserve = static_cast<double>(g.rate_limit.realtime_reserve_percent) / 100.0};
  return s;
}

GhlStack::GhlStack(const config::Config& config) : work_(io_.get_executor()) {
  const ClientSetup setup = ClientSetupFor(config.ghl);
  curl_ = std::make_unique<ghl_client::CurlMulti>(io_, setup.curl);
  client_ = std::make_unique<ghl_client::GhlClient>(io_, *curl_, clock_, setup.options);
  for (const auto& loc : config.ghl.locations) {
    client_->AddLocation(loc.id, std::make_shared<ghl_client::StaticToken>(loc.token.Reveal()));
  }
  gateway_ = std::make_unique<sync::LoopGateway>(io_, *client_);
}

GhlStack::~GhlStack() {
  Stop();
  client_.reset();
  curl_.reset();
}

void GhlStack::Stop() {
  gateway_->Close();
  io_.stop();
}

}  // namespace ghl::daemon
