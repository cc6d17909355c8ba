// Request builders: URL, body and checks per operation. The checks that are not about
// one DTO (query strings, property tables, JSON text) live in operation_checks.h.
#include "connectors/ghl/operations.h"

#include "connectors/ghl/operation_checks.h"

namespace ghl::ghl_client {

using detail::Checker;
using detail::Prop;
using detail::Query;
using detail::Type;

namespace contacts {
namespace {

constexpr int kMaxPageLimit = 500;
constexpr int kMaxPagedResults = 10'000;
constexpr size_t kMaxQueryLength = 75;

// CreateContactDto; UpsertContactDto adds createNewIfDuplicateAllowed, UpdateContactDto
// drops locationId and gender.
std::vector<Prop> WriteProps(bool update, bool upsert) {
  std::vector<Prop> p = {
      {"firstName", Type::kString},
      {"lastName", Type::kString},
      {"name", Type::kString},
      {"email", Type::kString},
      {"phone", Type::kString},
      {"address1", Type::kString},
      {"city", Type::kString},
      {"state", Type::kString},
      {"postalCode", Type::kString},
      {"website", Type::kString},
      {"timezone", Type::kString},
      {"dnd", Type::kBool},
      {"dndSettings", Type::kObject},
      {"inboundDndSettings", Type::kObject},
      {"tags", Type::kStringArray},
      {"customFields", Type::kFieldValuesById},
      {"source", Type::kString},
      {"dateOfBirth", Type::kAny},
      {"country", Type::kString},
      {"assignedTo", Type::kString},
      // Inferred: UpdateContactDto lacks companyName, but GHL accepts it on PUT
      // (highlevel-api-docs issue #314, verified live), so updates may carry it.
      {"companyName", Type::kString},
  };
  // GHL refuses gender on PUT with "property gender should not exist" (issue #313).
  if (!update) p.push_back({"gender", Type::kString});
  if (upsert) p.push_back({"createNewIfDuplicateAllowed", Type::kBool});
  return p;
}

void CheckFilters(Checker& c, const rapidjson::Value& filters, const std::string& where, int depth);

void CheckFilter(Checker& c, const rapidjson::Value& f, const std::string& where, int depth) {
  if (!f.IsObject()) return c.Fail(where + " must be an object");
  if (f.HasMember("group")) {
    const auto group = detail::StringOf(f, "group");
    if (group != "AND" && group != "OR") c.Fail(where + ".group must be AND or OR");
    auto it = f.FindMember("filters");
    if (it == f.MemberEnd() || !it->value.IsArray()) {
      return c.Fail(where + ".filters must be an array");
    }
    if (depth >= 2) return c.Fail(where + ": filter groups nest at most two levels deep");
    return CheckFilters(c, it->value, where + ".filters", depth + 1);
  }
  if (detail::StringOf(f, "field").empty()) c.Fail(where + ".field must be a non-empty string");
  const auto op = detail::StringOf(f, "operator");
  static const std::vector<std::string_view> kOps = {
      "eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range"};
  if (!detail::OneOf(op, kOps)) {
    return c.Fail(where + ".operator must be one of " + detail::Join(kOps) + ", got \"" +
                  std::string(op) + "\"");
  }
  auto value = f.FindMember("value");
  if (value == f.MemberEnd()) {
    if (op != "exists" && op != "not_exists")
      c.Fail(where + ".value is required for " + std::string(op));
    return;
  }
  if (value->value.IsString() && value->value.GetStringLength() > kMaxQueryLength) {
    c.Fail(where + ".value is longer than 75 characters");
  }
  if (op == "range" && !value->value.IsObject()) {
    c.Fail(where + ".value of a range must be an object of gte/lte/gt/lt");
  }
}

void CheckFilters(Checker& c, const rapidjson::Value& filters, const std::string& where,
                  int depth) {
  if (!filters.IsArray()) return c.Fail(where + " must be an array");
  for (rapidjson::SizeType i = 0; i < filters.Size(); ++i) {
    CheckFilter(c, filters[i], where + "[" + std::to_string(i) + "]", depth);
  }
}

void CheckSort(Checker& c, const rapidjson::Value& sort) {
  if (!sort.IsArray()) return c.Fail("sort must be an array");
  for (rapidjson::SizeType i = 0; i < sort.Size(); ++i) {
    const auto& s = sort[i];
    const std::string where = "sort[" + std::to_string(i) + "]";
    if (!s.IsObject() || detail::StringOf(s, "field").empty()) {
      c.Fail(where + " must be {field, direction}");
    } else if (s.HasMember("direction") &&
               !detail::OneOf(detail::StringOf(s, "direction"), {"asc", "desc"})) {
      c.Fail(where + ".direction must be asc or desc");
    }
  }
}

}  // namespace

Result<ApiRequest> Search(const SearchParams& p) {
  Checker c("contacts.search");
  c.RequireId("locationId", p.location_id);
  c.Range("pageLimit", p.page_limit, 1, kMaxPageLimit);
  if (p.page) {
    c.Range("page", *p.page, 1, kMaxPagedResults);
    if (p.search_after) c.Fail("page and searchAfter cannot be used together");
    if (static_cast<int64_t>(*p.page) * p.page_limit > kMaxPagedResults) {
      c.Fail("page * pageLimit must not exceed 10000; page further with searchAfter");
    }
  }
  if (p.query.size() > kMaxQueryLength) c.Fail("query is longer than 75 characters");
  if (p.filters) CheckFilters(c, *p.filters, "filters", 0);
  if (p.sort) CheckSort(c, *p.sort);
  rapidjson::Document cursor;
  if (p.search_after) {
    cursor.Parse(p.search_after->c_str(), p.search_after->size());
    if (cursor.HasParseError() || !cursor.IsArray()) {
      c.Fail("searchAfter must be the JSON array of a previous page, got " + *p.search_after);
    }
  }
  if (!c.ok()) return c.error();

  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  detail::AddString(body, "locationId", p.location_id, a);
  body.AddMember("pageLimit", p.page_limit, a);
  if (p.page) body.AddMember("page", *p.page, a);
  if (p.search_after) body.AddMember("searchAfter", rapidjson::Value(cursor, a), a);
  if (p.filters) body.AddMember("filters", rapidjson::Value(*p.filters, a), a);
  if (p.sort) body.AddMember("sort", rapidjson::Value(*p.sort, a), a);
  if (!p.query.empty()) detail::AddString(body, "query", p.query, a);
  return ApiRequest{"contacts.search", "POST", "/contacts/search", detail::Dump(body)};
}

Result<ApiRequest> Get(std::string_view contact_id) {
  Checker c("contacts.get");
  c.RequireId("contactId", contact_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"contacts.get", "GET", "/contacts/" + UrlEncode(contact_id)};
}

Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& fields) {
  Checker c("contacts.create");
  c.RequireId("locationId", location_id);
  auto body = c.Body(fields, WriteProps(false, false), location_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"contacts.create", "POST", "/contacts/", detail::Dump(body)};
}

Result<ApiRequest> Upsert(std::string_view location_id, const rapidjson::Value& fields) {
  Checker c("contacts.upsert");
  c.RequireId("locationId", location_id);
  auto body = c.Body(fields, WriteProps(false, true), location_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"contacts.upsert", "POST", "/contacts/upsert", detail::Dump(body)};
}

Result<ApiRequest> Update(std::string_view contact_id, const rapidjson::Value& fields) {
  Checker c("contacts.update");
  c.RequireId("contactId", contact_id);
  auto body = c.Body(fields, WriteProps(true, false));
  if (!c.ok()) return c.error();
  return ApiRequest{"contacts.update", "PUT", "/contacts/" + UrlEncode(contact_id),
                    detail::Dump(body)};
}

Result<ApiRequest> Delete(std::string_view contact_id) {
  Checker c("contacts.delete");
  c.RequireId("contactId", contact_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"contacts.delete", "DELETE", "/contacts/" + UrlEncode(contact_id)};
}

namespace {
Result<ApiRequest> Tags(const char* operation, const char* method, std::string_view contact_id,
                        const std::vector<std::string>& tags) {
  Checker c(operation);
  c.RequireId("contactId", contact_id);
  if (tags.empty()) c.Fail("tags must not be empty");
  for (const auto& t : tags) {
    if (t.empty()) c.Fail("tags must not contain an empty tag");
  }
  if (!c.ok()) return c.error();
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& t : tags) list.PushBack(rapidjson::Value(t.c_str(), t.size(), a), a);
  body.AddMember("tags", list, a);
  return ApiRequest{operation, method, "/contacts/" + UrlEncode(contact_id) + "/tags",
                    detail::Dump(body)};
}
}  // namespace

