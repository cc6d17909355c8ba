#include "emulator/emulator.h"

#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace ghl::emulator {
namespace {

using http_server::Request;
using http_server::Responder;
using http_server::Response;

constexpr size_t kRequestLogLimit = 1'000'000;
constexpr std::string_view kAdminPrefix = "/_emulator/";
constexpr std::string_view kAsUserPrefix = "/_emulator/user/";

Response ToResponse(const Request& req, const Reply& reply,
                    const std::map<std::string, std::string>& headers) {
  Response res{static_cast<http::status>(reply.status), req.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  for (const auto& [k, v] : headers) res.set(k, v);
  for (const auto& [k, v] : reply.headers) res.set(k, v);
  res.body() = reply.body;
  return res;
}

void AfterDelay(boost::asio::io_context& io, int64_t ms, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(ms));
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code&) { fn(); });
}

}  // namespace

Emulator::Emulator(boost::asio::io_context& io, EmulatorOptions options)
    : io_(io),
      options_(options),
      limiter_(options.limits),
      ids_(options.seed),
      id_stream_(options.seed),
      fault_rng_(options.seed ^ 0x9e3779b97f4a7c15ULL) {
  RegisterContactRoutes(router_);
  RegisterCustomFieldRoutes(router_);
  RegisterOpportunityRoutes(router_);
  RegisterCalendarRoutes(router_);
  RegisterOAuthRoutes(router_);
  RegisterAdminRoutes(router_);
}

Emulator::~Emulator() = default;

int64_t Emulator::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Emulator::Chance(double p) {
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(fault_rng_) < p;
}

int Emulator::RandomServerError() {
  static constexpr int kStatuses[] = {500, 502, 503, 504};
  return kStatuses[std::uniform_int_distribution<int>(0, 3)(fault_rng_)];
}

bool Emulator::LoseAnswer(const Request& req, const std::string& path, const Reply& reply) {
  const auto m = req.method();
  const bool write = m == http::verb::post || m == http::verb::put || m == http::verb::patch ||
                     m == http::verb::delete_;
  // Inferred: only a write's answer is worth losing (a read can be repeated); the advanced
  // search is a read although it is a POST.
  if (!write || path == "/contacts/search" || reply.status >= 300) return false;
  return Chance(faults_.lost_answer_rate);
}

void Emulator::set_webhook_sink(std::unique_ptr<WebhookSink> sink) {
  sink_ = std::move(sink);
  if (sink_) sink_->SetFaults(faults_);
}

void Emulator::ApplyFaults() {
  if (sink_) sink_->SetFaults(faults_);
}

void Emulator::Emit(const std::string& type, const std::string& location_id, JsonDoc payload) {
  if (!payload.IsObject()) payload.SetObject();
  // type and locationId first, as in GHL's examples.
  JsonDoc event(rapidjson::kObjectType);
  auto& ea = event.GetAllocator();
  event.AddMember("type", Str(type, ea), ea);
  // Agency-level events (INSTALL/UNINSTALL of a company) carry no locationId at all.
  if (!location_id.empty()) event.AddMember("locationId", Str(location_id, ea), ea);
  for (auto& m : payload.GetObject()) {
    if (m.name == "type" || m.name == "locationId") continue;
    event.AddMember(Json(m.name, ea), Json(m.value, ea), ea);
  }
  if (mute_webhooks_) return;
  if (sink_) sink_->Publish(type, event);
  events_.push_back(std::move(event));
}

void Emulator::SpoilBody(Reply* reply) {
  if (faults_.body_fault == "truncated") {
    reply->body.resize(reply->body.size() / 2);
  } else if (faults_.body_fault == "html") {
    reply->body = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    reply->headers.emplace_back("Content-Type", "text/html");
  } else if (faults_.body_fault == "huge") {
    reply->body = "{\"padding\":\"" + std::string(40 << 20, 'x') + "\"}";
  } else {
    reply->body = "{\"contacts\": [{\"id\": ";
  }
}

Reply Emulator::ActAsUser(http::verb method, const std::string& target, std::string body,
                          bool webhooks) {
  Request req{method, target, 11};
  req.body() = std::move(body);
  DispatchInfo info;
  const bool was_muted = mute_webhooks_;
  mute_webhooks_ = !webhooks;
  Reply reply = Dispatch(req, &info, /*as_user=*/true);
  mute_webhooks_ = was_muted;
  return reply;
}

