// JsonApiServer: a small JSON REST API on 127.0.0.1 (a free port) for the REST connector's
// tests: one in-memory collection under <url>/customers, served by core/http_server.h.
//
//   GET    /customers            list; paging by Options::paging (see below), filters
//                                `updated_since=<ISO 8601>` (items with updated_at >= it)
//                                and `email=<address>` (items with that email)
//   GET    /customers/{id}       one item, or 404
//   POST   /customers            create: 201 with the item and a Location header; the id
//                                is assigned ("1", "2", ...) unless the body brings one (409
//                                if taken) and Options::assign_ids is false. With
//                                Options::idempotency_header, a create whose header value was seen
//                                before is not made again: the first one's answer is given again
//   PUT    /customers/{id}       replace (id and updated_at kept/set); PATCH merges members
//   DELETE /customers/{id}       204, or 404
// Every write sets updated_at from the server's clock, which starts at
// 2024-01-01T00:00:00.000Z and moves one second per write (Options::clock_step_ms; 0 is a
// coarse clock: every write lands in the same second). A body whose "email" has no '@'
// is refused with 422. List answers are {"data": [...], "meta": {"next_cursor": ...}}
// (a bare array for Paging::kNone); page size parameter `limit`.
//
// Fault switches apply to the next requests, in this order: Reset (the connection is
// dropped), Fail (status, with Retry-After for 429), Delay (the answer is held). Reset and
// Fail come before the request is carried out; LoseAnswers (a request carried out, then
// its answer lost to a reset or a 500) and Delay (past the client's timeout) after it.
// Thread-safety: every method may be called from the test's thread.
#pragma once

#include <fmt/chrono.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/http_server.h"
#include "tests/support/loopback_server.h"

namespace ghl::testing {

class JsonApiServer {
 public:
  enum class Paging { kNone, kPage, kOffset, kCursor, kLink };
  struct Options {
    Paging paging = Paging::kPage;
    std::string bearer;                // required token; "" = no auth check
    bool empty_write_answers = false;  // create/update answer 204 with no body
    int64_t clock_step_ms = 1000;      // how far the clock moves per write
    std::string idempotency_header;    // creates are deduplicated by it; "" = not honoured
    bool assign_ids = false;           // a create's id is always assigned (the body's ignored)
  };
  // How LoseAnswers loses an answer.
  enum class Loss { kReset, kServerError, kLate };
  struct Hit {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // names lowercased
  };

  JsonApiServer() : JsonApiServer(Options()) {}
  explicit JsonApiServer(Options options) : options_(std::move(options)) {
    url_ = "http://127.0.0.1:" + std::to_string(server_.port()) + "/api";
  }
  JsonApiServer(const JsonApiServer&) = delete;
  JsonApiServer& operator=(const JsonApiServer&) = delete;

  // The API's root, to use as base_url ("http://127.0.0.1:<port>/api").
  const std::string& url() const { return url_; }

  void SetPaging(Paging paging) {
    std::lock_guard lock(mu_);
    options_.paging = paging;
  }
  // The next `n` requests answer `status` (with `Retry-After: <retry_after>` when set).
  void Fail(int n, int status, std::string retry_after = "") {
    std::lock_guard lock(mu_);
    fail_left_ = n, fail_status_ = status, retry_after_ = std::move(retry_after);
  }
  // The next `n` requests are held for `delay` before the answer.
  void Delay(int n, std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    delay_left_ = n, delay_ = delay;
  }
  // The next `n` requests get their connection closed without an answer.
  void Reset(int n) {
    std::lock_guard lock(mu_);
    reset_left_ = n;
  }
  // The next `n` requests (of `method` only, when given) are carried out, and then their
  // answer is lost: the connection is reset, 500 is answered instead, or the answer comes
  // `late` (past the client's timeout).
  void LoseAnswers(int n, Loss how, std::string method = "",
                   std::chrono::milliseconds late = std::chrono::milliseconds(3000)) {
    std::lock_guard lock(mu_);
    lose_left_ = n, lose_how_ = how, lose_method_ = std::move(method), lose_late_ = late;
  }
  // Creates carried out (answered or not), idempotent repeats not counted.
  int creates() const {
    std::lock_guard lock(mu_);
    return creates_;
  }

