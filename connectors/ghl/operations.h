// Typed GHL API v2 requests: one builder per operation the daemon uses, returning the
// ApiRequest that GhlClient::Call sends (path with URL-encoded query, JSON body, Version
// family, operation name for metrics). Pure: no IO.
//
// Each builder checks what the spec constrains (required ids, page sizes, enums, the
// properties a write DTO accepts) and answers an Error instead of a request GHL would
// refuse with a 4xx. Errors name the operation and the field, e.g.
// "contacts.search: pageLimit must be 1..500, got 501".
//
// Write builders take the record's fields as a JSON object without the ids the builder
// adds itself (locationId, the path id). Custom field values go in `customFields` in the
// input shape [{id, field_value}]; see FieldValuesInput() in responses.h.
//
// Paths, query names and bodies: /work/shared/ghl-api/FACTS.md §3-6 and apps/*.json.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ghl/client.h"
#include "core/result.h"

namespace ghl::ghl_client {

// ---- contacts (apps/contacts.json, Version 2021-07-28) ----
namespace contacts {

// POST /contacts/search. Page either by `page` (standard paging, at most 10,000 results
// in all) or by `search_after` (the cursor of the previous page), never both.
struct SearchParams {
  std::string location_id;
  int page_limit = 100;                     // 1..500
  std::optional<int> page;                  // 1-based
  std::optional<std::string> search_after;  // JSON text of a searchAfter array
  // JSON arrays, or nullptr: filters [{field, operator, value} | {group, filters}] and
  // sort [{field, direction}]. Read only while the request is built.
  const rapidjson::Value* filters = nullptr;
  const rapidjson::Value* sort = nullptr;
  std::string query;  // full text, at most 75 characters
};
Result<ApiRequest> Search(const SearchParams& params);

Result<ApiRequest> Get(std::string_view contact_id);
// `fields`: CreateContactDto / UpsertContactDto properties except locationId.
Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& fields);
Result<ApiRequest> Upsert(std::string_view location_id, const rapidjson::Value& fields);
// `fields`: UpdateContactDto properties. Note that `tags` replaces all tags.
Result<ApiRequest> Update(std::string_view contact_id, const rapidjson::Value& fields);
Result<ApiRequest> Delete(std::string_view contact_id);
// REQUIRES: tags not empty.
Result<ApiRequest> AddTags(std::string_view contact_id, const std::vector<std::string>& tags);
// A DELETE with a JSON body, as the spec has it.
Result<ApiRequest> RemoveTags(std::string_view contact_id, const std::vector<std::string>& tags);
// GET /contacts/search/duplicate: the contact with this email or phone number (either may
// be empty, not both). Answers {contact} or {contact: null}.
Result<ApiRequest> FindDuplicate(std::string_view location_id, std::string_view email,
                                 std::string_view number);

// GET /contacts/ (deprecated; oldest first, paged by the startAfter/startAfterId pair).
struct ListParams {
  std::string location_id;
  int limit = 100;                     // 1..100
  std::optional<int64_t> start_after;  // epoch ms of the previous page's last contact
  std::string start_after_id;
  std::string query;
};
Result<ApiRequest> List(const ListParams& params);

}  // namespace contacts

// ---- custom field definitions (apps/locations.json, Version 2021-07-28) ----
namespace custom_fields {

// model: "contact", "opportunity" or "all".
Result<ApiRequest> List(std::string_view location_id, std::string_view model = "all");
// `definition`: CreateCustomFieldsDTO (name and dataType required; model contact|opportunity).
Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& definition);
// `definition`: UpdateCustomFieldsDTO (name required).
Result<ApiRequest> Update(std::string_view location_id, std::string_view field_id,
                          const rapidjson::Value& definition);
Result<ApiRequest> Delete(std::string_view location_id, std::string_view field_id);

}  // namespace custom_fields

// ---- opportunities (apps/opportunities.json, Version 2021-07-28) ----
namespace opportunities {

// GET /opportunities/search; the query names are snake_case. Page by `page` or by the
// (start_after, start_after_id) cursor of the previous page's meta.
struct SearchParams {
  std::string location_id;
  std::string pipeline_id;
  std::string pipeline_stage_id;
  std::string contact_id;
  std::string assigned_to;
  std::string status;  // "" (any), open, won, lost, abandoned, all
  std::string q;
  std::string order;  // "" or e.g. added_asc
  int limit = 100;    // 1..100
  std::optional<int> page;
  std::optional<int64_t> start_after;  // epoch ms
  std::string start_after_id;
};
Result<ApiRequest> Search(const SearchParams& params);

Result<ApiRequest> Get(std::string_view opportunity_id);
// `fields`: CreateDto except locationId (pipelineId, name, status, contactId required).
Result<ApiRequest> Create(std::string_view location_id, const rapidjson::Value& fields);
// `fields`: UpdateOpportunityDto.
Result<ApiRequest> Update(std::string_view opportunity_id, const rapidjson::Value& fields);
// status: open, won, lost or abandoned; lost_reason_id optional.
Result<ApiRequest> UpdateStatus(std::string_view opportunity_id, std::string_view status,
                                std::string_view lost_reason_id = "");
// `fields`: UpsertOpportunityDto except locationId (pipelineId required); matches by `id`
// when given, else by contactId and pipelineId.
Result<ApiRequest> Upsert(std::string_view location_id, const rapidjson::Value& fields);
Result<ApiRequest> Delete(std::string_view opportunity_id);
Result<ApiRequest> ListPipelines(std::string_view location_id);

}  // namespace opportunities

// ---- calendars (apps/calendars.json, Version 2021-04-15) ----
namespace calendars {

Result<ApiRequest> ListCalendars(std::string_view location_id, std::string_view group_id = "");

// GET /calendars/events: the events of exactly one calendar, user or group that overlap
// [start_ms, end_ms]. No paging.
struct EventsParams {
  std::string location_id;
  std::string calendar_id;
  std::string user_id;
  std::string group_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};
Result<ApiRequest> ListEvents(const EventsParams& params);

// `fields`: AppointmentCreateSchema except locationId (calendarId, contactId and
// startTime required; times ISO 8601 with offset).
Result<ApiRequest> CreateAppointment(std::string_view location_id, const rapidjson::Value& fields);
Result<ApiRequest> GetAppointment(std::string_view event_id);
// `fields`: AppointmentEditSchema.
Result<ApiRequest> UpdateAppointment(std::string_view event_id, const rapidjson::Value& fields);
// DELETE /calendars/events/{id} with the (empty) DeleteAppointmentSchema body.
Result<ApiRequest> DeleteEvent(std::string_view event_id);

}  // namespace calendars

// Percent-encodes everything but RFC 3986 unreserved characters, for query values and
// path segments.
std::string UrlEncode(std::string_view s);

}  // namespace ghl::ghl_client
