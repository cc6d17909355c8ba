// LoopbackServer: a real HTTP server on 127.0.0.1 (a free port) with its own event-loop
// thread, for tests that need an HTTP peer (a JSON API, a webhook receiver). The handler
// runs on that thread; the destructor stops the server, then the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "core/http_server.h"

namespace ghl::testing {

class LoopbackServer {
 public:
  using Handler =
      std::function<void(http_server::Request&&, std::shared_ptr<http_server::Responder>)>;

  explicit LoopbackServer(Handler handler) {
    auto server = http_server::HttpServer::StartAsync(io_, {.host = "127.0.0.1", .port = 0},
                                                      std::move(handler));
    if (!server.ok()) std::abort();
    server_ = std::move(server).value();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackServer() {
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      server_->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    io_.stop();
    thread_.join();
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  uint16_t port() const { return server_->port(); }
  // The loop the handler runs on (for timers that delay an answer).
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<http_server::HttpServer> server_;
  std::thread thread_;
};

}  // namespace ghl::testing
