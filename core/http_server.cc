#include "core/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <list>
#include <optional>

namespace ghl::http_server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Session;

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, Options o, AsyncHandler h)
      : acceptor(io), options(std::move(o)), handler(std::move(h)) {}
  void Accept();

  tcp::acceptor acceptor;
  Options options;
  AsyncHandler handler;
  std::list<std::weak_ptr<Session>> sessions;
  bool stopped = false;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void Read() {
    parser_.emplace();
    parser_->body_limit(server_->options.body_limit);
    stream_.expires_after(server_->options.read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  void Respond(Response res, bool keep_alive, bool head) {
    res.keep_alive(keep_alive);
    res.prepare_payload();
    if (head) {
      // Same headers as GET, Content-Length included, and no body.
      const auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    Write(std::move(res));
  }

 private:
  void OnRead(beast::error_code ec);

  void Write(Response res) {
    response_ = std::make_shared<Response>(std::move(res));
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->response_->keep_alive() || self->server_->stopped) {
                          return self->Close();
                        }
                        self->Read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  std::shared_ptr<HttpServer::Impl> server_;
};

class SessionResponder final : public Responder {
 public:
  SessionResponder(std::shared_ptr<Session> session, bool keep_alive, bool head)
      : session_(std::move(session)), keep_alive_(keep_alive), head_(head) {}
  ~SessionResponder() override {
    if (session_) session_->Close();  // dropped without an answer
  }
  void Send(Response response) override {
    if (!session_) return;
    auto s = std::move(session_);
    s->Respond(std::move(response), keep_alive_, head_);
  }
  void Reset() override {
    if (!session_) return;
    auto s = std::move(session_);
    s->Close();
  }

 private:
  std::shared_ptr<Session> session_;
  bool keep_alive_;
  bool head_;
};

void Session::OnRead(beast::error_code ec) {
  if (ec == http::error::body_limit) {
    if (server_->options.on_body_too_large) server_->options.on_body_too_large();
    Request req;
    req.version(11);
    return Respond(TextResponse(req, http::status::payload_too_large, "request body too large\n"),
                   false, false);
  }
  if (ec) {
    if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted) {
      spdlog::debug("http: dropping connection: {}", ec.message());
    }
    return Close();
  }
  stream_.expires_never();  // the handler may take its time; the responder answers
  Request req = parser_->release();
  const bool keep_alive = req.keep_alive();
  const bool head = req.method() == http::verb::head;
  auto responder = std::make_shared<SessionResponder>(shared_from_this(), keep_alive, head);
  try {
    server_->handler(std::move(req), responder);
  } catch (const std::exception& e) {
    spdlog::error("http: handler failed: {}", e.what());
    Request blank;
    blank.version(11);
    responder->Send(TextResponse(blank, http::status::internal_server_error, "internal error\n"));
  }
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), self);
      self->sessions.remove_if([](const auto& w) { return w.expired(); });
      self->sessions.push_back(session);
      session->Read();
    } else {
      spdlog::warn("http: accept failed: {}", ec.message());
    }
    self->Accept();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io, Options options,
                                                      Handler handler) {
  return StartAsync(io, std::move(options),
                    [handler = std::move(handler)](Request&& req, std::shared_ptr<Responder> r) {
                      r->Send(handler(req));
                    });
}

Result<std::unique_ptr<HttpServer>> HttpServer::StartAsync(asio::io_context& io, Options options,
                                                           AsyncHandler handler) {
  const std::string where = options.host.find(':') == std::string::npos
                                ? options.host + ":" + std::to_string(options.port)
                                : "[" + options.host + "]:" + std::to_string(options.port);
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    return Error{"cannot listen on " + where + ": '" + options.host +
                 "' is not an IP address (use 127.0.0.1, 0.0.0.0 or ::1)"};
  }
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(handler));
  const tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string hint;
    if (ec == asio::error::address_in_use) hint = "; another process holds it: stop it or change";
    if (ec == asio::error::access_denied) hint = "; ports below 1024 need privileges: change";
    if (!hint.empty()) hint += " the listen address";
    return Error{"cannot listen on " + where + ": " + ec.message() + hint};
  }
  impl->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->Close();
  }
  impl_->sessions.clear();
}

Response TextResponse(const Request& req, http::status status, std::string body,
                      const char* content_type) {
  Response res{status, req.version()};
  res.set(http::field::server, "ghl-syncd");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace ghl::http_server
