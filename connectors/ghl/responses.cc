#include "connectors/ghl/responses.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdlib>

#include "connectors/ghl/operation_checks.h"

namespace ghl::ghl_client {
namespace {

using detail::StringOf;

const char* TypeName(const rapidjson::Value& v) {
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  if (v.IsString()) return "a string";
  if (v.IsNumber()) return "a number";
  if (v.IsBool()) return "a boolean";
  return "null";
}

// Parses into `d` (which may use an outside allocator).
Result<void> ParseInto(std::string_view body, rapidjson::Document& d) {
  if (body.empty()) return Error{"empty body where JSON was expected"};
  d.Parse<rapidjson::kParseFullPrecisionFlag>(body.data(), body.size());
  if (!d.HasParseError()) return Ok();
  const size_t at = d.GetErrorOffset();
  // Escape errors point at the backslash: a cut inside "\u00e9" or a surrogate pair.
  const auto code = d.GetParseError();
  const bool in_escape = code == rapidjson::kParseErrorStringEscapeInvalid ||
                         code == rapidjson::kParseErrorStringUnicodeEscapeInvalidHex ||
                         code == rapidjson::kParseErrorStringUnicodeSurrogateInvalid;
  if (at >= body.size() || (in_escape && body.size() - at < 12)) {
    return Error{"truncated JSON: the body ends after " + std::to_string(body.size()) +
                 " bytes in the middle of a value"};
  }
  return Error{"malformed JSON at byte " + std::to_string(at) + ": " +
               rapidjson::GetParseError_En(code)};
}

// Makes `member` (a value inside `d`) the root of `d`, without copying.
rapidjson::Document Hoist(rapidjson::Document d, rapidjson::Value& member) {
  rapidjson::Value v(std::move(member));
  static_cast<rapidjson::Value&>(d) = v;  // GenericValue's assignment moves
  return d;
}

// The member `key` of `obj` as a number, if it is one (numeric strings count).
std::optional<int64_t> NumberOf(const rapidjson::Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return std::nullopt;
  const auto& v = it->value;
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsNumber()) return static_cast<int64_t>(v.GetDouble());
  if (v.IsString() && v.GetStringLength() > 0) {
    char* end = nullptr;
    const long long n = std::strtoll(v.GetString(), &end, 10);
    if (*end == '\0') return n;
  }
  return std::nullopt;
}

// Whether a meta object says that no page follows: nextPageUrl and nextPage, where
// present, are all null. Inferred: with neither key, a full page may have a successor,
// and asking once too often costs one request where stopping early would lose records.
bool MetaSaysLast(const rapidjson::Value& meta) {
  bool present = false;
  for (const char* k : {"nextPageUrl", "nextPage"}) {
    auto it = meta.FindMember(k);
    if (it == meta.MemberEnd()) continue;
    if (!it->value.IsNull()) return false;
    present = true;
  }
  return present;
}

Result<MetaPage> ParseMetaPage(std::string_view body, const char* key, int limit) {
  auto records = ParseRecords(body, key);
  if (!records.ok()) return records.error();
  MetaPage page;
  page.records = std::move(records.value());
  page.total = static_cast<int64_t>(page.records.size());
  const rapidjson::Value& root = *page.records.body;
  auto meta_it = root.FindMember("meta");
  if (meta_it == root.MemberEnd() || !meta_it->value.IsObject()) {
    return Error{std::string("the ") + key + " answer has no meta object"};
  }
  const auto& meta = meta_it->value;
  if (auto total = NumberOf(meta, "total")) page.total = *total;
  if (static_cast<int>(page.records.size()) < limit || MetaSaysLast(meta)) return page;
  const auto after = NumberOf(meta, "startAfter");
  const auto after_id = StringOf(meta, "startAfterId");
  if (!after || after_id.empty()) {
    return Error{"a full page of " + std::string(key) +
                 " whose meta has no startAfter/startAfterId to continue from"};
  }
  page.next = PageCursor{*after, std::string(after_id)};
  return page;
}

}  // namespace

Result<rapidjson::Document> ParseObject(std::string_view body) {
  rapidjson::Document d;
  if (auto parsed = ParseInto(body, d); !parsed.ok()) return parsed.error();
  if (!d.IsObject()) return Error{std::string("expected a JSON object, got ") + TypeName(d)};
  return d;
}

