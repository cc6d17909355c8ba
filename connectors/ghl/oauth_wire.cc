#include "connectors/ghl/oauth_wire.h"

#include <curl/curl.h>
#include <rapidjson/document.h>

#include <memory>

namespace ghl::ghl_client::oauth_wire {
namespace {

constexpr const char* kFormType = "Content-Type: application/x-www-form-urlencoded";

std::string Escape(const std::string& s) {
  // curl_easy_escape ignores its handle argument since curl 7.82.
  std::unique_ptr<char, decltype(&curl_free)> out(
      curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())), &curl_free);
  return out ? std::string(out.get()) : std::string();
}

HttpRequest FormPost(const std::string& url, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.headers = {kFormType, "Accept: application/json"};
  r.body = std::move(body);
  return r;
}

std::string GetString(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

// GHL's message: a string, or an array of strings (422); else `error`.
std::string Message(const rapidjson::Document& d) {
  if (!d.IsObject()) return "";
  std::string out;
  if (auto it = d.FindMember("message"); it != d.MemberEnd()) {
    if (it->value.IsString()) out = it->value.GetString();
    if (it->value.IsArray()) {
      for (const auto& m : it->value.GetArray()) {
        if (m.IsString()) out += (out.empty() ? "" : ", ") + std::string(m.GetString());
      }
    }
  }
  return out.empty() ? GetString(d, "error") : out;
}

// Fills `a.tokens` from a 2xx body; false if it is not a usable token answer.
bool ReadTokens(const rapidjson::Document& d, int64_t now_ms, bool location_token, TokenAnswer& a) {
  if (!d.IsObject()) return false;
  auto& t = a.tokens;
  t.access_token = Secret(GetString(d, "access_token"));
  t.refresh_token = Secret(GetString(d, "refresh_token"));
  t.scopes = GetString(d, "scope");
  t.company_id = GetString(d, "companyId");
  const std::string location = GetString(d, "locationId");
  auto type = state::ParseOAuthUserType(GetString(d, "userType"));
  if (location_token) type = state::OAuthUserType::kLocation;
  if (!type)
    type = location.empty() ? state::OAuthUserType::kCompany : state::OAuthUserType::kLocation;
  t.user_type = *type;
  t.resource = *type == state::OAuthUserType::kCompany ? t.company_id : location;
  // FACTS §1.3: expires_in in seconds (86399); a day when absent, as the official SDK does.
  int64_t expires_in = 86'400;
  if (auto it = d.FindMember("expires_in"); it != d.MemberEnd() && it->value.IsNumber()) {
    expires_in = static_cast<int64_t>(it->value.GetDouble());
  }
  t.expires_at_ms = now_ms + expires_in * 1000;
  if (auto it = d.FindMember("approvedLocations"); it != d.MemberEnd() && it->value.IsArray()) {
    for (const auto& id : it->value.GetArray()) {
      if (id.IsString()) a.approved_locations.emplace_back(id.GetString());
    }
  }
  // A location token's answer should name its location; the caller knows which it asked for.
  return !t.access_token.empty() && (location_token || !t.resource.empty());
}

}  // namespace

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += Escape(name) + "=" + Escape(value);
  }
  return out;
}

HttpRequest CodeExchange(const std::string& token_url, const AppCredentials& app,
                         const std::string& code, const std::string& redirect_uri,
                         const std::string& user_type) {
  std::vector<std::pair<std::string, std::string>> f = {
      {"client_id", app.client_id},
      {"client_secret", app.client_secret.Reveal()},
      {"grant_type", "authorization_code"},
      {"code", code}};
  if (!redirect_uri.empty()) f.emplace_back("redirect_uri", redirect_uri);
  if (!user_type.empty()) f.emplace_back("user_type", user_type);
  return FormPost(token_url, FormEncode(f));
}

HttpRequest RefreshGrant(const std::string& token_url, const AppCredentials& app,
                         const Secret& refresh_token, state::OAuthUserType user_type) {
  return FormPost(token_url, FormEncode({{"client_id", app.client_id},
                                         {"client_secret", app.client_secret.Reveal()},
                                         {"grant_type", "refresh_token"},
                                         {"refresh_token", refresh_token.Reveal()},
                                         {"user_type", state::ToString(user_type)}}));
}

HttpRequest LocationToken(const std::string& url, const std::string& version,
                          const Secret& agency_token, const std::string& company_id,
                          const std::string& location_id) {
  HttpRequest r =
      FormPost(url, FormEncode({{"companyId", company_id}, {"locationId", location_id}}));
  r.headers.push_back("Authorization: Bearer " + agency_token.Reveal());
  r.headers.push_back("Version: " + version);
  return r;
}

TokenAnswer ParseTokenAnswer(const HttpResponse& r, int64_t now_ms, bool location_token) {
  TokenAnswer a;
  a.status = r.status;
  if (r.status == 0) {
    a.maybe_spent = true;
    a.problem = "no answer from GHL: " + r.error;
    return a;
  }
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (r.status >= 200 && r.status < 300) {
    if (!d.HasParseError() && ReadTokens(d, now_ms, location_token, a)) {
      a.kind = TokenAnswer::Kind::kOk;
      return a;
    }
    a.tokens = {};
    a.maybe_spent = true;
    a.problem = "GHL answered " + std::to_string(r.status) + " without readable tokens";
    return a;
  }
  const std::string message = d.HasParseError() ? "" : Message(d);
  a.problem = "GHL answered " + std::to_string(r.status) + (message.empty() ? "" : ": " + message);
  const bool retryable = r.status == 408 || r.status == 429 || r.status >= 500;
  a.kind = retryable ? TokenAnswer::Kind::kRetryable : TokenAnswer::Kind::kRejected;
  return a;
}

}  // namespace ghl::ghl_client::oauth_wire
