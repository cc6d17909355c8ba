// RestConnector::Scan and the reading of items (see rest_connector.h).
#include <algorithm>

#include "connectors/rest/json.h"
#include "connectors/rest/pagination.h"
#include "connectors/rest/rest_connector.h"
#include "connectors/rest/since.h"

namespace ghl::connectors::rest {
namespace {

bool Truthy(const rapidjson::Value& v) {
  if (v.IsBool()) return v.GetBool();
  if (v.IsNumber()) return v.GetDouble() != 0;
  if (v.IsString()) {
    const std::string s(v.GetString(), v.GetStringLength());
    return s == "true" || s == "1" || s == "yes" || s == "TRUE" || s == "True";
  }
  return false;
}

std::string Cut(std::string s) {
  if (s.size() > 80) s = s.substr(0, 80) + "...";
  return s;
}

}  // namespace

RestConnector::Item RestConnector::ReadItem(const rapidjson::Value& item,
                                            const std::string& fallback_key) const {
  const ResourceOptions& r = options_.resource;
  Item out;
  if (!item.IsObject()) {
    out.reason = "not a JSON object: " + Cut(Dump(item));
    return out;
  }
  const rapidjson::Value* key = Find(item, r.key_field);
  std::optional<std::string> key_text = key != nullptr ? ScalarText(*key) : std::nullopt;
  if (!key_text && !fallback_key.empty()) key_text = fallback_key;
  if (!key_text) {
    out.reason = "no key at '" + r.key_field + "' (external.key_field)";
    return out;
  }
  Row row;
  row.key = *key_text;
  row.fields = ItemFields(item);
  if (!r.updated_field.empty()) {
    if (const rapidjson::Value* u = Find(item, r.updated_field)) {
      out.updated = ScalarText(*u).value_or("");
    }
  }
  // With an updated_field the version is "<updated>|<hash>", as the SQL connector's: the
  // hash tells apart two contents stamped with the same time (coarse timestamps, an edit
  // in the second of the daemon's own write), which the time alone would take for the
  // daemon's write. The incremental cursor still follows `updated` alone.
  const std::string hash = ContentHash(item);
  row.version = out.updated.empty() ? hash : out.updated + "|" + hash;
  const std::string& format = r.list.updated_since.param.empty() ? "" : r.list.updated_since.format;
  row.updated_ms = UpdatedMs(out.updated, format).value_or(0);
  if (!r.soft_delete_field.empty()) {
    const rapidjson::Value* flag = Find(item, r.soft_delete_field);
    row.deleted = flag != nullptr && Truthy(*flag);
  }
  out.row = std::move(row);
  return out;
}

Result<ScanPage> RestConnector::Scan(const std::string& cursor, std::size_t limit) {
  const ListOptions& list = options_.resource.list;
  const bool incremental = !list.updated_since.param.empty();
  ScanState state;
  if (!cursor.empty()) {
    auto decoded = DecodeCursor(cursor);
    if (!decoded) {
      return Error{"scan cursor '" + Cut(cursor) + "' of " + Describe() +
                   " was not written by this connector; start again with a full scan"};
    }
    state = *decoded;
  }
  if (!state.in_scan) {
    // A new scan: incremental from the last high-water mark, or full.
    state.in_scan = true;
    state.next.clear();
    state.rejected = false;
    state.since = incremental && !state.high.empty() ? SinceValue(state.high, list.updated_since)
                                                     : std::string();
    state.size = std::min<int64_t>(list.pagination.page_size,
                                   limit > 0 ? static_cast<int64_t>(limit) : INT64_MAX);
  }
  const std::string target = PageTarget(list, state);
  HttpAnswer answer = session_.Call("GET", target);
  if (answer.outcome != Outcome::kOk) return Error{answer.message};
  rapidjson::Document doc;
  doc.Parse(answer.body.data(), answer.body.size());
  if (doc.HasParseError()) {
    return Error{"GET " + target + " answered " + std::to_string(answer.status) +
                 " with a body that is not JSON: " + Cut(answer.body)};
  }
  const rapidjson::Value* items = Find(doc, list.items);
  if (items == nullptr || !items->IsArray()) {
    return Error{"GET " + target + " answered without an array at '" + list.items +
                 "' (external.list.items): " + Cut(answer.body)};
  }
  ScanPage page;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    Item item = ReadItem((*items)[i]);
    if (!item.row) {
      page.rejected.push_back({"GET " + target + " item " + std::to_string(i), item.reason});
      continue;
    }
    if (incremental) state.high = Later(state.high, item.updated, list.updated_since.format);
    page.rows.push_back(std::move(*item.row));
  }
  if (!page.rows.empty() && !state.next.empty() && page.rows[0].key == state.first) {
    return Error{"GET " + target + " answered the previous page again (first key '" + state.first +
                 "'); check external.list.pagination: the API may not know its "
                 "parameters"};
  }
  if (!page.rows.empty()) state.first = page.rows[0].key;
  state.rejected = state.rejected || !page.rejected.empty();
  page.complete = state.since.empty() && !state.rejected;
  auto next = NextPage(list.pagination, state, items->Size(), doc, answer.Header("link"));
  if (next && list.pagination.type == "link") {
    next = session_.TargetOf(*next);
    if (!next) return Error{"GET " + target + " links its next page outside " + Describe()};
  }
  page.done = !next.has_value();
  if (!page.done) {
    state.next = *next;
    page.cursor = EncodeCursor(state);
  } else if (incremental) {
    page.cursor = EncodeCursor(ScanState{.high = state.high});
  }
  return page;
}

}  // namespace ghl::connectors::rest
