// RestConnector::FindCreated: the item a create whose answer was lost made, found by the
// unique field it wrote (external.create.match; see rest_connector.h).
#include <algorithm>
#include <cctype>

#include "connectors/rest/json.h"
#include "connectors/rest/pagination.h"
#include "connectors/rest/rest_connector.h"

namespace ghl::connectors::rest {
namespace {

// Pages read before the lookup gives up: an API that filters answers one short page.
constexpr int kMaxLookupPages = 10;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

// The text of `field` as the create's body writes it ("" when it writes none): the body is
// built and read back, so that a number or a dotted field reads as the API will hold it.
std::string RestConnector::MatchValue(const WriteOp& op) const {
  const std::string& field = options_.resource.create.match;
  auto it = op.fields.find(field);
  if (it == op.fields.end() || mapping::IsNull(it->second)) return "";
  const std::string body = Body({{field, it->second}});
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  const rapidjson::Value* v = doc.HasParseError() ? nullptr : Find(doc, field);
  return v != nullptr ? ScalarText(*v).value_or("") : "";
}

WriteResult RestConnector::FindCreated(const WriteOp& op) {
  const CallOptions& create = options_.resource.create;
  const ListOptions& list = options_.resource.list;
  // Without `match` a create is sent again: the API recognises it by its idempotency key,
  // or the configuration accepted duplicates (create.allow_duplicates).
  if (create.match.empty()) return {Outcome::kOk, "", "", ""};
  const std::string value = MatchValue(op);
  if (value.empty()) {
    if (!options_.connection.idempotency_header.empty()) return {Outcome::kOk, "", "", ""};
    return {Outcome::kFatal,
            "an earlier attempt of this create got no answer (it may have made the item), and "
            "the create writes no '" +
                create.match + "' (external.create.match) to look the item up by; check " +
                Describe() + " for it before retrying this write",
            "", ""};
  }
  ListOptions filtered = list;
  filtered.path = AppendQuery(list.path, create.match_param, value);
  ScanState state;
  state.in_scan = true;
  state.size = list.pagination.page_size;
  std::vector<Row> found;
  for (int page = 1;; ++page) {
    if (page > kMaxLookupPages) {
      return {Outcome::kRetry,
              "looking for the item an earlier attempt of this create made: GET " +
                  PageTarget(filtered, ScanState{.in_scan = true, .size = state.size}) +
                  " did not end within " + std::to_string(kMaxLookupPages) +
                  " pages; does list.path filter by '" + create.match_param +
                  "' (external.create.match_param)?",
              "", ""};
    }
    const std::string target = PageTarget(filtered, state);
    HttpAnswer answer = session_.Call("GET", target);
    if (answer.outcome != Outcome::kOk) {
      return {Outcome::kRetry,
              "looking for the item an earlier attempt of this create made: " + answer.message, "",
              ""};
    }
    rapidjson::Document doc;
    doc.Parse(answer.body.data(), answer.body.size());
    const rapidjson::Value* items = doc.HasParseError() ? nullptr : Find(doc, list.items);
    if (items == nullptr || !items->IsArray()) {
      return {Outcome::kRetry,
              "looking for the item an earlier attempt of this create made: GET " + target +
                  " answered without an array at '" + list.items + "' (external.list.items)",
              "", ""};
    }
    // Compared here too: an API that ignores the parameter answers other items.
    for (const auto& item : items->GetArray()) {
      const rapidjson::Value* v = item.IsObject() ? Find(item, create.match) : nullptr;
      auto text = v != nullptr ? ScalarText(*v) : std::nullopt;
      if (!text || Lower(*text) != Lower(value)) continue;
      Item read = ReadItem(item);
      if (read.row) found.push_back(std::move(*read.row));
    }
    auto next = NextPage(list.pagination, state, items->Size(), doc, answer.Header("link"));
    if (next && list.pagination.type == "link") next = session_.TargetOf(*next);
    if (!next) break;
    state.next = *next;
  }
  if (found.size() > 1) {
    std::string keys;
    for (const Row& row : found) keys += (keys.empty() ? "" : ", ") + row.key;
    return {Outcome::kFatal,
            "an earlier attempt of this create got no answer (it may have made the item), and " +
                std::to_string(found.size()) + " items of " + Describe() + " have " + create.match +
                " '" + value + "' (" + keys +
                "): which one it made cannot be told; check them before retrying this write",
            "", ""};
  }
  if (found.empty()) return {Outcome::kOk, "", "", ""};
  return {Outcome::kOk, "", found[0].key, found[0].version};
}

}  // namespace ghl::connectors::rest
