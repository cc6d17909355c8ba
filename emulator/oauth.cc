// OAuth 2.0 (apps/oauth.json; FACTS.md §1.3-1.5; docs/oauth/Authorization.md) and the
// INSTALL / UNINSTALL webhooks (docs/webhook events/AppInstall.md, AppUninstall.md).
//
// Public API: POST /oauth/token (code and refresh grants, rotating refresh tokens),
// POST /oauth/locationToken and GET /oauth/installedLocations (agency tokens).
// Admin API under /_emulator/oauth/: register an app, "a user installs the app" (which
// hands out a one-time code and fires INSTALL), uninstall, and force-expire a token.
//
// Inferred: access and refresh tokens are opaque random strings. GHL's are JWTs
// (bearerFormat JWT), but nothing documents their claims, so clients must not read them.
// Inferred: scopes are reported in `scope` but not enforced per route.
#include <algorithm>
#include <variant>

#include "emulator/emulator.h"

namespace ghl::emulator {
namespace {

using Form = std::map<std::string, std::string>;

// Inferred: GHL does not say how long a code lives; RFC 6749 §4.1.2 recommends at most 10
// minutes, and the Reconnect API's codes are "short-lived" too.
constexpr int64_t kCodeTtlMs = 10 * 60 * 1000;
// docs/oauth/Authorization.md: "The refresh tokens are valid for a year unless they are used."
constexpr int64_t kRefreshTtlMs = 365LL * 24 * 3600 * 1000;

const char* const kDefaultScopes[] = {"contacts.readonly",
                                      "contacts.write",
                                      "opportunities.readonly",
                                      "opportunities.write",
                                      "calendars.readonly",
                                      "calendars.write",
                                      "calendars/events.readonly",
                                      "calendars/events.write",
                                      "locations.readonly",
                                      "locations/customFields.readonly",
                                      "locations/customFields.write",
                                      "users.readonly",
                                      "oauth.readonly",
                                      "oauth.write"};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Lowercase hex, the look of GHL's app, version and code ids (Mongo ObjectIds).
std::string Hex(Emulator& emu, size_t length) {
  std::string s = emu.NewId(length);
  for (auto& ch : s) ch = "0123456789abcdef"[static_cast<unsigned char>(ch) % 16];
  return s;
}

// The SDK takes the app id as the part of the client id before '-' (FACTS.md §9), and
// webhooks carry it as `appId`.
std::string AppId(const std::string& client_id) { return client_id.substr(0, client_id.find('-')); }

std::string InstallKey(const std::string& client_id, const std::string& resource) {
  return client_id + "/" + resource;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

// The fields of an application/x-www-form-urlencoded body.
// Inferred: like any form-only endpoint, a body of another Content-Type (JSON included) is
// not read, so its fields count as missing and validation answers 422.
Form FormFields(const Call& c) {
  const std::string type = Lower(std::string(c.req[http::field::content_type]));
  if (type.rfind("application/x-www-form-urlencoded", 0) != 0) return {};
  return ParseQuery(c.req.body());
}

std::string Field(const Form& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? "" : it->second;
}

// class-validator's messages for required fields that are absent or empty.
std::vector<std::string> MissingFields(const Form& f, std::initializer_list<const char*> keys) {
  std::vector<std::string> errors;
  for (const char* k : keys) {
    if (Field(f, k).empty()) errors.push_back(std::string(k) + " should not be empty");
  }
  return errors;
}

// Who the token of a location or company install acts for: a user of that location, or
// of any location of the company; a fresh id when the world has none.
std::string InstallingUser(Emulator& emu, const std::string& location, const std::string& company) {
  for (const auto& [id, rec] : emu.world().users.all()) {
    const Location* loc = emu.world().FindLocation(rec.location_id);
    if (loc && (rec.location_id == location || (location.empty() && loc->company_id == company))) {
      return id;
    }
  }
  return emu.NewId();
}

// The locations of `company` where `client_id` is installed.
std::vector<std::string> InstalledLocations(const World& w, const std::string& client_id,
                                            const std::string& company) {
  std::vector<std::string> out;
  for (const auto& [key, install] : w.oauth.installs) {
    if (install.client_id == client_id && !install.location_id.empty() &&
        install.company_id == company) {
      out.push_back(install.location_id);
    }
  }
  return out;
}

bool CompanyExists(const World& w, const std::string& company) {
  for (const auto& [id, loc] : w.locations) {
    if (loc.company_id == company) return true;
  }
  return false;
}

// ---- minting ----

struct Issued {
  std::string access_token;
  std::string refresh_token;
};

// Stores a new access token (checked by the request pipeline, rate-limited per app and
// resource by Token::RateKey) and a new refresh token for the subject of `grant`.
Issued Mint(Emulator& emu, const OAuthGrant& grant, int64_t now_ms) {
  Issued out{"oat-" + emu.NewId(40), "ort-" + emu.NewId(40)};
  Token t;
  t.kind = grant.kind;
  t.location_id = grant.location_id;
  t.company_id = grant.company_id;
  t.client_id = grant.client_id;
  t.expires_at_ms = now_ms + emu.options().access_token_ttl_s * 1000;
  emu.world().tokens[out.access_token] = t;
  OAuthGrant refresh = grant;
  refresh.redirect_uri.clear();
  refresh.expires_at_ms = now_ms + kRefreshTtlMs;
  emu.world().oauth.refresh_tokens[out.refresh_token] = refresh;
  return out;
}

void AddCommon(Emulator& emu, const OAuthClient& client, const Issued& issued, JsonDoc& d) {
  auto& a = d.GetAllocator();
  d.AddMember("access_token", Str(issued.access_token, a), a);
  d.AddMember("token_type", "Bearer", a);
  d.AddMember("expires_in", emu.options().access_token_ttl_s, a);
  d.AddMember("refresh_token", Str(issued.refresh_token, a), a);
  d.AddMember("scope", Str(Join(client.scopes), a), a);
}

// GetAccessCodeSuccessfulResponseDto.
JsonDoc TokenResponse(Emulator& emu, const OAuthClient& client, const OAuthGrant& g,
                      const Issued& issued) {
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  AddCommon(emu, client, issued, d);
  const bool company = g.kind == Token::Kind::kCompanyOAuth;
  d.AddMember("userType", rapidjson::StringRef(company ? "Company" : "Location"), a);
  // Inferred: location tokens also carry their companyId ("Company ID" has no
  // "only for" note in the DTO, unlike locationId).
  d.AddMember("companyId", Str(g.company_id, a), a);
  if (!company) d.AddMember("locationId", Str(g.location_id, a), a);
  d.AddMember("userId", Str(g.user_id, a), a);
  if (company) {
    const auto approved = InstalledLocations(emu.world(), client.id, g.company_id);
    Json list(rapidjson::kArrayType);
    for (const auto& id : approved) list.PushBack(Str(id, a), a);
    size_t in_company = 0;
    for (const auto& [id, loc] : emu.world().locations) {
      if (loc.company_id == g.company_id) ++in_company;
    }
    d.AddMember("approvedLocations", list, a);
    // Inferred: a company install that approved locations is a bulk installation.
    d.AddMember("isBulkInstallation", !approved.empty(), a);
    d.AddMember("installToFutureLocations", false, a);
    d.AddMember("approveAllLocations", approved.size() == in_company, a);
  }
  return d;
}

// ---- webhooks ----

// AppInstall.md, "Location Level App Install" (non-whitelabel). Inferred: a free app, so
// no planId or trial; companies have no names in the world, so companyName is made up.
JsonDoc LocationInstallEvent(const OAuthInstall& i) {
  JsonDoc p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  p.AddMember("appId", Str(AppId(i.client_id), a), a);
  p.AddMember("companyId", Str(i.company_id, a), a);
  p.AddMember("userId", Str(i.user_id, a), a);
  p.AddMember("isWhitelabelCompany", false, a);
  p.AddMember("whitelabelDetails", Json(rapidjson::kObjectType), a);
  p.AddMember("companyName", Str("Company " + i.company_id, a), a);
  return p;
}

// AppInstall.md "Agency Level App Install" and AppUninstall.md: appId and companyId only.
JsonDoc AppEvent(const std::string& client_id, const std::string& company_id) {
  JsonDoc p(rapidjson::kObjectType);
  auto& a = p.GetAllocator();
  p.AddMember("appId", Str(AppId(client_id), a), a);
  if (!company_id.empty()) p.AddMember("companyId", Str(company_id, a), a);
  return p;
}

// Records the install and fires INSTALL; false if it was installed there already.
// Inferred: consenting again to an installed app is not a new install, so no event.
bool Install(Emulator& emu, OAuthInstall install) {
  const std::string resource =
      install.location_id.empty() ? install.company_id : install.location_id;
  auto [it, added] =
      emu.world().oauth.installs.emplace(InstallKey(install.client_id, resource), install);
  if (!added) return false;
  if (install.location_id.empty()) {
    emu.Emit("INSTALL", "", AppEvent(install.client_id, install.company_id));
  } else {
    emu.Emit("INSTALL", install.location_id, LocationInstallEvent(install));
  }
  return true;
}

// Revokes the access tokens and drops the codes and refresh tokens of `client_id` for a
// location (or, with an empty location, the company itself).
void RevokeAll(World& w, const std::string& client_id, const std::string& location,
               const std::string& company) {
  const auto covers = [&](Token::Kind kind, const std::string& loc, const std::string& comp) {
    return location.empty() ? kind == Token::Kind::kCompanyOAuth && comp == company
                            : kind == Token::Kind::kLocationOAuth && loc == location;
  };
  for (auto& [bearer, t] : w.tokens) {
    if (t.client_id == client_id && covers(t.kind, t.location_id, t.company_id)) t.revoked = true;
  }
  for (auto* grants : {&w.oauth.codes, &w.oauth.refresh_tokens}) {
    std::erase_if(*grants, [&](const auto& kv) {
      const OAuthGrant& g = kv.second;
      return g.client_id == client_id && covers(g.kind, g.location_id, g.company_id);
    });
  }
}

void UninstallLocation(Emulator& emu, const std::string& client_id, const std::string& location) {
  emu.world().oauth.installs.erase(InstallKey(client_id, location));
  RevokeAll(emu.world(), client_id, location, "");
  // AppUninstall.md, "Location Level App Uninstall": appId and locationId only.
  emu.Emit("UNINSTALL", location, AppEvent(client_id, ""));
}

// ---- admin routes ----

// POST /_emulator/oauth/clients {clientId?, clientSecret?, scopes?} registers an app.
Reply AdminAddClient(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  Emulator& emu = c.emu;
  OAuthClient client;
  client.version_id = Hex(emu, 24);
  client.id = GetString(*body, "clientId").value_or(Hex(emu, 24) + "-" + Lower(emu.NewId(8)));
  client.secret = GetString(*body, "clientSecret").value_or(Lower(emu.NewId(36)));
  if (client.id.empty() || client.secret.empty()) {
    return Unprocessable({"clientId and clientSecret must not be empty"});
  }
  if (emu.world().oauth.clients.count(client.id)) return BadRequest("client exists: " + client.id);
  if (const Json* scopes = GetArray(*body, "scopes")) {
    for (const auto& s : scopes->GetArray()) {
      if (s.IsString()) client.scopes.emplace_back(s.GetString());
    }
  } else {
    client.scopes.assign(std::begin(kDefaultScopes), std::end(kDefaultScopes));
  }
  emu.world().oauth.clients[client.id] = client;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("clientId", Str(client.id, a), a);
  d.AddMember("clientSecret", Str(client.secret, a), a);
  d.AddMember("appId", Str(AppId(client.id), a), a);
  d.AddMember("versionId", Str(client.version_id, a), a);
  d.AddMember("scope", Str(Join(client.scopes), a), a);
  return JsonReply(201, d);
}

// Installs the app on the company and on `locations` (default: all of the company's).
// Inferred: an agency install fires the agency-level INSTALL and then one location-level
// INSTALL per approved location, the events the SDK turns into location tokens (FACTS §9).
std::optional<Reply> InstallOnCompany(Emulator& emu, const OAuthClient& client,
                                      const std::string& company, const std::string& user,
                                      const Json& body, int64_t now) {
  std::vector<std::string> locations;
  if (const Json* ids = GetArray(body, "locationIds")) {
    for (const auto& id : ids->GetArray()) {
      const Location* loc = id.IsString() ? emu.world().FindLocation(id.GetString()) : nullptr;
      if (!loc || loc->company_id != company) {
        return Unprocessable({"locationIds must be locations of company " + company});
      }
      locations.emplace_back(id.GetString());
    }
  } else {
    for (const auto& [id, loc] : emu.world().locations) {
      if (loc.company_id == company) locations.push_back(id);
    }
  }
  Install(emu, {client.id, "", company, user, now});
  for (const auto& id : locations) Install(emu, {client.id, id, company, user, now});
  return std::nullopt;
}

// POST /_emulator/oauth/authorize {clientId, userType, locationId | companyId,
// redirectUri?, userId?, locationIds?}: a user consents on the chooselocation page. The
// app is installed (INSTALL fires when new) and a one-time code comes back, as on the
// redirect (`redirectUrl` when redirectUri is given).
Reply AdminAuthorize(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  Emulator& emu = c.emu;
  const auto client_id = GetString(*body, "clientId").value_or("");
  auto client = emu.world().oauth.clients.find(client_id);
  if (client == emu.world().oauth.clients.end()) return NotFound("unknown client " + client_id);
  const auto user_type = GetString(*body, "userType").value_or("");
  OAuthGrant code;
  code.client_id = client_id;
  code.redirect_uri = GetString(*body, "redirectUri").value_or("");
  if (user_type == "Location") {
    code.location_id = GetString(*body, "locationId").value_or("");
    const Location* loc = emu.world().FindLocation(code.location_id);
    if (!loc) return NotFound("unknown location " + code.location_id);
    code.company_id = loc->company_id;
  } else if (user_type == "Company") {
    code.kind = Token::Kind::kCompanyOAuth;
    code.company_id = GetString(*body, "companyId").value_or("");
    if (!CompanyExists(emu.world(), code.company_id)) {
      return NotFound("no location has company " + code.company_id);
    }
  } else {
    return Unprocessable({"userType must be one of the following values: Company, Location"});
  }
  code.user_id = GetString(*body, "userId").value_or("");
  if (code.user_id.empty()) code.user_id = InstallingUser(emu, code.location_id, code.company_id);
  if (code.kind == Token::Kind::kCompanyOAuth) {
    if (auto e =
            InstallOnCompany(emu, client->second, code.company_id, code.user_id, *body, c.now_ms)) {
      return *e;
    }
  } else {
    Install(emu, {client_id, code.location_id, code.company_id, code.user_id, c.now_ms});
  }
  code.expires_at_ms = c.now_ms + kCodeTtlMs;
  const std::string value = Hex(emu, 40);
  emu.world().oauth.codes[value] = code;
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("code", Str(value, a), a);
  d.AddMember("expiresInS", kCodeTtlMs / 1000, a);
  if (!code.redirect_uri.empty()) {
    const char* sep = code.redirect_uri.find('?') == std::string::npos ? "?" : "&";
    d.AddMember("redirectUrl", Str(code.redirect_uri + sep + "code=" + value, a), a);
  }
  return JsonReply(201, d);
}

// POST /_emulator/oauth/uninstall {clientId, locationId | companyId}: removes the app and
// revokes its tokens there; fires UNINSTALL.
// Inferred: an agency-level uninstall removes the app from the company's locations too
// (one location-level UNINSTALL each, then the agency-level one).
Reply AdminUninstall(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  Emulator& emu = c.emu;
  World& w = emu.world();
  const auto client_id = GetString(*body, "clientId").value_or("");
  const auto location = GetString(*body, "locationId").value_or("");
  const auto company = GetString(*body, "companyId").value_or("");
  const std::string resource = location.empty() ? company : location;
  if (!w.oauth.installs.count(InstallKey(client_id, resource))) {
    return NotFound("client " + client_id + " is not installed on " + resource);
  }
  if (!location.empty()) {
    UninstallLocation(emu, client_id, location);
  } else {
    for (const auto& id : InstalledLocations(w, client_id, company)) {
      UninstallLocation(emu, client_id, id);
    }
    w.oauth.installs.erase(InstallKey(client_id, company));
    RevokeAll(w, client_id, "", company);
    emu.Emit("UNINSTALL", "", AppEvent(client_id, company));
  }
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("uninstalled", true, d.GetAllocator());
  return JsonReply(200, d);
}

// POST /_emulator/oauth/expire {accessToken?, refreshToken?, code?}: makes them expired
// now, so tests need not wait a day.
Reply AdminExpire(Call& c) {
  std::optional<Reply> err;
  JsonDoc* body = c.Body(&err);
  if (!body) return *err;
  World& w = c.emu.world();
  int expired = 0;
  if (auto t = GetString(*body, "accessToken")) {
    if (auto it = w.tokens.find(*t); it != w.tokens.end()) {
      it->second.expires_at_ms = c.now_ms;
      ++expired;
    }
  }
  for (auto [key, grants] :
       {std::pair{"refreshToken", &w.oauth.refresh_tokens}, std::pair{"code", &w.oauth.codes}}) {
    if (auto t = GetString(*body, key)) {
      if (auto it = grants->find(*t); it != grants->end()) {
        it->second.expires_at_ms = c.now_ms;
        ++expired;
      }
    }
  }
  if (expired == 0) return NotFound("no such token or code");
  JsonDoc d(rapidjson::kObjectType);
  d.AddMember("expired", expired, d.GetAllocator());
  return JsonReply(200, d);
}

// ---- POST /oauth/token ----

// Inferred: wording of node-oauth2-server (GHL runs on Node); statuses: a bad grant is a
// 400 BadRequestDTO (RFC 6749 invalid_grant), bad client credentials a 401 UnauthorizedDTO.
Reply InvalidGrant(const std::string& what) { return BadRequest("Invalid grant: " + what); }

// Finds the unexpired code or refresh token `value` issued to `client_id`.
std::variant<const OAuthGrant*, Reply> FindGrant(std::map<std::string, OAuthGrant>& grants,
                                                 const std::string& value,
                                                 const std::string& client_id, const char* what,
                                                 int64_t now) {
  auto it = grants.find(value);
  if (it == grants.end() || it->second.client_id != client_id) {
    return InvalidGrant(std::string(what) + " is invalid");
  }
  if (it->second.expires_at_ms <= now) {
    grants.erase(it);
    return InvalidGrant(std::string(what) + " has expired");
  }
  return &it->second;
}

std::vector<std::string> ValidateTokenForm(const Form& f) {
  auto errors = MissingFields(f, {"client_id", "client_secret", "grant_type"});
  const auto grant = Field(f, "grant_type");
  if (!grant.empty() && grant != "authorization_code" && grant != "refresh_token" &&
      grant != "client_credentials") {
    errors.push_back(
        "grant_type must be one of the following values: authorization_code, refresh_token, "
        "client_credentials");
  }
  const auto user_type = Field(f, "user_type");
  if (f.count("user_type") && user_type != "Company" && user_type != "Location") {
    errors.push_back("user_type must be one of the following values: Company, Location");
  }
  return errors;
}

Reply TokenRoute(Call& c) {
  const Form f = FormFields(c);
  if (auto errors = ValidateTokenForm(f); !errors.empty()) return Unprocessable(errors);
  Emulator& emu = c.emu;
  auto& oauth = emu.world().oauth;
  const auto client_id = Field(f, "client_id");
  auto client = oauth.clients.find(client_id);
  if (client == oauth.clients.end() || client->second.secret != Field(f, "client_secret")) {
    return Unauthorized("Invalid client: client is invalid");
  }
  const auto grant_type = Field(f, "grant_type");
  // Inferred: marketplace apps get tokens only through a user's consent.
  if (grant_type == "client_credentials") {
    return BadRequest("Unauthorized grant type: `grant_type` is invalid");
  }
  const bool by_code = grant_type == "authorization_code";
  const std::string value = Field(f, by_code ? "code" : "refresh_token");
  if (value.empty()) {
    return BadRequest(std::string("Invalid request: missing parameter `") +
                      (by_code ? "code" : "refresh_token") + "`");
  }
  auto& grants = by_code ? oauth.codes : oauth.refresh_tokens;
  auto found = FindGrant(grants, value, client_id, by_code ? "authorization code" : "refresh token",
                         c.now_ms);
  if (auto* reply = std::get_if<Reply>(&found)) return *reply;
  const OAuthGrant grant = *std::get<const OAuthGrant*>(found);
  const auto redirect = Field(f, "redirect_uri");
  if (by_code && !grant.redirect_uri.empty() && !redirect.empty() &&
      redirect != grant.redirect_uri) {
    return InvalidGrant("`redirect_uri` is invalid");
  }
  // Inferred: asking for the other kind of token than the install granted is refused.
  const auto user_type = Field(f, "user_type");
  const char* granted = grant.kind == Token::Kind::kCompanyOAuth ? "Company" : "Location";
  if (!user_type.empty() && user_type != granted) {
    return InvalidGrant("user_type " + user_type + " does not match the installation (" + granted +
                        ")");
  }
  // Codes are one-time; refresh tokens rotate: the used one is gone, a new one comes back.
  // Inferred: the access token minted before stays valid until it expires.
  grants.erase(value);
  const Issued issued = Mint(emu, grant, c.now_ms);
  return JsonReply(200, TokenResponse(emu, client->second, grant, issued));
}

// ---- agency routes ----

// Inferred: a company token used for another company is refused like a location token
// used for another location (403, router.cc CheckLocation's wording).
std::optional<Reply> CheckCompany(const Call& c, const std::string& company) {
  if (c.token == nullptr || c.token->company_id == company) return std::nullopt;
  return Forbidden("The token does not have access to this company.");
}

// POST /oauth/locationToken: a location token from the agency token, for a location of
// its company where the app is installed. Response GetLocationAccessTokenSuccessfulResponseDto.
Reply LocationToken(Call& c) {
  const Form f = FormFields(c);
  if (auto errors = MissingFields(f, {"companyId", "locationId"}); !errors.empty()) {
    return Unprocessable(errors);
  }
  const auto company = Field(f, "companyId");
  const auto location = Field(f, "locationId");
  if (auto e = CheckCompany(c, company)) return *e;
  Emulator& emu = c.emu;
  World& w = emu.world();
  const Location* loc = w.FindLocation(location);
  if (!loc || loc->company_id != company) return BadRequest("Location not found: " + location);
  const std::string client_id = c.token ? c.token->client_id : "";
  auto install = w.oauth.installs.find(InstallKey(client_id, location));
  auto client = w.oauth.clients.find(client_id);
  // Inferred: 400 when the app is not installed on that location.
  if (install == w.oauth.installs.end() || client == w.oauth.clients.end()) {
    return BadRequest("The app is not installed on this location");
  }
  OAuthGrant grant{
      client_id, Token::Kind::kLocationOAuth, location, company, install->second.user_id, "", 0};
  const Issued issued = Mint(emu, grant, c.now_ms);
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  // Inferred (FACTS §1.5): a refresh_token is returned, as the v3 DTO lists.
  AddCommon(emu, client->second, issued, d);
  d.AddMember("locationId", Str(location, a), a);
  d.AddMember("userId", Str(grant.user_id, a), a);
  d.AddMember("appId", Str(AppId(client_id), a), a);
  d.AddMember("versionId", Str(client->second.version_id, a), a);
  return JsonReply(200, d);
}

std::optional<int64_t> ParseCount(const std::optional<std::string>& s, int64_t fallback) {
  if (!s) return fallback;
  if (s->empty() || s->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::atoll(s->c_str());
}

// Whether the location passes installedLocations' optional filters.
bool Matches(const Call& c, const Location& loc, const OAuthInstall* install,
             const OAuthClient& client) {
  if (auto q = c.Query("query");
      q && !q->empty() && Lower(loc.name).find(Lower(*q)) == std::string::npos) {
    return false;
  }
  if (auto id = c.Query("locationId"); id && !id->empty() && *id != loc.id) return false;
  if (auto v = c.Query("isInstalled"); v && (*v == "true") != (install != nullptr)) return false;
  if (auto v = c.Query("versionId"); v && (!install || *v != client.version_id)) return false;
  // Inferred: apps here are free and have no trials, so these filters match nothing.
  if (c.Query("onTrial") == "true" || !c.Query("planId").value_or("").empty()) return false;
  return true;
}

// GET /oauth/installedLocations: the company's locations, each with whether the app is
// installed there. Response GetInstalledLocationsSuccessfulResponseDto.
Reply InstalledLocationsRoute(Call& c) {
  std::vector<std::string> errors;
  const auto company = c.Query("companyId").value_or("");
  const auto app = c.Query("appId").value_or("");
  if (company.empty()) errors.push_back("companyId should not be empty");
  if (app.empty()) errors.push_back("appId should not be empty");
  const auto skip = ParseCount(c.Query("skip"), 0);
  const auto limit = ParseCount(c.Query("limit"), 20);
  if (!skip) errors.push_back("skip must be a number string");
  if (!limit) errors.push_back("limit must be a number string");
  if (!errors.empty()) return Unprocessable(errors);
  if (auto e = CheckCompany(c, company)) return *e;
  World& w = c.emu.world();
  const std::string client_id = c.token ? c.token->client_id : "";
  auto client = w.oauth.clients.find(client_id);
  // Inferred: an app may only list its own installs.
  if (client == w.oauth.clients.end() || AppId(client_id) != app) {
    return Forbidden("The token does not have access to this app.");
  }
  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  int64_t count = 0;
  for (const auto& [id, loc] : w.locations) {
    if (loc.company_id != company) continue;
    auto it = w.oauth.installs.find(InstallKey(client_id, id));
    const OAuthInstall* install = it == w.oauth.installs.end() ? nullptr : &it->second;
    if (!Matches(c, loc, install, client->second)) continue;
    if (count++ < *skip || static_cast<int64_t>(list.Size()) >= *limit) continue;
    Json o(rapidjson::kObjectType);
    o.AddMember("_id", Str(id, a), a);
    o.AddMember("name", Str(loc.name, a), a);
    o.AddMember("address", "", a);
    o.AddMember("isInstalled", install != nullptr, a);
    if (install) {
      o.AddMember("versionId", Str(client->second.version_id, a), a);
      o.AddMember("installedAt", Str(IsoTime(install->installed_at_ms), a), a);
    }
    list.PushBack(o, a);
  }
  d.AddMember("locations", list, a);
  d.AddMember("count", count, a);
  d.AddMember("installToFutureLocations", false, a);
  return JsonReply(200, d);
}

}  // namespace

void RegisterOAuthRoutes(Router& r) {
  using http::verb;
  // FACTS §1.2: POST /oauth/token declares no Version header and takes no bearer token.
  r.Add(verb::post, "/oauth/token", nullptr, Access::kPublic, TokenRoute);
  r.Add(verb::post, "/oauth/locationToken", kVersion20210728, Access::kAgency, LocationToken);
  r.Add(verb::get, "/oauth/installedLocations", kVersion20210728, Access::kAgency,
        InstalledLocationsRoute);
  const Access admin = Access::kAdmin;
  r.Add(verb::post, "/_emulator/oauth/clients", nullptr, admin, AdminAddClient);
  r.Add(verb::post, "/_emulator/oauth/authorize", nullptr, admin, AdminAuthorize);
  r.Add(verb::post, "/_emulator/oauth/uninstall", nullptr, admin, AdminUninstall);
  r.Add(verb::post, "/_emulator/oauth/expire", nullptr, admin, AdminExpire);
}

}  // namespace ghl::emulator
