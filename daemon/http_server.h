// HttpServer: a small HTTP/1.1 server on Boost.Beast, running on the daemon's io_context.
//
// It owns the listening socket and its connections; a Handler turns one request into
// one response. Keep-alive is supported; each read has a deadline (so a client that
// trickles bytes cannot hold a connection forever) and bodies over `body_limit` get 413.
// Thread-safety: all methods must be called on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "config/schema.h"
#include "core/result.h"

namespace ghl::daemon {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  struct Options {
    config::ListenAddress listen;
    size_t body_limit = 1 << 20;
    std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  };

  // Binds and starts accepting. Fails with a one-line reason if the address is invalid
  // or already in use.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io, Options options,
                                                   Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful when the configured port was 0).
  uint16_t port() const;
  // Stops accepting and closes every open connection.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// A plain-text response with the usual headers set.
Response TextResponse(const Request& req, http::status status, std::string body,
                      const char* content_type = "text/plain; charset=utf-8");

}  // namespace ghl::daemon
