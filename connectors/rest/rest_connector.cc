#include "connectors/rest/rest_connector.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <random>

#include "connectors/rest/json.h"
#include "connectors/rest/pagination.h"

namespace ghl::connectors::rest {
namespace {

// The last path segment of a Location header, unescaped ("/api/customers/17" -> "17").
std::string LastSegment(std::string location) {
  location = location.substr(0, location.find_first_of("?#"));
  const size_t slash = location.rfind('/');
  if (slash == std::string::npos || slash + 1 == location.size()) return "";
  int size = 0;
  char* raw = curl_easy_unescape(nullptr, location.c_str() + slash + 1,
                                 static_cast<int>(location.size() - slash - 1), &size);
  std::string out = raw != nullptr ? std::string(raw, static_cast<size_t>(size)) : "";
  curl_free(raw);
  return out;
}

bool Gone(long status) { return status == 404 || status == 410; }

// An idempotency key for a create whose caller has none: the same for the retries within
// this call only.
std::string RandomKey() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> d;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return fmt::format("ghl-syncd-{:016x}{:016x}", d(rng), d(rng));
}

WriteResult Failed(const HttpAnswer& answer) {
  WriteResult w;
  w.outcome = answer.outcome;
  w.message = answer.message;
  return w;
}

}  // namespace

RestConnector::RestConnector(Options options, Env env)
    : options_(std::move(options)),
      session_(options_.connection, "connectors." + options_.name, std::move(env)) {}

std::string RestConnector::Describe() const {
  const std::string& path = options_.resource.list.path;
  return "rest:" + options_.connection.base_url + path.substr(0, path.find('?'));
}

std::string RestConnector::PathFor(const CallOptions& call, const std::string& key) const {
  char* e = curl_easy_escape(nullptr, key.data(), static_cast<int>(key.size()));
  const std::string escaped = e != nullptr ? e : "";
  curl_free(e);
  std::string path = call.path;
  for (size_t at = path.find("{key}"); at != std::string::npos; at = path.find("{key}", at)) {
    path.replace(at, 5, escaped);
    at += escaped.size();
  }
  return path;
}

Result<std::optional<Row>> RestConnector::Get(const std::string& key) {
  const CallOptions& get = options_.resource.get;
  const std::string target = PathFor(get, key);
  HttpAnswer answer = session_.Call(get.method, target);
  if (answer.outcome == Outcome::kFatal && Gone(answer.status)) return std::optional<Row>();
  if (answer.outcome != Outcome::kOk) return Error{answer.message};
  rapidjson::Document doc;
  doc.Parse(answer.body.data(), answer.body.size());
  const rapidjson::Value* item = doc.HasParseError() ? nullptr : Find(doc, get.item);
  if (item == nullptr || !item->IsObject()) {
    return Error{get.method + " " + target + " answered " + std::to_string(answer.status) +
                 " without a JSON object at '" + get.item + "' (external.get.item)"};
  }
  Item read = ReadItem(*item, key);
  if (!read.row) return Error{get.method + " " + target + ": " + read.reason};
  return std::optional<Row>(std::move(read.row));
}

Result<void> RestConnector::Health() {
  const ListOptions& list = options_.resource.list;
  ScanState first;
  first.size = 1;
  const std::string target = PageTarget(list, first);
  HttpAnswer answer = session_.Call("GET", target);
  if (answer.outcome != Outcome::kOk) return Error{Describe() + ": " + answer.message};
  rapidjson::Document doc;
  doc.Parse(answer.body.data(), answer.body.size());
  const rapidjson::Value* items = doc.HasParseError() ? nullptr : Find(doc, list.items);
  if (items == nullptr || !items->IsArray()) {
    return Error{Describe() + ": GET " + target + " answered without a JSON array at '" +
                 list.items + "'; check external.list.items"};
  }
  return Ok();
}

std::vector<WriteResult> RestConnector::Write(const std::vector<WriteOp>& ops) {
  std::vector<WriteResult> results;
  std::string unavailable;  // why the API cannot be reached now: later ops are not tried
  for (const WriteOp& op : ops) {
    if (!unavailable.empty()) {
      results.push_back({Outcome::kRetry, "not attempted: " + unavailable, op.key, ""});
      continue;
    }
    WriteResult r = Unchanged(op);
    if (r.outcome == Outcome::kOk) r = op.kind == WriteOp::Kind::kDelete ? Delete(op) : Upsert(op);
    if (r.outcome == Outcome::kRetry) unavailable = r.message;
    results.push_back(std::move(r));
  }
  return results;
}

WriteResult RestConnector::Unchanged(const WriteOp& op) {
  // Compare-and-set as far as a generic API allows: the item is read just before it is
  // written (a change in between these two calls is not seen), and compared by its
  // updated-at value: the item the get answers may carry other fields than the list's
  // (a summary there, details here), so its hash cannot be compared with the scan's.
  // Without an updated_field there is nothing comparable: no check.
  if (op.expect_version.empty() || op.key.empty() || options_.resource.updated_field.empty()) {
    return {Outcome::kOk, "", op.key, ""};
  }
  auto now = Get(op.key);
  if (!now.ok()) {
    return {Outcome::kRetry, "reading the item before writing it: " + now.error().message, op.key,
            ""};
  }
  std::string version = now->has_value() ? (**now).version : "";
  auto updated = [](const std::string& v) { return v.substr(0, v.find('|')); };
  if (!now->has_value() || updated(version) != updated(op.expect_version)) {
    return {Outcome::kConflict, "the item changed since this write was decided", op.key,
            std::move(version)};
  }
  return {Outcome::kOk, "", op.key, ""};
}