Result<ApiRequest> AddTags(std::string_view contact_id, const std::vector<std::string>& tags) {
  return Tags("contacts.tags.add", "POST", contact_id, tags);
}

Result<ApiRequest> RemoveTags(std::string_view contact_id, const std::vector<std::string>& tags) {
  return Tags("contacts.tags.remove", "DELETE", contact_id, tags);
}

Result<ApiRequest> FindDuplicate(std::string_view location_id, std::string_view email,
                                 std::string_view number) {
  Checker c("contacts.duplicate");
  c.RequireId("locationId", location_id);
  if (email.empty() && number.empty()) c.Fail("give an email or a number to look up");
  if (!c.ok()) return c.error();
  Query q;
  q.Add("locationId", location_id).AddIfSet("email", email).AddIfSet("number", number);
  return ApiRequest{"contacts.duplicate", "GET", "/contacts/search/duplicate" + q.str()};
}

Result<ApiRequest> List(const ListParams& p) {
  Checker c("contacts.list");
  c.RequireId("locationId", p.location_id);
  c.Range("limit", p.limit, 1, 100);
  if (!p.start_after_id.empty() && !p.start_after) c.Fail("startAfterId needs startAfter");
  if (p.start_after && *p.start_after < 0) c.Fail("startAfter must be epoch milliseconds");
  if (!c.ok()) return c.error();
  Query q;
  q.Add("locationId", p.location_id).Add("limit", std::to_string(p.limit));
  if (p.start_after) q.Add("startAfter", std::to_string(*p.start_after));
  q.AddIfSet("startAfterId", p.start_after_id).AddIfSet("query", p.query);
  return ApiRequest{"contacts.list", "GET", "/contacts/" + q.str()};
}

}  // namespace contacts

