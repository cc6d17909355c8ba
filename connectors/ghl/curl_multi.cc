#include "connectors/ghl/curl_multi.h"

#include <boost/asio/posix/stream_descriptor.hpp>

namespace ghl::ghl_client {

namespace asio = boost::asio;

std::string HttpResponse::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

struct CurlMulti::Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  HttpResponse response;
  Callback done;
  char error[CURL_ERROR_SIZE] = {};
  void* body_sink = nullptr;  // a BodySink, owned here
  void (*free_sink)(void*) = nullptr;
  std::chrono::steady_clock::time_point started;

  ~Transfer() {
    if (free_sink != nullptr) free_sink(body_sink);
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

// One socket curl asked us to watch. The descriptor does not own the fd: curl opens and
// closes it, and tells us with CURL_POLL_REMOVE first.
struct CurlMulti::Socket {
  Socket(asio::io_context& io, curl_socket_t fd) : fd(fd), descriptor(io, fd) {}
  ~Socket() {
    if (!descriptor.is_open()) return;
    boost::system::error_code ignored;
    descriptor.cancel(ignored);
    descriptor.release();
  }
  curl_socket_t fd;
  asio::posix::stream_descriptor descriptor;
  int wanted = 0;  // CURL_POLL_IN / OUT / INOUT
  bool reading = false, writing = false, removed = false;
};

namespace {

struct BodySink {
  HttpResponse* response;
  size_t limit;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->response->body.size() + size * n > sink->limit) {
    sink->response->too_large = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers.clear();  // a new block (after a 100 Continue or a redirect)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
  response->headers[name] = value;
  return size * n;
}

}  // namespace

CurlMulti::CurlMulti(asio::io_context& io, Options options)
    : io_(io),
      multi_(curl_multi_init()),
      timer_(io),
      ca_file_(std::move(options.ca_file)),
      alive_(std::make_shared<bool>(true)) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_connections_per_host);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_connections);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
}

CurlMulti::~CurlMulti() {
  *alive_ = false;
  timer_.cancel();
  for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  sockets_.clear();
  curl_multi_cleanup(multi_);
}

void CurlMulti::Start(HttpRequest request, Callback done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->done = std::move(done);
  t->started = std::chrono::steady_clock::now();
  CURL* e = t->easy = curl_easy_init();
  const auto& r = t->request;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  for (const auto& h : r.headers) t->headers = curl_slist_append(t->headers, h.c_str());
  t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  t->body_sink = new BodySink{&t->response, r.max_response_bytes};
  t->free_sink = [](void* p) { delete static_cast<BodySink*>(p); };
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t->body_sink);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t->response);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (!ca_file_.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  transfers_[e] = std::move(t);
  curl_multi_add_handle(multi_, e);  // curl then asks for a 0 ms timer to start it
}

int CurlMulti::OnSocket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  auto it = self->sockets_.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it != self->sockets_.end()) {
      // Stop watching now: curl closes the fd next, and the number may be reused.
      Socket& s = *it->second;
      s.removed = true;
      boost::system::error_code ignored;
      s.descriptor.cancel(ignored);
      s.descriptor.release();
      self->sockets_.erase(it);
    }
    return 0;
  }
  if (it == self->sockets_.end()) {
    it = self->sockets_.emplace(fd, std::make_shared<Socket>(self->io_, fd)).first;
  }
  it->second->wanted = what;
  self->Watch(it->second);
  return 0;
}

void CurlMulti::Watch(const std::shared_ptr<Socket>& s) {
  auto alive = alive_;
  if ((s->wanted & CURL_POLL_IN) && !s->reading) {
    s->reading = true;
    s->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                             [this, s, alive](const boost::system::error_code& ec) {
                               s->reading = false;
                               if (!*alive || ec || s->removed) return;
                               Action(s->fd, CURL_CSELECT_IN);
                               if (!s->removed) Watch(s);
                             });
  }
  if ((s->wanted & CURL_POLL_OUT) && !s->writing) {
    s->writing = true;
    s->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                             [this, s, alive](const boost::system::error_code& ec) {
                               s->writing = false;
                               if (!*alive || ec || s->removed) return;
                               Action(s->fd, CURL_CSELECT_OUT);
                               if (!s->removed) Watch(s);
                             });
  }
}

int CurlMulti::OnTimer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  self->timer_.cancel();
  if (timeout_ms < 0) return 0;
  // Even a 0 ms timeout goes through the loop: curl must not be re-entered from here.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  auto alive = self->alive_;
  self->timer_.async_wait([self, alive](const boost::system::error_code& ec) {
    if (!ec && *alive) self->Action(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void CurlMulti::Action(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  CollectFinished();
}

void CurlMulti::CollectFinished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    const CURLcode code = msg->data.result;
    curl_multi_remove_handle(multi_, e);
    auto it = transfers_.find(e);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    HttpResponse response = std::move(t->response);
    response.curl_code = code;
    long connects = 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    connections_opened_ += connects;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &response.http_version);
    if (code == CURLE_OK) {
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
    } else {
      response.status = 0;
      response.error = t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
      if (response.too_large) {
        response.error = "answer larger than " + std::to_string(t->request.max_response_bytes) +
                         " bytes; cut off";
      }
    }
    response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t->started);
    Callback done = std::move(t->done);
    t.reset();  // the easy handle is gone before user code runs
    if (done) done(std::move(response));
  }
}

}  // namespace ghl::ghl_client