WriteResult RestConnector::Delete(const WriteOp& op) {
  const CallOptions& del = options_.resource.remove;
  HttpAnswer answer = session_.Call(del.method, PathFor(del, op.key));
  if (answer.outcome == Outcome::kOk ||
      (answer.outcome == Outcome::kFatal && Gone(answer.status))) {
    return {Outcome::kOk, "", op.key, ""};
  }
  WriteResult w = Failed(answer);
  w.key = op.key;
  return w;
}

WriteResult RestConnector::Upsert(const WriteOp& op) {
  const std::string& key_field = options_.resource.key_field;
  if (op.key.empty()) {
    mapping::Fields fields = op.fields;
    if (auto it = fields.find(key_field); it != fields.end() && mapping::IsNull(it->second)) {
      fields.erase(it);  // the API assigns it
    }
    return Create(fields, op.idempotency_key);
  }
  // The key is in the path: the body carries the other fields only.
  mapping::Fields changes = op.fields;
  changes.erase(key_field);
  const CallOptions& update = options_.resource.update;
  // The item is named by its key and the body holds values, not changes to them: sent
  // twice it leaves the same item, so it is retried within the call (PATCH included).
  HttpAnswer answer =
      session_.Call({update.method, PathFor(update, op.key), Body(changes), {}, true});
  if (answer.outcome == Outcome::kFatal && Gone(answer.status)) {
    // Not there: an upsert creates it, under the given key.
    mapping::Fields fields = op.fields;
    fields[key_field] = op.key;
    return Create(fields, op.idempotency_key);
  }
  if (answer.outcome != Outcome::kOk) {
    WriteResult w = Failed(answer);
    w.key = op.key;
    return w;
  }
  return Written(answer, update, op.key, false);
}

WriteResult RestConnector::Create(const mapping::Fields& fields,
                                  const std::string& idempotency_key) {
  const CallOptions& create = options_.resource.create;
  const std::string& header = options_.connection.idempotency_header;
  Request request{create.method, create.path, Body(fields), {}, std::nullopt};
  if (!header.empty()) {
    // The API recognises the create by its key: safe to send again, within the call too.
    request.headers.emplace_back(header, idempotency_key.empty() ? RandomKey() : idempotency_key);
    request.repeatable = true;
  } else {
    request.repeatable = false;  // whatever the method: a second one may be a second item
  }
  HttpAnswer answer = session_.Call(request);
  if (answer.outcome != Outcome::kOk) return Failed(answer);
  return Written(answer, create, "", true);
}

WriteResult RestConnector::Written(const HttpAnswer& answer, const CallOptions& call,
                                   std::string key, bool created) {
  const ResourceOptions& r = options_.resource;
  rapidjson::Document doc;
  doc.Parse(answer.body.data(), answer.body.size());
  const bool json = !answer.body.empty() && !doc.HasParseError();
  const rapidjson::Value* item = json ? Find(doc, call.item) : nullptr;
  if (item != nullptr && !item->IsObject()) item = nullptr;
  if (created) {
    const rapidjson::Value* k = nullptr;
    if (json && !call.key.empty()) k = Find(doc, call.key);
    if (k == nullptr && item != nullptr) k = Find(*item, r.key_field);
    key = k != nullptr ? ScalarText(*k).value_or("") : "";
    if (key.empty()) key = LastSegment(answer.Header("location"));
    if (key.empty()) {
      const std::string where = call.key.empty() ? r.key_field + "' in the item" : call.key + "'";
      return {Outcome::kFatal,
              call.method + " " + call.path + " created an item but its answer has no key at '" +
                  where +
                  " and no Location header; set external.create.key (the item may now "
                  "exist without a link)",
              "", ""};
    }
  }
  WriteResult w{Outcome::kOk, "", key, ""};
  if (item != nullptr) {
    Item read = ReadItem(*item, key);
    if (read.row) w.version = read.row->version;
    return w;
  }
  // No item in the answer: read it back for its version.
  auto got = Get(key);
  if (got.ok() && got->has_value()) {
    w.version = (*got)->version;
  } else {
    w.message = "written; its version could not be read back: " +
                (got.ok() ? std::string("the item is not there") : got.error().message);
  }
  return w;
}

std::unique_ptr<RestConnector> Create(const ConnectorSpec& spec, config::Diagnostics& errors,
                                      Env env) {
  auto options = ParseOptions(spec, errors);
  if (!options) return nullptr;
  return std::make_unique<RestConnector>(std::move(*options), std::move(env));
}

std::unique_ptr<Connector> Create(const ConnectorSpec& spec, config::Diagnostics& errors) {
  return Create(spec, errors, Env{});
}

}  // namespace ghl::connectors::rest