  // Adds an item as given (it may lack an id, or not be an object); returns its id or "".
  std::string Insert(const std::string& json) {
    std::lock_guard lock(mu_);
    rapidjson::Document doc;
    doc.Parse(json.c_str(), json.size());
    if (doc.HasParseError()) std::abort();
    std::string id;
    if (doc.IsObject() && doc.HasMember("id") && doc["id"].IsString()) id = doc["id"].GetString();
    items_.push_back({id, std::move(doc)});
    return id;
  }
  // The item's JSON, or "" when there is none.
  std::string Item(const std::string& id) const {
    std::lock_guard lock(mu_);
    const auto* e = FindLocked(id);
    return e == nullptr ? "" : Dump(e->doc);
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::vector<Hit> hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }
  void ClearHits() {
    std::lock_guard lock(mu_);
    hits_.clear();
  }
  // The time of the last write, as written to updated_at (it advances clock_step_ms per
  // write).
  std::string Now() const {
    std::lock_guard lock(mu_);
    return Iso(now_ms_);
  }

  static std::string Dump(const rapidjson::Value& v) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    v.Accept(w);
    return {buffer.GetString(), buffer.GetSize()};
  }

 private:
  struct Entry {
    std::string id;
    rapidjson::Document doc;
  };
  using Response = http_server::Response;
  using Status = http_server::http::status;

  static std::string Iso(int64_t ms) {
    const std::chrono::sys_seconds t{std::chrono::seconds(ms / 1000)};
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", t, ms % 1000);
  }

  const Entry* FindLocked(const std::string& id) const {
    for (const auto& e : items_) {
      if (!id.empty() && e.id == id) return &e;
    }
    return nullptr;
  }
  Entry* FindLocked(const std::string& id) {
    return const_cast<Entry*>(std::as_const(*this).FindLocked(id));
  }

