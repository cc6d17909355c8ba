#include "emulator/router.h"

#include <rapidjson/document.h>

#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const size_t j = path.find('/', i);
    const size_t end = j == std::string::npos ? path.size() : j;
    if (end > i) out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

Reply Shaped(int status, const std::string& message, const char* error) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("statusCode", status, a);
  d.AddMember("message", Str(message, a), a);
  if (error != nullptr) d.AddMember("error", rapidjson::StringRef(error), a);
  return JsonReply(status, d);
}

}  // namespace

void Router::Add(http::verb method, std::string pattern, const char* version, Access access,
                 Handler handler) {
  Route r{method, pattern, Split(pattern), version, access, std::move(handler)};
  routes_.push_back(std::move(r));
}

const Route* Router::Match(http::verb method, const std::string& path,
                           std::map<std::string, std::string>* params, bool* path_matched) const {
  const auto parts = Split(path);
  const Route* best = nullptr;
  int best_literals = -1;
  *path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& seg = r.segments[i];
      if (!seg.empty() && seg.front() == '{') continue;
      ok = seg == parts[i];
      ++literals;
    }
    if (!ok) continue;
    *path_matched = true;
    if (r.method != method) continue;
    if (literals > best_literals) best = &r, best_literals = literals;
  }
  if (best != nullptr) {
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto& seg = best->segments[i];
      if (!seg.empty() && seg.front() == '{') {
        (*params)[seg.substr(1, seg.size() - 2)] = UrlDecode(parts[i]);
      }
    }
  }
  return best;
}

JsonDoc* Call::Body(std::optional<Reply>* error) {
  if (!body_) {
    const std::string& text = req.body();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      body_.emplace(rapidjson::kObjectType);
    } else {
      std::string why;
      auto parsed = Parse(text, &why);
      if (!parsed) {
        *error = BadRequest(why);
        return nullptr;
      }
      body_ = std::move(parsed);
    }
  }
  if (!body_->IsObject()) {
    *error = BadRequest("Request body must be a JSON object");
    return nullptr;
  }
  return &*body_;
}

std::optional<std::string> Call::Query(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<Reply> Call::CheckLocation(const std::string& location_id) const {
  if (location_id.empty()) return Unprocessable({"locationId should not be empty"});
  if (emu.world().FindLocation(location_id) == nullptr) {
    return BadRequest("Location not found: " + location_id);
  }
  if (token == nullptr) return std::nullopt;
  if (token->kind == Token::Kind::kCompanyOAuth) {
    const Location* loc = emu.world().FindLocation(location_id);
    if (loc->company_id == token->company_id) return std::nullopt;
  } else if (token->location_id == location_id) {
    return std::nullopt;
  }
  return Forbidden("The token does not have access to this location.");
}

Record* Call::Lookup(Collection& collection, const std::string& param, const std::string& what,
                     std::optional<Reply>* error) {
  Record* r = collection.Find(path[param]);
  if (r == nullptr) {
    *error = BadRequest(what + " not found");
    return nullptr;
  }
  if (auto denied = CheckLocation(r->location_id)) {
    *error = denied;
    return nullptr;
  }
  return r;
}

Reply Succeded(int status) {
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("succeded", true, d.GetAllocator());
  return JsonReply(status, d);
}

Reply JsonReply(int status, const Json& body) {
  Reply r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

Reply BadRequest(const std::string& message) { return Shaped(400, message, nullptr); }
Reply Unauthorized(const std::string& message) { return Shaped(401, message, "Unauthorized"); }
Reply Forbidden(const std::string& message) { return Shaped(403, message, "Forbidden"); }
Reply NotFound(const std::string& message) { return Shaped(404, message, nullptr); }
Reply TooManyRequests() { return Shaped(429, "Too Many Requests", nullptr); }
Reply ServerError(int status) { return Shaped(status, "Internal server error", nullptr); }

Reply Unprocessable(const std::vector<std::string>& messages) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("statusCode", 422, a);
  Json arr(rapidjson::kArrayType);
  for (const auto& m : messages) arr.PushBack(Str(m, a), a);
  d.AddMember("message", arr, a);
  d.AddMember("error", "Unprocessable Entity", a);
  return JsonReply(422, d);
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    const size_t amp = query.find('&', i);
    const std::string_view part =
        query.substr(i, amp == std::string_view::npos ? std::string_view::npos : amp - i);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out[UrlDecode(part)] = "";
      } else {
        out[UrlDecode(part.substr(0, eq))] = UrlDecode(part.substr(eq + 1));
      }
    }
    if (amp == std::string_view::npos) break;
    i = amp + 1;
  }
  return out;
}

}  // namespace ghl::emulator
