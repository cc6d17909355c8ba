// The REST connector's settings: the connection block (`connectors.<name>`, type `rest`)
// and the resource block (the mapping's `external:`), parsed by declarative schema tables
// (config/schema.h) that also generate the reference documentation.
//
// Connection:
//   connectors:
//     shop:
//       type: rest
//       base_url: https://api.example.com/v1
//       auth: {type: bearer, token_file: /run/credentials/shop-token}
//       timeout: 30s
//       rate_limit: {requests: 10, per: 1s}
//       retry: {max_attempts: 4, base_delay: 500ms, max_delay: 30s}
//       headers: {Accept-Language: en}
//       idempotency_header: Idempotency-Key   # where the API deduplicates creates by it
// Resource:
//   external:
//     connector: shop
//     list:
//       path: /customers
//       items: data                       # dotted path or JSON pointer ("/data")
//       pagination: {type: cursor, cursor_param: after, cursor_path: meta.next}
//       updated_since: {param: updated_since, format: iso8601}
//     key_field: id
//     updated_field: updated_at
//     create: {match: email}                # how a create whose answer was lost is found
//     update: {method: PUT}
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"
#include "config/schema.h"
#include "connectors/registry.h"
#include "core/secret.h"

namespace ghl::connectors::rest {

using std::chrono::milliseconds;

struct AuthOptions {
  std::string type = "none";         // none | bearer | basic | api_key_header | api_key_query
  Secret token;                      // bearer, api_key_header, api_key_query
  std::string username;              // basic
  Secret password;                   // basic
  std::string header = "X-API-Key";  // api_key_header: the header's name
  std::string param = "api_key";     // api_key_query: the query parameter's name
};

struct RateLimitOptions {
  int64_t requests = 10;  // at most this many requests in any window of `per`; 0 = no limit
  milliseconds per{1000};
};

struct RetryOptions {
  int64_t max_attempts = 4;  // attempts per call (the first included) before giving up
  milliseconds base_delay{500};
  milliseconds max_delay{30'000};  // also the longest Retry-After waited for within a call
};

struct ConnectionOptions {
  std::string type;      // always "rest" (checked by the registry)
  std::string base_url;  // no trailing slash
  AuthOptions auth;
  milliseconds timeout{30'000};  // per request
  RateLimitOptions rate_limit;
  RetryOptions retry;
  std::map<std::string, std::string> headers;  // sent with every request
  // A header the API deduplicates creates by ("Idempotency-Key"); "" = the API has none.
  // Creates send the write's idempotency key in it, and are then retried within the call.
  std::string idempotency_header;
};

struct PaginationOptions {
  std::string type = "none";  // none | page | offset | cursor | link
  int64_t page_size = 100;    // sent as `size_param` (the scan's limit lowers it)
  std::string size_param = "limit";
  std::string page_param = "page";      // page
  int64_t first_page = 1;               // page
  std::string offset_param = "offset";  // offset
  std::string cursor_param = "cursor";  // cursor
  std::string cursor_path;              // cursor: where the next cursor is in the response
};

struct UpdatedSinceOptions {
  std::string param;               // "" = no incremental scans
  std::string format = "iso8601";  // iso8601 | unix | unix_ms | raw
  milliseconds overlap{1000};      // subtracted from the high-water mark (not for raw)
};

struct ListOptions {
  std::string path;   // relative to base_url; may carry a fixed query ("/c?status=all")
  std::string items;  // where the array of items is in the response; "" = the body itself
  PaginationOptions pagination;
  UpdatedSinceOptions updated_since;
};

struct CallOptions {
  std::string method;  // "" until defaulted (GET / POST / PATCH / DELETE)
  std::string path;    // a template with {key}; "" until defaulted from list.path
  std::string item;    // where the item is in the response; "" = the body itself
  std::string key;     // create only: where the new key is in the response
  // create only: how a create whose answer was lost is found again (FindCreated).
  std::string match;              // a field the create writes that the API keeps unique ("email")
  std::string match_param;        // list.path's query parameter filtering by it; "" = `match`
  bool allow_duplicates = false;  // accept a second item after a lost answer (no match, no
                                  // idempotency_header); else the configuration is refused
};

struct ResourceOptions {
  std::string connector;
  ListOptions list;
  std::string key_field;      // a path within an item; default: the mapping's key column
  std::string updated_field;  // a path within an item; "" = versions are content hashes
  CallOptions get, create, update, remove;
  std::string soft_delete_field;  // from the mapping: a flag field marking deleted items
};

struct Options {
  std::string name;  // the connector's name under `connectors:`
  ConnectionOptions connection;
  ResourceOptions resource;
};

// Parses and checks both blocks of `spec`, reporting every problem into `errors` and
// filling in defaults (paths, methods, key_field). nullopt when anything was wrong.
std::optional<Options> ParseOptions(const ConnectorSpec& spec, config::Diagnostics& errors);

// The options reference of both blocks as Markdown, for the README.
std::string ReferenceMarkdown();

}  // namespace ghl::connectors::rest