Result<rapidjson::Document> ParseRecord(std::string_view body, const char* key) {
  auto d = ParseObject(body);
  if (!d.ok()) return d.error();
  auto it = d->FindMember(key);
  if (it == d->MemberEnd() || !it->value.IsObject()) {
    return Error{std::string("expected {\"") + key + "\": {...}}, but " + key + " is " +
                 (it == d->MemberEnd() ? "missing" : TypeName(it->value))};
  }
  return Hoist(std::move(d.value()), it->value);
}

Result<Upserted> ParseUpsert(std::string_view body, const char* key) {
  auto d = ParseObject(body);
  if (!d.ok()) return d.error();
  auto created = d->FindMember("new");
  if (created == d->MemberEnd() || !created->value.IsBool()) {
    return Error{"an upsert answer without a boolean \"new\""};
  }
  const bool is_new = created->value.GetBool();
  auto it = d->FindMember(key);
  if (it == d->MemberEnd() || !it->value.IsObject()) {
    return Error{std::string("an upsert answer without the ") + key + " object"};
  }
  return Upserted{Hoist(std::move(d.value()), it->value), is_new};
}

Result<Records> ParseRecords(std::string_view body, const char* key) {
  Records out;
  out.body = std::make_unique<rapidjson::Document>();
  if (auto parsed = ParseInto(body, *out.body); !parsed.ok()) return parsed.error();
  const rapidjson::Value& root = *out.body;
  if (!root.IsObject()) return Error{std::string("expected a JSON object, got ") + TypeName(root)};
  auto it = root.FindMember(key);
  if (it == root.MemberEnd() || !it->value.IsArray()) {
    return Error{std::string("expected {\"") + key + "\": [...]}, but " + key + " is " +
                 (it == root.MemberEnd() ? "missing" : TypeName(it->value))};
  }
  for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i) {
    const auto& item = it->value[i];
    if (!item.IsObject()) {
      return Error{std::string(key) + "[" + std::to_string(i) + "] is " + TypeName(item) +
                   ", not an object"};
    }
    out.items.push_back(&item);
  }
  return out;
}

Result<ContactSearchPage> ParseContactSearch(std::string_view body, int page_limit) {
  auto records = ParseRecords(body, "contacts");
  if (!records.ok()) return records.error();
  ContactSearchPage page;
  page.contacts = std::move(records.value());
  page.total =
      NumberOf(*page.contacts.body, "total").value_or(static_cast<int64_t>(page.contacts.size()));
  if (static_cast<int>(page.contacts.size()) < page_limit) return page;
  const auto& last = page.contacts[page.contacts.size() - 1];
  auto cursor = last.FindMember("searchAfter");
  if (cursor == last.MemberEnd() || !cursor->value.IsArray()) {
    return Error{"a full page of " + std::to_string(page.contacts.size()) +
                 " contacts whose last contact has no searchAfter cursor"};
  }
  page.next_search_after = detail::Dump(cursor->value);
  return page;
}

std::optional<contacts::SearchParams> NextPage(const contacts::SearchParams& params,
                                               const ContactSearchPage& page) {
  if (!page.next_search_after) return std::nullopt;
  contacts::SearchParams next = params;
  next.page.reset();
  next.search_after = page.next_search_after;
  return next;
}

Result<MetaPage> ParseOpportunitySearch(std::string_view body, int limit) {
  return ParseMetaPage(body, "opportunities", limit);
}

Result<MetaPage> ParseContactList(std::string_view body, int limit) {
  return ParseMetaPage(body, "contacts", limit);
}

std::optional<opportunities::SearchParams> NextPage(const opportunities::SearchParams& params,
                                                    const MetaPage& page) {
  if (!page.next) return std::nullopt;
  opportunities::SearchParams next = params;
  next.page.reset();
  next.start_after = page.next->start_after;
  next.start_after_id = page.next->start_after_id;
  return next;
}

std::optional<contacts::ListParams> NextPage(const contacts::ListParams& params,
                                             const MetaPage& page) {
  if (!page.next) return std::nullopt;
  contacts::ListParams next = params;
  next.start_after = page.next->start_after;
  next.start_after_id = page.next->start_after_id;
  return next;
}

}  // namespace ghl::ghl_client