  static std::map<std::string, std::string> Query(const std::string& target) {
    std::map<std::string, std::string> out;
    const size_t q = target.find('?');
    if (q == std::string::npos) return out;
    size_t start = q + 1;
    while (start <= target.size()) {
      size_t end = target.find('&', start);
      if (end == std::string::npos) end = target.size();
      const std::string pair = target.substr(start, end - start);
      const size_t eq = pair.find('=');
      if (!pair.empty()) {
        out[Unescape(pair.substr(0, eq))] =
            eq == std::string::npos ? "" : Unescape(pair.substr(eq + 1));
      }
      start = end + 1;
    }
    return out;
  }
  static std::string Unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  }

  Response Json(const http_server::Request& req, Status status, const std::string& body) {
    return http_server::TextResponse(req, status, body, "application/json");
  }
  Response Error(const http_server::Request& req, Status status, const std::string& message) {
    rapidjson::Document d(rapidjson::kObjectType);
    d.AddMember("error", rapidjson::Value(message.c_str(), d.GetAllocator()), d.GetAllocator());
    return Json(req, status, Dump(d));
  }

  void OnRequest(http_server::Request&& req, std::shared_ptr<http_server::Responder> responder) {
    std::optional<Response> res;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      Hit hit{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        hit.headers[name] = std::string(f.value());
      }
      hits_.push_back(std::move(hit));
      if (reset_left_ > 0) {
        --reset_left_;
        return responder->Reset();
      }
      if (delay_left_ > 0) --delay_left_, delay = delay_;
      if (fail_left_ > 0) {
        --fail_left_;
        res = Error(req, static_cast<Status>(fail_status_), "injected fault");
        if (!retry_after_.empty()) res->set(http_server::http::field::retry_after, retry_after_);
      } else {
        res = HandleLocked(req);
        if (lose_left_ > 0 && (lose_method_.empty() || lose_method_ == hits_.back().method)) {
          --lose_left_;
          if (lose_how_ == Loss::kReset) return responder->Reset();
          if (lose_how_ == Loss::kLate) {
            delay = lose_late_;
          } else {
            res = Error(req, Status::internal_server_error, "injected fault after the write");
          }
        }
      }
    }
    if (delay.count() == 0) return responder->Send(std::move(*res));
    auto timer = std::make_shared<boost::asio::steady_timer>(server_.io(), delay);
    auto shared = std::make_shared<Response>(std::move(*res));
    timer->async_wait([timer, responder, shared](const boost::system::error_code&) {
      responder->Send(std::move(*shared));
    });
  }

  Response HandleLocked(const http_server::Request& req) {
    if (!options_.bearer.empty() &&
        req[http_server::http::field::authorization] != "Bearer " + options_.bearer) {
      return Error(req, Status::unauthorized, "invalid or missing bearer token");
    }
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const std::string collection = "/api/customers";
    if (path == collection && req.method() == http_server::http::verb::get) return List(req);
    if (path == collection && req.method() == http_server::http::verb::post) return Create(req);
    if (path.rfind(collection + "/", 0) != 0) return Error(req, Status::not_found, "no route");
    const std::string id = Unescape(path.substr(collection.size() + 1));
    Entry* e = FindLocked(id);
    if (e == nullptr) return Error(req, Status::not_found, "no customer " + id);
    switch (req.method()) {
      case http_server::http::verb::get:
        return Json(req, Status::ok, Dump(e->doc));
      case http_server::http::verb::put:
      case http_server::http::verb::patch:
        return Update(req, *e);
      case http_server::http::verb::delete_: {
        for (auto it = items_.begin(); it != items_.end(); ++it) {
          if (&*it == e) {
            items_.erase(it);
            break;
          }
        }
        return http_server::TextResponse(req, Status::no_content, "");
      }
      default:
        return Error(req, Status::method_not_allowed, "method not allowed");
    }
  }

  // The request body as an object, or an error answer.
  std::optional<Response> ReadBody(const http_server::Request& req, rapidjson::Document& doc) {
    doc.Parse(req.body().c_str(), req.body().size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Error(req, Status::bad_request, "the body must be a JSON object");
    }
    if (doc.HasMember("email") && doc["email"].IsString() &&
        std::string(doc["email"].GetString()).find('@') == std::string::npos) {
      return Error(req, Status::unprocessable_entity, "email must be an email address");
    }
    return std::nullopt;
  }

  void Stamp(rapidjson::Document& doc) {
    now_ms_ += options_.clock_step_ms;
    doc.RemoveMember("updated_at");
    doc.AddMember("updated_at", rapidjson::Value(Iso(now_ms_).c_str(), doc.GetAllocator()),
                  doc.GetAllocator());
  }

  Response Written(const http_server::Request& req, Status status, const Entry& e) {
    if (options_.empty_write_answers) return http_server::TextResponse(req, Status::no_content, "");
    return Json(req, status, Dump(e.doc));
  }

  Response Create(const http_server::Request& req) {
    std::string key;
    if (!options_.idempotency_header.empty()) {
      key = std::string(req[options_.idempotency_header]);
      if (auto seen = idempotent_.find(key); !key.empty() && seen != idempotent_.end()) {
        return seen->second;
      }
    }
    Response res = CreateNew(req);
    if (!key.empty()) idempotent_.emplace(key, res);
    return res;
  }

  Response CreateNew(const http_server::Request& req) {
    rapidjson::Document doc;
    if (auto bad = ReadBody(req, doc)) return *bad;
    std::string id;
    if (!options_.assign_ids && doc.HasMember("id") && doc["id"].IsString()) {
      id = doc["id"].GetString();
      if (FindLocked(id) != nullptr) return Error(req, Status::conflict, "id " + id + " is taken");
    } else {
      id = std::to_string(++last_id_);
      doc.RemoveMember("id");
      doc.AddMember("id", rapidjson::Value(id.c_str(), doc.GetAllocator()), doc.GetAllocator());
    }
    Stamp(doc);
    ++creates_;
    items_.push_back({id, std::move(doc)});
    Response res = Written(req, Status::created, items_.back());
    res.set(http_server::http::field::location, "/api/customers/" + id);
    return res;
  }

  Response Update(const http_server::Request& req, Entry& e) {
    rapidjson::Document doc;
    if (auto bad = ReadBody(req, doc)) return *bad;
    if (req.method() == http_server::http::verb::put) {
      e.doc.SetObject();
      e.doc.AddMember("id", rapidjson::Value(e.id.c_str(), e.doc.GetAllocator()),
                      e.doc.GetAllocator());
    }
    for (auto& m : doc.GetObject()) {
      if (std::string(m.name.GetString()) == "id") continue;
      e.doc.RemoveMember(m.name.GetString());
      e.doc.AddMember(rapidjson::Value(m.name, e.doc.GetAllocator()),
                      rapidjson::Value(m.value, e.doc.GetAllocator()), e.doc.GetAllocator());
    }
    Stamp(e.doc);
    return Written(req, Status::ok, e);
  }

  Response List(const http_server::Request& req) {
    const std::string target(req.target());
    auto q = Query(target);
    std::vector<const Entry*> matching;
    for (const auto& e : items_) {
      if (q.count("updated_since") > 0) {
        if (!e.doc.IsObject() || !e.doc.HasMember("updated_at")) continue;
        if (std::string(e.doc["updated_at"].GetString()) < q["updated_since"]) continue;
      }
      if (q.count("email") > 0) {
        if (!e.doc.IsObject() || !e.doc.HasMember("email") || !e.doc["email"].IsString() ||
            e.doc["email"].GetString() != q["email"]) {
          continue;
        }
      }
      matching.push_back(&e);
    }
    const size_t limit = q.count("limit") > 0 ? std::stoul(q["limit"]) : 100;
    size_t start = 0;
    switch (options_.paging) {
      case Paging::kNone:
        break;
      case Paging::kPage:
      case Paging::kLink:
        start = (q.count("page") > 0 ? std::stoul(q["page"]) - 1 : 0) * limit;
        break;
      case Paging::kOffset:
        start = q.count("offset") > 0 ? std::stoul(q["offset"]) : 0;
        break;
      case Paging::kCursor:
        start = q.count("cursor") > 0 ? std::stoul(q["cursor"].substr(1)) : 0;
        break;
    }
    const size_t end = options_.paging == Paging::kNone ? matching.size()
                                                        : std::min(matching.size(), start + limit);
    rapidjson::Document out(rapidjson::kArrayType);
    auto& a = out.GetAllocator();
    for (size_t i = start; i < end; ++i) out.PushBack(rapidjson::Value(matching[i]->doc, a), a);
    if (options_.paging == Paging::kNone) return Json(req, Status::ok, Dump(out));
    const bool more = end < matching.size();
    rapidjson::Document body(rapidjson::kObjectType);
    auto& b = body.GetAllocator();
    body.AddMember("data", rapidjson::Value(out, b), b);
    rapidjson::Value meta(rapidjson::kObjectType);
    if (options_.paging == Paging::kCursor && more) {
      meta.AddMember("next_cursor", rapidjson::Value(("c" + std::to_string(end)).c_str(), b), b);
    } else {
      meta.AddMember("next_cursor", rapidjson::Value(rapidjson::kNullType), b);
    }
    body.AddMember("meta", meta, b);
    Response res = Json(req, Status::ok, Dump(body));
    if (options_.paging == Paging::kLink && more) {
      const std::string next =
          "http://127.0.0.1:" + std::to_string(server_.port()) +
          "/api/customers?limit=" + std::to_string(limit) +
          "&page=" + std::to_string(end / limit + 1) +
          (q.count("updated_since") > 0 ? "&updated_since=" + q["updated_since"] : "");
      res.set(http_server::http::field::link,
              "<" + url_ + "/customers>; rel=\"first\", <" + next + ">; rel=\"next\"");
    }
    return res;
  }

  mutable std::mutex mu_;
  Options options_;
  std::vector<Entry> items_;
  int64_t last_id_ = 0;
  int64_t now_ms_ = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  int fail_left_ = 0, fail_status_ = 500, delay_left_ = 0, reset_left_ = 0, lose_left_ = 0;
  int creates_ = 0;
  Loss lose_how_ = Loss::kReset;
  std::chrono::milliseconds lose_late_{0};
  std::string lose_method_;
  std::map<std::string, Response> idempotent_;  // idempotency key -> the create's answer
  std::string retry_after_;
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
