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
#include <string>

#include "core/result.h"

namespace ghl::http_server {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Answers one request: Send() a response, or Reset() to drop the connection without one.
// Either may be called later (after a timer, say), but once, on the io_context's thread.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(Response response) = 0;
  virtual void Reset() = 0;
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  using AsyncHandler = std::function<void(Request&&, std::shared_ptr<Responder>)>;
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    size_t body_limit = 1 << 20;
    std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
    // Optional: called when a request is answered 413 without reaching the handler.
    std::function<void()> on_body_too_large;
  };

  // Binds and starts accepting. Fails with a one-line reason if the address is invalid
  // or already in use.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io, Options options,
                                                   Handler handler);
  static Result<std::unique_ptr<HttpServer>> StartAsync(boost::asio::io_context& io,
                                                        Options options, AsyncHandler handler);
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

}  // namespace ghl::http_server
