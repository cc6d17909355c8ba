#include "connectors/rest/options.h"

#include <limits>

namespace ghl::connectors::rest {
namespace {

using config::Context;
using config::Table;
namespace fields = config::fields;

// `headers:` - header names to values, sent with every request.
config::Field<ConnectionOptions> HeadersField() {
  return {"headers",
          "map of header name to value",
          "Extra headers sent with every request (values may use ${ENV}).",
          false,
          {},
          [](const ConnectionOptions&) { return std::string(); },
          [](ConnectionOptions& o, const YAML::Node& n, Context& c) {
            if (!n.IsMap()) {
              if (!n.IsNull()) c.Error(n, "expected a mapping of header names to values");
              return;
            }
            for (const auto& kv : n) {
              const std::string name = kv.first.Scalar();
              auto scope = c.Enter("." + name);
              if (name.empty() || name.find_first_of(": \r\n") != std::string::npos) {
                c.Error(kv.first, "'" + name + "' is not a header name");
              } else if (auto v = c.Scalar(kv.second, /*secret=*/true)) {
                o.headers[name] = *v;
              }
            }
          }};
}

void CheckAuth(AuthOptions& a, const YAML::Node& node, Context& ctx) {
  auto need = [&](bool present, const std::string& what) {
    if (!present) ctx.Error(node, "auth type '" + a.type + "' needs " + what);
  };
  if (a.type == "bearer" || a.type == "api_key_header" || a.type == "api_key_query") {
    need(!a.token.empty(), "'token' (or 'token_file')");
  } else if (a.type == "basic") {
    need(!a.username.empty(), "'username'");
    need(!a.password.empty(), "'password' (or 'password_file')");
  }
}

const Table<AuthOptions>& AuthTable() {
  static const Table<AuthOptions> table(
      {
          fields::Enum("type", &AuthOptions::type,
                       {"none", "bearer", "basic", "api_key_header", "api_key_query"},
                       "How requests authenticate."),
          fields::SecretValue("token", &AuthOptions::token,
                              "Bearer token or API key (for `bearer`, `api_key_header`, "
                              "`api_key_query`). Never logged."),
          fields::String("username", &AuthOptions::username, "User name for `basic`."),
          fields::SecretValue("password", &AuthOptions::password, "Password for `basic`."),
          fields::String("header", &AuthOptions::header,
                         "Header that carries the key for `api_key_header`."),
          fields::String("param", &AuthOptions::param,
                         "Query parameter that carries the key for `api_key_query`."),
      },
      CheckAuth);
  return table;
}

const Table<RateLimitOptions>& RateLimitTable() {
  static const Table<RateLimitOptions> table({
      fields::Int("requests", &RateLimitOptions::requests, 0, 1'000'000,
                  "At most this many requests in any window of `per` (a sliding window, as "
                  "for GHL); 0 turns the limit off."),
      fields::Duration("per", &RateLimitOptions::per, milliseconds(1), milliseconds(86'400'000),
                       "The window of `requests`."),
  });
  return table;
}

const Table<RetryOptions>& RetryTable() {
  static const Table<RetryOptions> table(
      {
          fields::Int("max_attempts", &RetryOptions::max_attempts, 1, 20,
                      "Attempts per call, the first included, on 429, 5xx, timeouts and "
                      "resets; then the write is left to the engine's retry."),
          fields::Duration("base_delay", &RetryOptions::base_delay, milliseconds(0),
                           milliseconds(600'000),
                           "First backoff; it doubles per attempt, with jitter."),
          fields::Duration("max_delay", &RetryOptions::max_delay, milliseconds(0),
                           milliseconds(3'600'000),
                           "Longest backoff, and the longest `Retry-After` waited for within "
                           "a call (a longer one ends the call for a later retry)."),
      },
      [](RetryOptions& r, const YAML::Node& node, Context& ctx) {
        if (r.base_delay > r.max_delay) ctx.Error(node, "base_delay is longer than max_delay");
      });
  return table;
}

const Table<ConnectionOptions>& ConnectionTable() {
  static const Table<ConnectionOptions> table({
      fields::String("type", &ConnectionOptions::type, "`rest`."),
      fields::Url("base_url", &ConnectionOptions::base_url,
                  "The API's root; resource paths are appended to it.")
          .Required(),
      fields::Section("auth", &ConnectionOptions::auth, AuthTable(), "Authentication."),
      fields::Duration("timeout", &ConnectionOptions::timeout, milliseconds(100),
                       milliseconds(600'000), "Per request, connecting included."),
      fields::Section("rate_limit", &ConnectionOptions::rate_limit, RateLimitTable(),
                      "This connector's own request limit."),
      fields::Section("retry", &ConnectionOptions::retry, RetryTable(), "Retries within a call."),
      HeadersField(),
      fields::String("idempotency_header", &ConnectionOptions::idempotency_header,
                     "A request header by which the API recognises a create it has already "
                     "carried out (`Idempotency-Key`, as Stripe and others name it). Creates "
                     "send it with the write's key, the same on every attempt, so a create "
                     "sent again after its answer was lost makes no second item; creates are "
                     "then also retried within the call. Set it only if the API honours it."),
  });
  return table;
}

const Table<PaginationOptions>& PaginationTable() {
  static const Table<PaginationOptions> table(
      {
          fields::Enum("type", &PaginationOptions::type,
                       {"none", "page", "offset", "cursor", "link"},
                       "`page`: page numbers; `offset`: item offsets; `cursor`: a token from "
                       "the response; `link`: the `Link` header's rel=\"next\"; `none`: one "
                       "request returns everything."),
          fields::Int("page_size", &PaginationOptions::page_size, 1, 100'000,
                      "Items asked for per request (lowered to the scan's limit)."),
          fields::String("size_param", &PaginationOptions::size_param,
                         "Query parameter for the page size."),
          fields::String("page_param", &PaginationOptions::page_param,
                         "Query parameter for the page number (`page`)."),
          fields::Int("first_page", &PaginationOptions::first_page, 0, 1,
                      "Number of the first page (`page`)."),
          fields::String("offset_param", &PaginationOptions::offset_param,
                         "Query parameter for the offset (`offset`)."),
          fields::String("cursor_param", &PaginationOptions::cursor_param,
                         "Query parameter for the cursor (`cursor`)."),
          fields::String("cursor_path", &PaginationOptions::cursor_path,
                         "Where the next cursor is in the response, as a dotted path or JSON "
                         "pointer (`cursor`); absent, null or empty ends the scan."),
      },
      [](PaginationOptions& p, const YAML::Node& node, Context& ctx) {
        if (p.type == "cursor" && p.cursor_path.empty()) {
          ctx.Error(node, "pagination type 'cursor' needs 'cursor_path'");
        }
      });
  return table;
}

const Table<UpdatedSinceOptions>& UpdatedSinceTable() {
  static const Table<UpdatedSinceOptions> table({
      fields::String("param", &UpdatedSinceOptions::param,
                     "Query parameter that filters items updated at or after a time; "
                     "enables incremental scans (needs `updated_field`).")
          .Required(),
      fields::Enum("format", &UpdatedSinceOptions::format, {"iso8601", "unix", "unix_ms", "raw"},
                   "How `updated_field` values and the parameter are written: ISO 8601, Unix "
                   "seconds or milliseconds, or `raw` (the highest value seen, sent as is)."),
      fields::Duration("overlap", &UpdatedSinceOptions::overlap, milliseconds(0),
                       milliseconds(86'400'000),
                       "Subtracted from the highest value seen (not for `raw`), so that "
                       "late-committed updates are not missed."),
  });
  return table;
}

const Table<ListOptions>& ListTable() {
  static const Table<ListOptions> table({
      fields::String("path", &ListOptions::path,
                     "Path of the list endpoint under base_url, e.g. `/customers`.")
          .Required(),
      fields::String("items", &ListOptions::items,
                     "Where the array of items is in the response (`data.items` or "
                     "`/data/items`); empty: the body is the array.",
                     /*allow_empty=*/true),
      fields::Section("pagination", &ListOptions::pagination, PaginationTable(), "Paging."),
      fields::Section("updated_since", &ListOptions::updated_since, UpdatedSinceTable(),
                      "Incremental scans; without it every scan is a full scan."),
  });
  return table;
}

std::vector<config::Field<CallOptions>> CallFields() {
  return {
      fields::Enum("method", &CallOptions::method, {"GET", "POST", "PUT", "PATCH", "DELETE"},
                   "HTTP method; defaults: get GET, create POST, update PATCH, delete DELETE."),
      fields::String("path", &CallOptions::path,
                     "Path template; `{key}` is replaced by the URL-escaped key. Defaults: "
                     "list.path (create) or list.path + `/{key}`."),
      fields::String("item", &CallOptions::item,
                     "Where the item is in the response (dotted path or JSON pointer); "
                     "empty: the body is the item.",
                     /*allow_empty=*/true),
      fields::String("key", &CallOptions::key,
                     "create: where the new item's key is in the response; default: "
                     "key_field within the item."),
  };
}

const Table<CallOptions>& CallTable() {
  static const Table<CallOptions> table(CallFields());
  return table;
}

// The create call: the call's keys, and how a create whose answer was lost is found.
const Table<CallOptions>& CreateTable() {
  static const Table<CallOptions> table([] {
    auto f = CallFields();
    f.push_back(fields::String(
        "match", &CallOptions::match,
        "A field every create writes and the API keeps unique (`email`). When a create's "
        "answer was lost (timeout, reset, 5xx, a stop with the call in flight), the next "
        "attempt first lists list.path filtered by it (`match_param`) and, when an item has "
        "the value the create wrote (compared without regard to case), records that item "
        "instead of creating a second one."));
    f.push_back(fields::String("match_param", &CallOptions::match_param,
                               "Query parameter of list.path that filters items by `match` "
                               "(`?email=ada@example.com`); default: `match`."));
    f.push_back(fields::Bool(
        "allow_duplicates", &CallOptions::allow_duplicates,
        "Accept that a create whose answer was lost may be made again (a second item): for "
        "an API with neither a unique field for `match` nor an `idempotency_header`, or a "
        "mapping that never creates items here (direction to_ghl, or a key the mapping "
        "writes). Without one of the three the configuration is refused."));
    return f;
  }());
  return table;
}

const Table<ResourceOptions>& ResourceTable() {
  static const Table<ResourceOptions> table({
      fields::String("connector", &ResourceOptions::connector, "The connector's name."),
      fields::Section("list", &ResourceOptions::list, ListTable(), "The list endpoint.").Required(),
      fields::String("key_field", &ResourceOptions::key_field,
                     "Where an item's key is (dotted path or JSON pointer); default: the "
                     "mapping's key column."),
      fields::String("updated_field", &ResourceOptions::updated_field,
                     "Where an item's last-update time is: incremental scans follow it, "
                     "and it is part of the row's version (with a hash of the item, which "
                     "tells apart two edits within the same second). Without it the "
                     "version is the hash alone."),
      fields::Section("get", &ResourceOptions::get, CallTable(), "Reading one item."),
      fields::Section("create", &ResourceOptions::create, CreateTable(), "Creating an item."),
      fields::Section("update", &ResourceOptions::update, CallTable(), "Updating an item."),
      fields::Section("delete", &ResourceOptions::remove, CallTable(), "Deleting an item."),
  });
  return table;
}

// Defaults that depend on other keys, and checks across keys.
void Complete(ResourceOptions& r, const ConnectorSpec& spec, Context& ctx) {
  const YAML::Node& node = spec.resource;
  if (r.key_field.empty()) {
    if (spec.key_columns.size() == 1) {
      r.key_field = spec.key_columns[0];
    } else if (spec.key_columns.empty()) {
      ctx.Error(node, "no key: set external.key_field or the mapping's key");
    } else {
      ctx.Error(node, "a REST resource has one key field but the mapping's key has " +
                          std::to_string(spec.key_columns.size()) +
                          " columns; set external.key_field");
    }
  }
  r.soft_delete_field = spec.soft_delete_column;
  if (!r.list.updated_since.param.empty() && r.updated_field.empty()) {
    ctx.Error(node, "list.updated_since needs updated_field (where items carry their update time)");
  }
  const std::string base = r.list.path.substr(0, r.list.path.find('?'));
  struct Call {
    CallOptions* call;
    const char* name;
    const char* method;
    bool keyed;
  };
  for (const Call& c :
       {Call{&r.get, "get", "GET", true}, Call{&r.create, "create", "POST", false},
        Call{&r.update, "update", "PATCH", true}, Call{&r.remove, "delete", "DELETE", true}}) {
    if (c.call->method.empty()) c.call->method = c.method;
    if (c.call->path.empty()) c.call->path = c.keyed ? base + "/{key}" : base;
    const YAML::Node at = node[c.name] ? node[c.name] : node;
    if (c.keyed && c.call->path.find("{key}") == std::string::npos) {
      ctx.Error(at, std::string(c.name) + ".path '" + c.call->path + "' has no {key}");
    }
    if (c.call->path.empty() || c.call->path[0] != '/') {
      ctx.Error(at, std::string(c.name) + ".path must start with '/'");
    }
  }
  if (!r.list.path.empty() && r.list.path[0] != '/') {
    ctx.Error(node["list"], "list.path must start with '/'");
  }
  if (r.create.match_param.empty()) r.create.match_param = r.create.match;
}

// A create whose answer is lost (a timeout, a reset, a 5xx after the API applied it, a stop
// with the call in flight) is attempted again: without a way to find what it made, or an
// API that recognises it, that makes a second item. Refused unless the user accepts it.
void CheckCreatesIdempotent(const ResourceOptions& r, const ConnectionOptions& c,
                            const ConnectorSpec& spec, Context& ctx) {
  if (!r.create.match.empty() || !c.idempotency_header.empty() || r.create.allow_duplicates) {
    return;
  }
  const YAML::Node& node = spec.resource;
  auto scope = ctx.Enter(node["create"] ? ".create" : "");
  ctx.Error(node["create"] ? node["create"] : node,
            "creates are not idempotent: a create whose answer is lost (timeout, reset, 5xx, a "
            "stop during the call) would be made again as a second item. Set create.match to a "
            "field every create writes and the API keeps unique (e.g. `match: email`), or " +
                spec.options_path +
                ".idempotency_header if the API honours one (e.g. Idempotency-Key); or, for a "
                "mapping that never creates items here, or to accept duplicates, "
                "create.allow_duplicates: true");
}

}  // namespace

std::optional<Options> ParseOptions(const ConnectorSpec& spec, config::Diagnostics& errors) {
  const size_t before = errors.size();
  Options o;
  o.name = spec.name;
  {
    Context ctx(spec.options_file, spec.options_dir, spec.env, &errors);
    auto scope = ctx.Enter(spec.options_path);
    ConnectionTable().Parse(o.connection, spec.options, ctx);
    if (o.connection.rate_limit.requests == 0) {
      o.connection.rate_limit.requests = std::numeric_limits<int32_t>::max();
    }
  }
  {
    Context ctx(spec.resource_file, spec.resource_dir, spec.env, &errors);
    auto scope = ctx.Enter(spec.resource_path);
    ResourceTable().Parse(o.resource, spec.resource, ctx);
    Complete(o.resource, spec, ctx);
    CheckCreatesIdempotent(o.resource, o.connection, spec, ctx);
  }
  if (errors.size() > before) return std::nullopt;
  return o;
}

std::string ReferenceMarkdown() {
  auto table = [](const auto& schema) { return config::MarkdownTable(schema); };
  return "#### `rest`\n\nThe connection, under `connectors.<name>`:\n\n" +
         table(ConnectionTable()) + "\nThe resource, in a mapping's `external:` block:\n\n" +
         table(ResourceTable()) +
         "\nA JSON HTTP API. Each scan request fetches one page of list.path; items that are "
         "not objects or have no key are reported and never taken as deleted. Nested objects "
         "read as dotted fields (`address.city`) and are written back as nested objects. With "
         "`list.updated_since` a scan resumes from the highest `updated_field` value seen "
         "(minus `overlap`); without it every scan is a full scan. A row's version is a hash "
         "of the item's JSON, prefixed by its `updated_field` value when configured (so an "
         "edit in the same second as the daemon's own write is still seen); writes return "
         "the version of the item as the API answered it (or as a follow-up GET reads it when "
         "the answer has no item), which is how the daemon recognises its own writes. An "
         "update that answers 404 becomes a create under the given key; deleting a missing "
         "item succeeds. Reads, updates and deletes are retried within the call on 429 "
         "(honouring Retry-After), 5xx, timeouts and resets, then left to the engine. "
         "**Creates are idempotent across a lost answer** (a timeout, a reset, a 5xx after the "
         "API applied it, a stop or crash with the call in flight): a create is sent again "
         "within the call only when it cannot have reached the API (connection refused, 429) "
         "or with `idempotency_header`; otherwise the engine retries it, and first looks for "
         "what it may have made. With `create.match` (e.g. `email`) that attempt lists "
         "list.path filtered by the value the create wrote (`?email=...`, following pages; "
         "the value is compared again, without regard to case) and records the item found "
         "instead of creating another; two items with the value, or a create that writes "
         "none, go to the dead-letter queue for a person to check. With "
         "`idempotency_header` (e.g. `Idempotency-Key`) every attempt sends the outbox "
         "job's idempotency key (the same for every attempt of the job, restarts included), and "
         "the API answers "
         "the first create again. `ghl-syncd check` refuses a resource with neither, unless "
         "`create.allow_duplicates: true` accepts a second item after a lost answer (or the "
         "mapping never creates items there). 401 and 403 (credentials refused) make "
         "writes wait and retry until the credentials are fixed, never dead-letter them; "
         "other 4xx answers are permanent errors with the body kept. With an updated_field, "
         "updates are compare-and-set: a GET just before the write compares its "
         "updated-at value. "
         "Credentials never appear in logs or messages.\n";
}

}  // namespace ghl::connectors::rest
