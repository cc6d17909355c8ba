// The admin API under /_emulator/: seed, act as a GHL user, inspect, reset, faults.
// Documented in README.md ("ghl-emulator"). No token, no rate limit, not logged.
#include <algorithm>

#include "emulator/emulator.h"
#include "emulator/snapshot.h"
#include "emulator/webhooks.h"

namespace ghl::emulator {
namespace {

Reply Ok(const Json& body) { return JsonReply(200, body); }

Json LocationJson(const Location& l, const std::string& token, Alloc& a) {
  Json o(rapidjson::kObjectType);
  o.AddMember("id", Str(l.id, a), a);
  o.AddMember("name", Str(l.name, a), a);
  o.AddMember("companyId", Str(l.company_id, a), a);
  o.AddMember("allowDuplicateContact", l.allow_duplicate_contact, a);
  Json prio(rapidjson::kArrayType);
  for (const auto& p : l.duplicate_priority) prio.PushBack(Str(p, a), a);
  o.AddMember("duplicatePriority", prio, a);
  o.AddMember("token", Str(token, a), a);
  return o;
}

Json Ids(const Collection& c, Alloc& a) {
  Json arr(rapidjson::kArrayType);
  for (const auto& [id, rec] : c.all()) arr.PushBack(Json(rec.doc, a), a);
  return arr;
}

Reply Info(Call& c) {
  Emulator& emu = c.emu;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json locs(rapidjson::kArrayType);
  for (const auto& [id, loc] : emu.world().locations) {
    std::string token;
    for (const auto& [t, info] : emu.world().tokens) {
      if (info.kind == Token::Kind::kPrivateIntegration && info.location_id == id) token = t;
    }
    locs.PushBack(LocationJson(loc, token, a), a);
  }
  d.AddMember("locations", locs, a);
  d.AddMember("users", Ids(emu.world().users, a), a);
  d.AddMember("pipelines", Ids(emu.world().pipelines, a), a);
  d.AddMember("calendars", Ids(emu.world().calendars, a), a);
  d.AddMember("customFields", Ids(emu.world().custom_fields, a), a);
  Json keys(rapidjson::kObjectType);
  if (auto* sink = emu.webhook_sink()) {
    keys.AddMember("ed25519", Str(sink->Ed25519PublicKeyPem(), a), a);
    keys.AddMember("rsa", Str(sink->RsaPublicKeyPem(), a), a);
  }
  d.AddMember("webhookPublicKeys", keys, a);
  return Ok(d);
}

Reply GetConfig(Call& c) {
  const auto& o = c.emu.options();
  const auto& l = c.emu.limiter().limits();
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json rl(rapidjson::kObjectType);
  rl.AddMember("enabled", l.enabled, a);
  rl.AddMember("burst", l.burst, a);
  rl.AddMember("intervalMs", static_cast<int64_t>(l.interval.count()), a);
  rl.AddMember("daily", l.daily, a);
  d.AddMember("rateLimit", rl, a);
  d.AddMember("searchLagMs", o.search_lag_ms, a);
  d.AddMember("accessTokenTtlS", o.access_token_ttl_s, a);
  return Ok(d);
}

Reply PutConfig(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  auto& o = c.emu.mutable_options();
  if (const Json* rl = GetObject(*body, "rateLimit")) {
    RateLimits l = c.emu.limiter().limits();
    if (auto v = GetBool(*rl, "enabled")) l.enabled = *v;
    if (auto v = GetNumber(*rl, "burst")) l.burst = static_cast<int64_t>(*v);
    if (auto v = GetNumber(*rl, "intervalMs")) l.interval = std::chrono::milliseconds(int64_t(*v));
    if (auto v = GetNumber(*rl, "daily")) l.daily = static_cast<int64_t>(*v);
    c.emu.limiter().set_limits(l);
    o.limits = l;
  }
  if (auto v = GetNumber(*body, "searchLagMs")) o.search_lag_ms = static_cast<int64_t>(*v);
  if (auto v = GetNumber(*body, "accessTokenTtlS")) o.access_token_ttl_s = static_cast<int64_t>(*v);
  return GetConfig(c);
}

Reply GetFaults(Call& c) {
  const Faults& f = c.emu.faults();
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("errorRate", f.error_rate, a);
  d.AddMember("resetRate", f.reset_rate, a);
  d.AddMember("timeoutRate", f.timeout_rate, a);
  d.AddMember("timeoutMs", f.timeout_ms, a);
  d.AddMember("latencyMs", f.latency_ms, a);
  d.AddMember("bodyFaultRate", f.body_fault_rate, a);
  d.AddMember("bodyFault", Str(f.body_fault, a), a);
  Json tokens(rapidjson::kArrayType);
  for (const auto& t : f.unauthorized_tokens) tokens.PushBack(Str(t, a), a);
  d.AddMember("unauthorizedTokens", tokens, a);
  d.AddMember("lostAnswerRate", f.lost_answer_rate, a);
  d.AddMember("lostAnswer", Str(f.lost_answer, a), a);
  d.AddMember("webhookDropRate", f.webhook_drop_rate, a);
  d.AddMember("webhookDuplicateRate", f.webhook_duplicate_rate, a);
  d.AddMember("webhookReorder", f.webhook_reorder, a);
  d.AddMember("webhookDelayMs", f.webhook_delay_ms, a);
  return Ok(d);
}

// PUT replaces the fault settings with the body (absent keys reset to "no fault").
Reply PutFaults(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  Faults f;
  f.error_rate = GetNumber(*body, "errorRate").value_or(0);
  f.reset_rate = GetNumber(*body, "resetRate").value_or(0);
  f.timeout_rate = GetNumber(*body, "timeoutRate").value_or(0);
  f.timeout_ms = static_cast<int64_t>(GetNumber(*body, "timeoutMs").value_or(30'000));
  f.latency_ms = static_cast<int64_t>(GetNumber(*body, "latencyMs").value_or(0));
  f.body_fault_rate = GetNumber(*body, "bodyFaultRate").value_or(0);
  f.body_fault = GetString(*body, "bodyFault").value_or("malformed");
  if (f.body_fault != "malformed" && f.body_fault != "truncated" && f.body_fault != "html" &&
      f.body_fault != "huge") {
    return Unprocessable({"bodyFault must be one of: malformed, truncated, html, huge"});
  }
  f.lost_answer_rate = GetNumber(*body, "lostAnswerRate").value_or(0);
  f.lost_answer = GetString(*body, "lostAnswer").value_or("5xx");
  if (f.lost_answer != "5xx" && f.lost_answer != "reset" && f.lost_answer != "timeout") {
    return Unprocessable({"lostAnswer must be one of: 5xx, reset, timeout"});
  }
  if (const Json* tokens = GetArray(*body, "unauthorizedTokens")) {
    for (const auto& t : tokens->GetArray()) {
      if (t.IsString()) f.unauthorized_tokens.insert(t.GetString());
    }
  }
  f.webhook_drop_rate = GetNumber(*body, "webhookDropRate").value_or(0);
  f.webhook_duplicate_rate = GetNumber(*body, "webhookDuplicateRate").value_or(0);
  f.webhook_reorder = GetBool(*body, "webhookReorder").value_or(false);
  f.webhook_delay_ms = static_cast<int64_t>(GetNumber(*body, "webhookDelayMs").value_or(0));
  for (double rate : {f.error_rate, f.reset_rate, f.timeout_rate, f.body_fault_rate,
                      f.lost_answer_rate, f.webhook_drop_rate, f.webhook_duplicate_rate}) {
    if (rate < 0 || rate > 1) return Unprocessable({"rates are shares between 0 and 1"});
  }
  c.emu.faults() = f;
  c.emu.ApplyFaults();
  return GetFaults(c);
}

Reply Requests(Call& c) {
  const int64_t since = std::atoll(c.Query("sinceMs").value_or("0").c_str());
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json arr(rapidjson::kArrayType);
  for (const auto& e : c.emu.request_log()) {
    if (e.at_ms < since) continue;
    Json o(rapidjson::kObjectType);
    o.AddMember("atMs", e.at_ms, a);
    o.AddMember("method", Str(e.method, a), a);
    o.AddMember("path", Str(e.path, a), a);
    o.AddMember("status", e.status, a);
    o.AddMember("rateKey", Str(e.rate_key, a), a);
    o.AddMember("locationId", Str(e.location_id, a), a);
    if (!e.lost_answer.empty()) o.AddMember("lostAnswer", Str(e.lost_answer, a), a);
    arr.PushBack(o, a);
  }
  d.AddMember("requests", arr, a);
  return Ok(d);
}

// The most requests any rate key had admitted (status other than 429) within one
// sliding window: what a test compares with the burst limit.
Reply MaxWindow(Call& c) {
  const int64_t window =
      std::atoll(c.Query("windowMs")
                     .value_or(std::to_string(c.emu.limiter().limits().interval.count()))
                     .c_str());
  std::map<std::string, std::vector<int64_t>> by_key;
  for (const auto& e : c.emu.request_log()) {
    if (!e.rate_key.empty() && e.status != 429) by_key[e.rate_key].push_back(e.at_ms);
  }
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json keys(rapidjson::kObjectType);
  int64_t overall = 0;
  for (auto& [key, times] : by_key) {
    const int64_t best = MaxInAnyWindow(std::move(times), std::chrono::milliseconds(window));
    keys.AddMember(Str(key, a), Json(best), a);
    overall = std::max(overall, best);
  }
  d.AddMember("windowMs", window, a);
  d.AddMember("max", overall, a);
  d.AddMember("byKey", keys, a);
  return Ok(d);
}

Reply ClearRequests(Call& c) {
  c.emu.request_log().clear();
  c.emu.limiter().Reset();
  JsonDoc d(rapidjson::kObjectType);
  return Ok(d);
}

Reply Events(Call& c) {
  const size_t since = static_cast<size_t>(std::atoll(c.Query("since").value_or("0").c_str()));
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json arr(rapidjson::kArrayType);
  const auto& events = c.emu.events();
  for (size_t i = since; i < events.size(); ++i) arr.PushBack(Json(events[i], a), a);
  d.AddMember("events", arr, a);
  d.AddMember("next", static_cast<uint64_t>(events.size()), a);
  return Ok(d);
}

// ---- webhook delivery (webhooks.h) ----

WebhookDispatcher* Dispatcher(Call& c) {
  return dynamic_cast<WebhookDispatcher*>(c.emu.webhook_sink());
}

Reply WebhookConfigReply(const WebhookDispatcher::Config& config) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json urls(rapidjson::kArrayType);
  for (const auto& u : config.urls) urls.PushBack(Str(u, a), a);
  d.AddMember("urls", urls, a);
  Json schedule(rapidjson::kArrayType);
  for (int64_t ms : config.retry_schedule_ms) schedule.PushBack(ms, a);
  d.AddMember("retryScheduleMs", schedule, a);
  d.AddMember("timeoutMs", config.timeout_ms, a);
  return Ok(d);
}

Reply GetWebhookConfig(Call& c) {
  WebhookDispatcher* dispatcher = Dispatcher(c);
  if (!dispatcher) return NotFound("webhook delivery is not set up");
  return WebhookConfigReply(dispatcher->config());
}

// PUT changes the keys present in the body ({urls, retryScheduleMs, timeoutMs}) for
// events fired from now on; attempts already queued keep their settings.
Reply PutWebhookConfig(Call& c) {
  WebhookDispatcher* dispatcher = Dispatcher(c);
  if (!dispatcher) return NotFound("webhook delivery is not set up");
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  WebhookDispatcher::Config config = dispatcher->config();
  if (body->HasMember("urls")) {
    const Json* urls = GetArray(*body, "urls");
    if (!urls) return Unprocessable({"urls must be an array of strings"});
    config.urls.clear();
    for (const auto& u : urls->GetArray()) {
      if (!u.IsString()) return Unprocessable({"urls must be an array of strings"});
      config.urls.emplace_back(u.GetString());
    }
  }
  if (body->HasMember("retryScheduleMs")) {
    const Json* schedule = GetArray(*body, "retryScheduleMs");
    if (!schedule) return Unprocessable({"retryScheduleMs must be an array of numbers"});
    config.retry_schedule_ms.clear();
    for (const auto& ms : schedule->GetArray()) {
      if (!ms.IsNumber()) return Unprocessable({"retryScheduleMs must be an array of numbers"});
      config.retry_schedule_ms.push_back(static_cast<int64_t>(ms.GetDouble()));
    }
  }
  if (body->HasMember("timeoutMs")) {
    const auto ms = GetNumber(*body, "timeoutMs");
    if (!ms) return Unprocessable({"timeoutMs must be a number"});
    config.timeout_ms = static_cast<int64_t>(*ms);
  }
  if (auto set = dispatcher->SetConfig(config); !set.ok()) {
    return Unprocessable({set.error().message});
  }
  return WebhookConfigReply(dispatcher->config());
}

Json DeliveryJson(const WebhookDelivery& d, Alloc& a) {
  Json o(rapidjson::kObjectType);
  o.AddMember("index", d.index, a);
  o.AddMember("webhookId", Str(d.webhook_id, a), a);
  o.AddMember("type", Str(d.type, a), a);
  o.AddMember("url", Str(d.url, a), a);
  o.AddMember("attempt", d.attempt, a);
  o.AddMember("status", d.status, a);
  o.AddMember("error", Str(d.error, a), a);
  o.AddMember("outcome", Str(d.outcome, a), a);
  o.AddMember("duplicate", d.duplicate, a);
  o.AddMember("atMs", d.at_ms, a);
  o.AddMember("at", Str(IsoTime(d.at_ms), a), a);
  o.AddMember("durationMs", d.duration_ms, a);
  return o;
}

// Every delivery attempt (and drop), oldest first; filters: since, webhookId, url, type.
Reply WebhookDeliveries(Call& c) {
  WebhookDispatcher* dispatcher = Dispatcher(c);
  if (!dispatcher) return NotFound("webhook delivery is not set up");
  const uint64_t since = std::strtoull(c.Query("since").value_or("0").c_str(), nullptr, 10);
  const auto id = c.Query("webhookId"), url = c.Query("url"), type = c.Query("type");
  uint64_t next = 0;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json arr(rapidjson::kArrayType);
  for (const auto& del : dispatcher->Deliveries(since, &next)) {
    if ((id && del.webhook_id != *id) || (url && del.url != *url) || (type && del.type != *type)) {
      continue;
    }
    arr.PushBack(DeliveryJson(del, a), a);
  }
  d.AddMember("deliveries", arr, a);
  d.AddMember("next", next, a);
  return Ok(d);
}

Reply ClearWebhookDeliveries(Call& c) {
  WebhookDispatcher* dispatcher = Dispatcher(c);
  if (!dispatcher) return NotFound("webhook delivery is not set up");
  dispatcher->ClearDeliveries();
  JsonDoc d(rapidjson::kObjectType);
  return Ok(d);
}

Reply State(Call& c) {
  World& w = c.emu.world();
  const auto object = c.Query("object").value_or("contacts");
  const auto location = c.Query("locationId").value_or("");
  const std::map<std::string, Collection*> collections = {{"contacts", &w.contacts},
                                                          {"opportunities", &w.opportunities},
                                                          {"appointments", &w.appointments},
                                                          {"customFields", &w.custom_fields},
                                                          {"pipelines", &w.pipelines},
                                                          {"calendars", &w.calendars},
                                                          {"users", &w.users}};
  auto it = collections.find(object);
  if (it == collections.end()) return NotFound("unknown object " + object);
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json arr(rapidjson::kArrayType);
  for (const auto& [id, rec] : it->second->all()) {
    if (location.empty() || rec.location_id == location) arr.PushBack(Json(rec.doc, a), a);
  }
  d.AddMember(Str(object, a), arr, a);
  return Ok(d);
}

Reply AddLocation(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  Emulator& emu = c.emu;
  Location loc;
  loc.id = GetString(*body, "id").value_or(emu.NewId());
  if (emu.world().FindLocation(loc.id)) return BadRequest("location " + loc.id + " exists");
  loc.name = GetString(*body, "name").value_or("Location " + loc.id);
  loc.company_id = GetString(*body, "companyId").value_or("company-default");
  loc.allow_duplicate_contact = GetBool(*body, "allowDuplicateContact").value_or(false);
  if (const Json* prio = GetArray(*body, "duplicatePriority")) {
    loc.duplicate_priority.clear();
    for (const auto& p : prio->GetArray()) {
      if (p.IsString()) loc.duplicate_priority.emplace_back(p.GetString());
    }
  }
  const std::string token = GetString(*body, "token").value_or("pit-" + emu.NewId(32));
  if (GetBool(*body, "seed").value_or(false)) {
    // As the default location: a user, the "Sales Pipeline", a calendar, custom fields.
    emu.SeedLocation(loc, token);
  } else {
    Token t;
    t.location_id = loc.id;
    t.company_id = loc.company_id;
    emu.world().tokens[token] = t;
    emu.world().locations[loc.id] = loc;
  }
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("location", LocationJson(loc, token, d.GetAllocator()), d.GetAllocator());
  return JsonReply(201, d);
}

// N generated contacts, deterministic under the seed; no webhooks (a bulk import).
Reply GenerateContacts(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  const std::string location = c.path["locationId"];
  if (!c.emu.world().FindLocation(location)) return NotFound("unknown location " + location);
  const int64_t count = static_cast<int64_t>(GetNumber(*body, "count").value_or(0));
  if (count < 0 || count > 5'000'000) return Unprocessable({"count must be 0..5000000"});
  static const char* kFirst[] = {"Ada", "Grace",   "Alan",   "Edsger", "Barbara",
                                 "Ken", "Frances", "Donald", "Radia",  "Niklaus"};
  static const char* kLast[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov",
                                "Thompson", "Allen",  "Knuth",  "Perlman",  "Wirth"};
  Emulator& emu = c.emu;
  const size_t before = emu.world().contacts.size();
  for (int64_t i = 0; i < count; ++i) {
    const std::string n = std::to_string(before + static_cast<size_t>(i));
    JsonDoc fields(rapidjson::kObjectType);
    auto& a = fields.GetAllocator();
    fields.AddMember("locationId", Str(location, a), a);
    fields.AddMember("firstName", Str(kFirst[(before + i) % 10], a), a);
    fields.AddMember("lastName", Str(kLast[(before + i) / 10 % 10], a), a);
    fields.AddMember("email", Str("contact" + n + "@example.com", a), a);
    char phone[32];
    std::snprintf(phone, sizeof(phone), "+1555%07lld", static_cast<long long>(before + i));
    fields.AddMember("phone", Str(phone, a), a);
    const Reply r = emu.ActAsUser(http::verb::post, "/contacts/", Dump(fields), /*webhooks=*/false);
    if (r.status != 201) return r;
  }
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("created", count, d.GetAllocator());
  return JsonReply(201, d);
}

// POST /_emulator/snapshot: saves the world to the snapshot file now, as at SIGTERM.
Reply SaveSnapshotNow(Call& c) {
  const std::string& path = c.emu.options().snapshot_path;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  if (path.empty()) {
    d.AddMember("statusCode", 409, a);
    d.AddMember("message",
                "no snapshot file is configured: start ghl-emulator with --snapshot FILE (or "
                "`snapshot:` in its config file)",
                a);
    d.AddMember("error", "Conflict", a);
    return JsonReply(409, d);
  }
  auto saved = SaveSnapshot(c.emu, path);
  if (!saved.ok()) {
    d.AddMember("statusCode", 500, a);
    d.AddMember("message", Str(saved.error().message, a), a);
    return JsonReply(500, d);
  }
  d.AddMember("path", Str(path, a), a);
  d.AddMember("records", static_cast<uint64_t>(*saved), a);
  return Ok(d);
}

}  // namespace

void RegisterAdminRoutes(Router& r) {
  using http::verb;
  const Access admin = Access::kAdmin;
  r.Add(verb::get, "/_emulator/info", nullptr, admin, Info);
  r.Add(verb::get, "/_emulator/config", nullptr, admin, GetConfig);
  r.Add(verb::put, "/_emulator/config", nullptr, admin, PutConfig);
  r.Add(verb::get, "/_emulator/faults", nullptr, admin, GetFaults);
  r.Add(verb::put, "/_emulator/faults", nullptr, admin, PutFaults);
  r.Add(verb::get, "/_emulator/requests", nullptr, admin, Requests);
  r.Add(verb::delete_, "/_emulator/requests", nullptr, admin, ClearRequests);
  r.Add(verb::get, "/_emulator/requests/max-window", nullptr, admin, MaxWindow);
  r.Add(verb::get, "/_emulator/webhooks", nullptr, admin, Events);
  r.Add(verb::get, "/_emulator/webhooks/config", nullptr, admin, GetWebhookConfig);
  r.Add(verb::put, "/_emulator/webhooks/config", nullptr, admin, PutWebhookConfig);
  r.Add(verb::get, "/_emulator/webhooks/deliveries", nullptr, admin, WebhookDeliveries);
  r.Add(verb::delete_, "/_emulator/webhooks/deliveries", nullptr, admin, ClearWebhookDeliveries);
  r.Add(verb::get, "/_emulator/state", nullptr, admin, State);
  r.Add(verb::post, "/_emulator/locations", nullptr, admin, AddLocation);
  r.Add(verb::post, "/_emulator/locations/{locationId}/contacts/generate", nullptr, admin,
        GenerateContacts);
  r.Add(verb::post, "/_emulator/snapshot", nullptr, admin, SaveSnapshotNow);
  r.Add(verb::post, "/_emulator/reset", nullptr, admin, [](Call& c) {
    c.emu.Reset();
    std::string summary = c.emu.SeedDefault();
    (void)summary;
    return Info(c);
  });
}

}  // namespace ghl::emulator