namespace custom_fields {
namespace {

// CreateCustomFieldsDTO / UpdateCustomFieldsDTO. Inferred: other properties are passed on
// unchecked: GHL accepts undocumented ones (fieldKey, description, options...; see
// highlevel-api-docs issue #300) and the spec gives no other way to set picklist options.
std::vector<Prop> Props(bool create) {
  std::vector<Prop> p = {{"name", Type::kString, true},
                         {"placeholder", Type::kString},
                         {"acceptedFormat", Type::kStringArray},
                         {"isMultipleFile", Type::kBool},
                         {"maxNumberOfFiles", Type::kNumber},
                         {"textBoxListOptions", Type::kArray},
                         {"position", Type::kNumber},
                         {"model", Type::kString, false, {"contact", "opportunity"}}};
  if (create) p.push_back({"dataType", Type::kString, true});
  return p;
}

std::string Base(std::string_view location_id) {
  return "/locations/" + UrlEncode(location_id) + "/customFields";
}

}  // namespace

Result<ApiRequest> List(std::string_view location_id, std::string_view model) {
  Checker c("custom_fields.list");
  c.RequireId("locationId", location_id);
  c.OneOf("model", model, {"contact", "opportunity", "all"});
  if (!c.ok()) return c.error();
  return ApiRequest{"custom_fields.list", "GET",
                    Base(location_id) + Query().Add("model", model).str()};
}

Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& definition) {
  Checker c("custom_fields.create");
  c.RequireId("locationId", location_id);
  auto body = c.Body(definition, Props(true), "", /*open=*/true);
  if (!c.ok()) return c.error();
  return ApiRequest{"custom_fields.create", "POST", Base(location_id), detail::Dump(body)};
}

Result<ApiRequest> Update(std::string_view location_id, std::string_view field_id,
                          const rapidjson::Value& definition) {
  Checker c("custom_fields.update");
  c.RequireId("locationId", location_id);
  c.RequireId("id", field_id);
  auto body = c.Body(definition, Props(false), "", /*open=*/true);
  if (!c.ok()) return c.error();
  return ApiRequest{"custom_fields.update", "PUT", Base(location_id) + "/" + UrlEncode(field_id),
                    detail::Dump(body)};
}

Result<ApiRequest> Delete(std::string_view location_id, std::string_view field_id) {
  Checker c("custom_fields.delete");
  c.RequireId("locationId", location_id);
  c.RequireId("id", field_id);
  if (!c.ok()) return c.error();
  return ApiRequest{"custom_fields.delete", "DELETE",
                    Base(location_id) + "/" + UrlEncode(field_id)};
}

}  // namespace custom_fields

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char ch : s) {
    const bool unreserved = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
                            ch == '~';
    if (unreserved) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

}  // namespace ghl::ghl_client
