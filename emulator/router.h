// Router: matches GHL API paths such as /contacts/{contactId}/tags to handlers, and the
// Call and Reply types handlers work with.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/http_server.h"
#include "emulator/json.h"
#include "emulator/world.h"

namespace ghl::emulator {

class Emulator;
namespace http = http_server::http;

// Who may call a route.
enum class Access {
  kLocation,  // a location token (PIT or OAuth Location token)
  kAgency,    // a company (agency) OAuth token
  kAnyToken,  // either
  kPublic,    // no token (POST /oauth/token)
  kAdmin,     // the emulator's own admin API: no token, no rate limit, not logged
};

struct Reply {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

// One API call as a handler sees it.
struct Call {
  Emulator& emu;
  const http_server::Request& req;
  std::map<std::string, std::string> path;   // {params} of the route
  std::map<std::string, std::string> query;  // decoded query string (last value wins)
  const Token* token = nullptr;
  std::string trace_id;
  int64_t now_ms = 0;

  // The JSON body; on a parse error *error is a ready 400 reply. An empty body is {}.
  JsonDoc* Body(std::optional<Reply>* error);
  std::optional<std::string> Query(const std::string& key) const;
  // nullopt when the token may act on `location_id`; else the 403/400 reply.
  std::optional<Reply> CheckLocation(const std::string& location_id) const;
  // The record of `collection` named by path parameter `param`, when the token may see
  // it; else null and *error is the reply: 400 "<what> not found" (the specs declare no
  // 404 for these operations) or the location check's answer.
  Record* Lookup(Collection& collection, const std::string& param, const std::string& what,
                 std::optional<Reply>* error);

  std::optional<JsonDoc> body_;
};

using Handler = std::function<Reply(Call&)>;

struct Route {
  http::verb method;
  std::string pattern;
  std::vector<std::string> segments;
  const char* version = nullptr;  // the Version header value required; null: none
  Access access = Access::kLocation;
  Handler handler;
};

class Router {
 public:
  void Add(http::verb method, std::string pattern, const char* version, Access access,
           Handler handler);
  // The best match (most literal segments) for method and path; fills `params`.
  // `path_matched` is set when some route has the path but not the method.
  const Route* Match(http::verb method, const std::string& path,
                     std::map<std::string, std::string>* params, bool* path_matched) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Version header values (FACTS.md §1.2).
inline constexpr const char* kVersion20210728 = "2021-07-28";
inline constexpr const char* kVersion20210415 = "2021-04-15";

// ---- replies in GHL's shapes (common-schemas.json) ----
Reply JsonReply(int status, const Json& body);
Reply BadRequest(const std::string& message);                   // 400
Reply Unauthorized(const std::string& message);                 // 401
Reply Forbidden(const std::string& message);                    // 403
Reply NotFound(const std::string& message);                     // 404
Reply Unprocessable(const std::vector<std::string>& messages);  // 422
Reply TooManyRequests();                                        // 429
Reply ServerError(int status = 500);                            // 5xx
Reply Succeded(int status = 200);  // {"succeded": true}, spelled as the specs spell it

std::string UrlDecode(std::string_view s);
std::map<std::string, std::string> ParseQuery(std::string_view query);

}  // namespace ghl::emulator
