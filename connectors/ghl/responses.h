// Parsers for the answers of the operations in operations.h: records, search pages and
// their next-page requests, custom field values and definitions. Pure: no IO.
//
// Every parser answers an Error, never aborts, on a body that is not what GHL sends
// (malformed or truncated JSON, wrong types), naming what it expected.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ghl/operations.h"
#include "core/result.h"

namespace ghl::ghl_client {

// The body as a JSON object; an error for an empty, malformed, truncated or non-object body.
Result<rapidjson::Document> ParseObject(std::string_view body);

// The object under `key` of an answer like {"contact": {...}}.
Result<rapidjson::Document> ParseRecord(std::string_view body, const char* key);

// An upsert answer {new, <key>: {...}}: the record and whether it was created.
struct Upserted {
  rapidjson::Document record;
  bool created = false;
};
Result<Upserted> ParseUpsert(std::string_view body, const char* key);

// The objects of one answer's list. They point into `body`, which this owns, so they stay
// valid as long as the Records (moves included).
struct Records {
  std::unique_ptr<rapidjson::Document> body;
  std::vector<const rapidjson::Value*> items;

  size_t size() const { return items.size(); }
  const rapidjson::Value& operator[](size_t i) const { return *items[i]; }
};
// The objects of the array under `key`, e.g. ParseRecords(body, "events").
Result<Records> ParseRecords(std::string_view body, const char* key);

// ---- contacts search ----

struct ContactSearchPage {
  Records contacts;
  int64_t total = 0;
  // The searchAfter of the last contact (JSON text), or nullopt when the page is short
  // (fewer than the page limit asked for): no page follows.
  std::optional<std::string> next_search_after;
};
// `page_limit` is the pageLimit the request asked for.
Result<ContactSearchPage> ParseContactSearch(std::string_view body, int page_limit);
// The request for the page after `page`, by cursor; nullopt after the last page.
std::optional<contacts::SearchParams> NextPage(const contacts::SearchParams& params,
                                               const ContactSearchPage& page);

// ---- meta-paged lists: GET /opportunities/search and the deprecated GET /contacts/ ----

struct PageCursor {
  int64_t start_after = 0;  // epoch ms
  std::string start_after_id;
};
struct MetaPage {
  Records records;
  int64_t total = 0;
  std::optional<PageCursor> next;  // nullopt after the last page
};
Result<MetaPage> ParseOpportunitySearch(std::string_view body, int limit);
Result<MetaPage> ParseContactList(std::string_view body, int limit);
std::optional<opportunities::SearchParams> NextPage(const opportunities::SearchParams& params,
                                                    const MetaPage& page);
std::optional<contacts::ListParams> NextPage(const contacts::ListParams& params,
                                             const MetaPage& page);

// ---- custom field values ----

// Custom field id → the value as compact JSON text ("\"Gold\"", "12", "[\"a\",\"b\"]").
// Text keeps the map cheap to copy, compare and store.
using FieldValues = std::map<std::string, std::string>;

// The values of `record`'s customFields in any shape GHL sends: contacts {id, value},
// opportunities {id, fieldValue}, webhooks {id, value}; also the input {id, field_value}.
// No customFields member is an empty map.
Result<FieldValues> ParseFieldValues(const rapidjson::Value& record);
// The input shape [{id, field_value}] (always by id, FACTS.md §3.5), in `a`'s memory;
// an error names the first value that is not valid JSON text.
Result<rapidjson::Value> FieldValuesInput(const FieldValues& values,
                                          rapidjson::Document::AllocatorType& a);

// ---- custom field definitions ----

struct CustomFieldDefinition {
  std::string id;
  std::string name;
  std::string field_key;  // "contact.pincode"
  std::string model;      // contact | opportunity
  std::string data_type;  // TEXT, NUMERICAL, ...
};

// Key → id per model, from GET /locations/{id}/customFields. A field resolves by its full
// key ("contact.pincode") and by its short key ("pincode").
class CustomFieldIndex {
 public:
  static Result<CustomFieldIndex> Parse(std::string_view body);

  const CustomFieldDefinition* Find(std::string_view model, std::string_view key) const;
  const CustomFieldDefinition* FindById(std::string_view id) const;
  std::optional<std::string> IdOf(std::string_view model, std::string_view key) const;
  const std::vector<CustomFieldDefinition>& all() const { return fields_; }

 private:
  std::vector<CustomFieldDefinition> fields_;
  std::map<std::string, size_t, std::less<>> by_key_;  // "<model> <key>", short and full
  std::map<std::string, size_t, std::less<>> by_id_;
};

// ---- pipelines ----

struct PipelineStage {
  std::string id;
  std::string name;
  int position = 0;
};
struct Pipeline {
  std::string id;
  std::string name;
  std::vector<PipelineStage> stages;  // in position order
};
Result<std::vector<Pipeline>> ParsePipelines(std::string_view body);

}  // namespace ghl::ghl_client
