// WebhookReceiver: a loopback HTTP server that tests point webhook senders at. It keeps
// every request it gets and answers with scripted statuses, optionally after a delay.
//
//   WebhookReceiver r;
//   r.Script({429, 429});  // then 200
//   ... emulator POSTs to r.url() ...
//   auto hits = r.WaitFor(3, 5s);
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/http_server.h"
#include "tests/support/loopback_server.h"

namespace ghl::testing {

class WebhookReceiver {
 public:
  struct Hit {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // names lowercased
    std::chrono::steady_clock::time_point at;
    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  WebhookReceiver() { url_ = "http://127.0.0.1:" + std::to_string(server_.port()) + "/hooks"; }

  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  const std::string& url() const { return url_; }

  // Answers the next requests with `statuses` in order, then with `then`.
  void Script(std::vector<int> statuses, int then = 200) {
    std::lock_guard lock(mu_);
    script_.assign(statuses.begin(), statuses.end());
    then_ = then;
  }
  // Holds every answer for `delay` (to make the sender time out).
  void SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delay_ = delay;
  }

  // Waits until at least `n` requests arrived (or `timeout` passed); returns all so far.
  std::vector<Hit> WaitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return hits_.size() >= n; });
    return hits_;
  }
  std::vector<Hit> hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  void OnRequest(http_server::Request&& req, std::shared_ptr<http_server::Responder> responder) {
    Hit hit{std::string(req.method_string()),
            std::string(req.target()),
            req.body(),
            {},
            std::chrono::steady_clock::now()};
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      hit.headers[name] = std::string(field.value());
    }
    int status = 200;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      } else {
        status = then_;
      }
      delay = delay_;
      hits_.push_back(std::move(hit));
    }
    cv_.notify_all();
    auto res = std::make_shared<http_server::Response>(
        http_server::TextResponse(req, static_cast<http_server::http::status>(status), "ok"));
    if (delay.count() == 0) return responder->Send(std::move(*res));
    auto timer = std::make_shared<boost::asio::steady_timer>(server_.io(), delay);
    timer->async_wait([timer, responder, res](const boost::system::error_code&) {
      responder->Send(std::move(*res));
    });
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> script_;
  int then_ = 200;
  std::chrono::milliseconds delay_{0};
  std::vector<Hit> hits_;
  std::string url_;
  // Last: it stops (and its handler with it) before the members the handler uses go.
  LoopbackServer server_{
      [this](http_server::Request&& req, std::shared_ptr<http_server::Responder> responder) {
        OnRequest(std::move(req), std::move(responder));
      }};
};

}  // namespace ghl::testing