void Emulator::Handle(Request&& req, std::shared_ptr<Responder> responder) {
  std::string target(req.target());
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  const bool admin = path.rfind(kAdminPrefix, 0) == 0;
  if (path.rfind(kAsUserPrefix, 0) == 0) {
    const std::string api_target = target.substr(kAsUserPrefix.size() - 1);
    const Reply reply = ActAsUser(req.method(), api_target, req.body());
    return responder->Send(ToResponse(req, reply, {}));
  }

  if (!admin) {
    if (Chance(faults_.reset_rate)) return responder->Reset();
    if (Chance(faults_.timeout_rate)) {
      return AfterDelay(io_, faults_.timeout_ms, [responder] { responder->Reset(); });
    }
  }

  DispatchInfo info;
  Reply reply = Dispatch(req, &info, /*as_user=*/false);
  const bool lose = !admin && LoseAnswer(req, path, reply);
  if (!admin) {
    request_log_.push_back({info.at_ms, std::string(req.method_string()), path, reply.status,
                            info.rate_key, info.location_id, lose ? faults_.lost_answer : ""});
    if (request_log_.size() > kRequestLogLimit) request_log_.pop_front();
  }
  if (lose) {
    // Applied, then the answer is lost on its way back.
    if (faults_.lost_answer == "reset") return responder->Reset();
    if (faults_.lost_answer == "timeout") {
      return AfterDelay(io_, faults_.timeout_ms, [responder] { responder->Reset(); });
    }
    reply = ServerError(RandomServerError());
    info.headers.clear();
  }

  if (!admin && reply.status < 300 && Chance(faults_.body_fault_rate)) SpoilBody(&reply);
  auto res = std::make_shared<Response>(ToResponse(req, reply, info.headers));
  if (!admin && faults_.latency_ms > 0) {
    return AfterDelay(io_, faults_.latency_ms, [responder, res] { responder->Send(*res); });
  }
  responder->Send(std::move(*res));
}

Reply Emulator::HandleNow(Request& req) {
  DispatchInfo info;
  Reply reply = Dispatch(req, &info, /*as_user=*/false);
  const std::string target(req.target());
  request_log_.push_back({info.at_ms, std::string(req.method_string()),
                          target.substr(0, target.find('?')), reply.status, info.rate_key,
                          info.location_id, ""});
  if (request_log_.size() > kRequestLogLimit) request_log_.pop_front();
  for (auto& [k, v] : info.headers) reply.headers.emplace_back(k, v);
  return reply;
}

Reply Emulator::Dispatch(Request& req, DispatchInfo* info, bool as_user) {
  // One time for the whole request: the limiter judges it, the handler writes and the
  // request log records it at this time, so the log's windows are the limiter's.
  info->at_ms = NowMs();
  const std::string target(req.target());
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  std::map<std::string, std::string> params;
  bool path_matched = false;
  const Route* route = router_.Match(req.method(), path, &params, &path_matched);
  if (route == nullptr) {
    JsonDoc d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    d.AddMember("message", Str("Cannot " + std::string(req.method_string()) + " " + path, a), a);
    d.AddMember("error", "Not Found", a);
    d.AddMember("statusCode", 404, a);
    return JsonReply(404, d);
  }

  Call call{*this,
            req,
            std::move(params),
            q == std::string::npos ? std::map<std::string, std::string>{}
                                   : ParseQuery(std::string_view(target).substr(q + 1)),
            nullptr,
            NewId(),
            info->at_ms,
            std::nullopt};

  if (as_user && route->access == Access::kAdmin) return NotFound("not an API route");
  if (as_user || route->access == Access::kAdmin || route->access == Access::kPublic) {
    return route->handler(call);
  }

  // Auth.
  const std::string auth(req[http::field::authorization]);
  const std::string bearer = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  auto it = world_.tokens.find(bearer);
  const bool expired = it != world_.tokens.end() && it->second.expires_at_ms != 0 &&
                       it->second.expires_at_ms <= call.now_ms;
  if (bearer.empty() || it == world_.tokens.end() || it->second.revoked || expired ||
      faults_.unauthorized_tokens.count(bearer) > 0) {
    return Unauthorized("Invalid token: access token is invalid");
  }
  const Token& token = it->second;
  const bool company = token.kind == Token::Kind::kCompanyOAuth;
  if ((route->access == Access::kLocation && company) ||
      (route->access == Access::kAgency && !company)) {
    return Unauthorized("The token is not authorized for this scope.");
  }
  call.token = &token;
  info->location_id = token.location_id;

  // Version header.
  if (route->version != nullptr && req["Version"] != route->version) {
    return BadRequest(std::string("Version header must be ") + route->version);
  }

  // Rate limit.
  info->rate_key = token.RateKey();
  const RateDecision d =
      limiter_.Admit(info->rate_key,
                     std::chrono::system_clock::time_point(std::chrono::milliseconds(call.now_ms)));
  const auto& limits = limiter_.limits();
  info->headers["X-RateLimit-Limit-Daily"] = std::to_string(limits.daily);
  info->headers["X-RateLimit-Daily-Remaining"] = std::to_string(d.daily_remaining);
  info->headers["X-RateLimit-Interval-Milliseconds"] = std::to_string(limits.interval.count());
  info->headers["X-RateLimit-Max"] = std::to_string(limits.burst);
  info->headers["X-RateLimit-Remaining"] = std::to_string(d.burst_remaining);
  if (!d.allowed) return TooManyRequests();

  if (Chance(faults_.error_rate)) return ServerError(RandomServerError());
  return route->handler(call);
}

}  // namespace ghl::emulator
