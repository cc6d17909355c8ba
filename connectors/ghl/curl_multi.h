// CurlMulti: many concurrent HTTP requests through libcurl's multi interface, driven
// by the Asio event loop (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION): no thread
// per request and no blocking call on the loop. Connections are kept alive and reused,
// HTTP/2 is used when a server offers it, and the number of connections per host and
// overall is bounded (curl queues transfers beyond the bound).
// Thread-safety: single-threaded; every call and every callback on the io_context's
// thread.
#pragma once

#include <curl/curl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ghl::ghl_client {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{30'000};
  // Answers larger than this are cut off and fail with CURLE_WRITE_ERROR (too_large set).
  size_t max_response_bytes = 16 << 20;
};

struct HttpResponse {
  long status = 0;  // 0 when no HTTP answer arrived (see curl_code)
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercased; last block only
  CURLcode curl_code = CURLE_OK;
  std::string error;  // curl's message when curl_code != CURLE_OK
  std::chrono::microseconds elapsed{0};
  bool too_large = false;  // the body passed max_response_bytes
  // The HTTP version used (CURLINFO_HTTP_VERSION: CURL_HTTP_VERSION_1_1, _2_0, ...); 0
  // when no answer arrived.
  long http_version = 0;

  std::string Header(const std::string& lowercase_name) const;
};

class CurlMulti {
 public:
  struct Options {
    long max_connections_per_host = 16;
    long max_connections = 256;
    // PEM file of the CAs to trust instead of the system's (CURLOPT_CAINFO); empty: the
    // system's.
    std::string ca_file;
  };
  using Callback = std::function<void(HttpResponse)>;

  CurlMulti(boost::asio::io_context& io, Options options);
  // Abandons transfers still running; their callbacks are not called.
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Starts `request`; `done` runs on the loop when it finishes, fails or times out.
  void Start(HttpRequest request, Callback done);
  size_t in_flight() const { return transfers_.size(); }
  // New connections finished transfers had to open (CURLINFO_NUM_CONNECTS): a measure
  // of keep-alive reuse.
  long connections_opened() const { return connections_opened_; }

 private:
  struct Transfer;
  struct Socket;
  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket);
  static int OnTimer(CURLM* multi, long timeout_ms, void* self);
  void Watch(const std::shared_ptr<Socket>& socket);
  void Action(curl_socket_t fd, int events);
  void CollectFinished();

  boost::asio::io_context& io_;
  CURLM* multi_;
  boost::asio::steady_timer timer_;
  std::map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
  long connections_opened_ = 0;
  std::string ca_file_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ghl::ghl_client
