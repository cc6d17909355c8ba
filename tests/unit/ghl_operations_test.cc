// Request builders and response parsers of connectors/ghl, without a network.
#include <gtest/gtest.h>

#include <functional>

#include "connectors/ghl/operations.h"
#include "connectors/ghl/responses.h"

namespace ghl::ghl_client {
namespace {

rapidjson::Document Doc(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

// ---- builders that succeed ----

struct BuildCase {
  const char* name;
  std::function<Result<ApiRequest>()> build;
  const char* operation;
  const char* method;
  const char* path;
  const char* body;  // exact JSON text
  Family family = Family::kDefault;
};

class Builds : public ::testing::TestWithParam<BuildCase> {};

TEST_P(Builds, PathQueryBodyAndVersionFamily) {
  const BuildCase& c = GetParam();
  auto r = c.build();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->operation, c.operation);
  EXPECT_EQ(r->method, c.method);
  EXPECT_EQ(r->path, c.path);
  EXPECT_EQ(r->body, c.body);
  EXPECT_EQ(r->family, c.family);
}

const auto kFilters = Doc(R"([{"field":"dnd","operator":"eq","value":true},)"
                          R"({"group":"OR","filters":[{"field":"email","operator":"exists"}]}])");
const auto kSort = Doc(R"([{"field":"dateUpdated","direction":"asc"}])");
const auto kContact =
    Doc(R"({"firstName":"Ada","email":"ada@example.com","tags":["vip"],)"
        R"("customFields":[{"id":"cf1","field_value":"12345"}],"companyName":"Analytical"})");
const auto kDeal =
    Doc(R"({"pipelineId":"p1","name":"Deal","status":"open","contactId":"c1",)"
        R"("monetaryValue":120.5,"customFields":[{"key":"months","field_value":3}]})");
const auto kAppointment =
    Doc(R"({"calendarId":"cal1","contactId":"c1","startTime":"2030-01-02T10:00:00+01:00",)"
        R"("appointmentStatus":"confirmed"})");

INSTANTIATE_TEST_SUITE_P(
    Operations, Builds,
    ::testing::Values(
        BuildCase{"search_by_page",
                  [] {
                    return contacts::Search({.location_id = "loc 1",
                                             .page_limit = 500,
                                             .page = 20,
                                             .filters = &kFilters,
                                             .sort = &kSort,
                                             .query = "ada"});
                  },
                  "contacts.search", "POST", "/contacts/search",
                  R"({"locationId":"loc 1","pageLimit":500,"page":20,"filters":)"
                  R"([{"field":"dnd","operator":"eq","value":true},{"group":"OR","filters":)"
                  R"([{"field":"email","operator":"exists"}]}],"sort":)"
                  R"([{"field":"dateUpdated","direction":"asc"}],"query":"ada"})"},
        BuildCase{"search_by_cursor",
                  [] {
                    return contacts::Search(
                        {.location_id = "L", .page_limit = 1, .search_after = R"([17,"id9"])"});
                  },
                  "contacts.search", "POST", "/contacts/search",
                  R"({"locationId":"L","pageLimit":1,"searchAfter":[17,"id9"]})"},
        BuildCase{"contact_get", [] { return contacts::Get("c/1"); }, "contacts.get", "GET",
                  "/contacts/c%2F1", ""},
        BuildCase{"contact_create", [] { return contacts::Create("L", kContact); },
                  "contacts.create", "POST", "/contacts/",
                  R"({"locationId":"L","firstName":"Ada","email":"ada@example.com","tags":["vip"],)"
                  R"("customFields":[{"id":"cf1","field_value":"12345"}],)"
                  R"("companyName":"Analytical"})"},
        BuildCase{"contact_update", [] { return contacts::Update("c1", kContact); },
                  "contacts.update", "PUT", "/contacts/c1",
                  R"({"firstName":"Ada","email":"ada@example.com","tags":["vip"],)"
                  R"("customFields":[{"id":"cf1","field_value":"12345"}],)"
                  R"("companyName":"Analytical"})"},
        BuildCase{"contact_upsert",
                  [] {
                    return contacts::Upsert(
                        "L", Doc(R"({"email":"a@b.c","createNewIfDuplicateAllowed":false})"));
                  },
                  "contacts.upsert", "POST", "/contacts/upsert",
                  R"({"locationId":"L","email":"a@b.c","createNewIfDuplicateAllowed":false})"},
        BuildCase{"contact_delete", [] { return contacts::Delete("c1"); }, "contacts.delete",
                  "DELETE", "/contacts/c1", ""},
        BuildCase{"tags_add",
                  [] {
                    return contacts::AddTags("c1", {"a", "b \"c\""});
                  },
                  "contacts.tags.add", "POST", "/contacts/c1/tags", R"({"tags":["a","b \"c\""]})"},
        BuildCase{"tags_remove", [] { return contacts::RemoveTags("c1", {"a"}); },
                  "contacts.tags.remove", "DELETE", "/contacts/c1/tags", R"({"tags":["a"]})"},
        BuildCase{"duplicate_by_both",
                  [] { return contacts::FindDuplicate("L", "test+abc@gmail.com", "+1423164516"); },
                  "contacts.duplicate", "GET",
                  "/contacts/search/duplicate?locationId=L&email=test%2Babc%40gmail.com&number=%"
                  "2B1423164516",
                  ""},
        BuildCase{"duplicate_by_number", [] { return contacts::FindDuplicate("L", "", "+1"); },
                  "contacts.duplicate", "GET",
                  "/contacts/search/duplicate?locationId=L&number=%2B1", ""},
        BuildCase{"contact_list",
                  [] {
                    return contacts::List({.location_id = "L",
                                           .limit = 100,
                                           .start_after = 1603870249758,
                                           .start_after_id = "yd0",
                                           .query = "a b"});
                  },
                  "contacts.list", "GET",
                  "/contacts/?locationId=L&limit=100&startAfter=1603870249758&startAfterId=yd0&"
                  "query=a%20b",
                  ""},
        BuildCase{"fields_list", [] { return custom_fields::List("L", "opportunity"); },
                  "custom_fields.list", "GET", "/locations/L/customFields?model=opportunity", ""},
        BuildCase{"fields_create",
                  [] {
                    return custom_fields::Create(
                        "L", Doc(R"({"name":"Tier","dataType":"SINGLE_OPTIONS","model":)"
                                 R"("contact","options":["A"]})"));
                  },
                  "custom_fields.create", "POST", "/locations/L/customFields",
                  R"({"name":"Tier","dataType":"SINGLE_OPTIONS","model":"contact",)"
                  R"("options":["A"]})"},
        BuildCase{"fields_update",
                  [] { return custom_fields::Update("L", "f1", Doc(R"({"name":"Tier 2"})")); },
                  "custom_fields.update", "PUT", "/locations/L/customFields/f1",
                  R"({"name":"Tier 2"})"},
        BuildCase{"fields_delete", [] { return custom_fields::Delete("L", "f1"); },
                  "custom_fields.delete", "DELETE", "/locations/L/customFields/f1", ""},
        BuildCase{"deal_search",
                  [] {
                    return opportunities::Search({.location_id = "L",
                                                  .pipeline_id = "p1",
                                                  .pipeline_stage_id = "s1",
                                                  .contact_id = "c1",
                                                  .status = "open",
                                                  .q = "big deal",
                                                  .limit = 50,
                                                  .start_after = 1625203104328,
                                                  .start_after_id = "yWQ"});
                  },
                  "opportunities.search", "GET",
                  "/opportunities/search?location_id=L&pipeline_id=p1&pipeline_stage_id=s1&"
                  "contact_id=c1&status=open&q=big%20deal&limit=50&startAfter=1625203104328&"
                  "startAfterId=yWQ",
                  ""},
        BuildCase{"deal_search_by_page",
                  [] { return opportunities::Search({.location_id = "L", .page = 3}); },
                  "opportunities.search", "GET",
                  "/opportunities/search?location_id=L&limit=100&page=3", ""},
        BuildCase{"deal_get", [] { return opportunities::Get("o1"); }, "opportunities.get", "GET",
                  "/opportunities/o1", ""},
        BuildCase{"deal_create", [] { return opportunities::Create("L", kDeal); },
                  "opportunities.create", "POST", "/opportunities/",
                  R"({"locationId":"L","pipelineId":"p1","name":"Deal","status":"open",)"
                  R"("contactId":"c1","monetaryValue":120.5,)"
                  R"("customFields":[{"key":"months","field_value":3}]})"},
        BuildCase{"deal_update",
                  [] { return opportunities::Update("o1", Doc(R"({"monetaryValue":5})")); },
                  "opportunities.update", "PUT", "/opportunities/o1", R"({"monetaryValue":5})"},
        BuildCase{"deal_status", [] { return opportunities::UpdateStatus("o1", "lost", "r1"); },
                  "opportunities.status", "PUT", "/opportunities/o1/status",
                  R"({"status":"lost","lostReasonId":"r1"})"},
        BuildCase{"deal_upsert",
                  [] {
                    return opportunities::Upsert(
                        "L", Doc(R"({"pipelineId":"p1","contactId":"c1","name":"D"})"));
                  },
                  "opportunities.upsert", "POST", "/opportunities/upsert",
                  R"({"locationId":"L","pipelineId":"p1","contactId":"c1","name":"D"})"},
        BuildCase{"deal_delete", [] { return opportunities::Delete("o1"); }, "opportunities.delete",
                  "DELETE", "/opportunities/o1", ""},
        BuildCase{"pipelines", [] { return opportunities::ListPipelines("L"); }, "pipelines.list",
                  "GET", "/opportunities/pipelines?locationId=L", ""},
        BuildCase{"calendars", [] { return calendars::ListCalendars("L"); }, "calendars.list",
                  "GET", "/calendars/?locationId=L", "", Family::kCalendars},
        BuildCase{"events_by_user",
                  [] {
                    return calendars::ListEvents({.location_id = "L",
                                                  .user_id = "u1",
                                                  .start_ms = 1680373800000,
                                                  .end_ms = 1680978599999});
                  },
                  "calendars.events", "GET",
                  "/calendars/events?locationId=L&userId=u1&startTime=1680373800000&endTime="
                  "1680978599999",
                  "", Family::kCalendars},
        BuildCase{"appointment_create",
                  [] { return calendars::CreateAppointment("L", kAppointment); },
                  "appointments.create", "POST", "/calendars/events/appointments",
                  R"({"locationId":"L","calendarId":"cal1","contactId":"c1",)"
                  R"("startTime":"2030-01-02T10:00:00+01:00","appointmentStatus":"confirmed"})",
                  Family::kCalendars},
        BuildCase{"appointment_get", [] { return calendars::GetAppointment("e1"); },
                  "appointments.get", "GET", "/calendars/events/appointments/e1", "",
                  Family::kCalendars},
        BuildCase{"appointment_update",
                  [] { return calendars::UpdateAppointment("e1", Doc(R"({"title":"T"})")); },
                  "appointments.update", "PUT", "/calendars/events/appointments/e1",
                  R"({"title":"T"})", Family::kCalendars},
        BuildCase{"event_delete", [] { return calendars::DeleteEvent("e1"); }, "events.delete",
                  "DELETE", "/calendars/events/e1", "{}", Family::kCalendars}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- builders that refuse ----

struct RefuseCase {
  const char* name;
  std::function<Result<ApiRequest>()> build;
  const char* message;  // a part of the error
};

class Refuses : public ::testing::TestWithParam<RefuseCase> {};

TEST_P(Refuses, WithAClearError) {
  const RefuseCase& c = GetParam();
  auto r = c.build();
  ASSERT_FALSE(r.ok()) << "built " << r->method << " " << r->path << " " << r->body;
  EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
}

const auto kBadFilter = Doc(R"([{"field":"email","operator":"like","value":"x"}])");
const auto kDeepFilter =
    Doc(R"([{"group":"AND","filters":[{"group":"OR","filters":[{"group":"AND","filters":[]}]}]}])");
const auto kLongValue =
    Doc(R"([{"field":"email","operator":"eq","value":"0123456789012345678901234567890123456789)"
        R"(01234567890123456789012345678901234567890"}])");
const auto kBadSort = Doc(R"([{"field":"email","direction":"up"}])");

INSTANTIATE_TEST_SUITE_P(
    Operations, Refuses,
    ::testing::Values(
        RefuseCase{"page_limit_high",
                   [] { return contacts::Search({.location_id = "L", .page_limit = 501}); },
                   "contacts.search: pageLimit must be 1..500, got 501"},
        RefuseCase{"page_limit_zero",
                   [] { return contacts::Search({.location_id = "L", .page_limit = 0}); },
                   "pageLimit must be 1..500, got 0"},
        RefuseCase{"no_location", [] { return contacts::Search({}); },
                   "locationId must not be empty"},
        RefuseCase{
            "page_and_cursor",
            [] { return contacts::Search({.location_id = "L", .page = 2, .search_after = "[1]"}); },
            "page and searchAfter cannot be used together"},
        RefuseCase{
            "beyond_10000",
            [] { return contacts::Search({.location_id = "L", .page_limit = 500, .page = 21}); },
            "page * pageLimit must not exceed 10000"},
        RefuseCase{"cursor_not_array",
                   [] { return contacts::Search({.location_id = "L", .search_after = "{\"a\""}); },
                   "searchAfter must be the JSON array"},
        RefuseCase{"bad_operator",
                   [] { return contacts::Search({.location_id = "L", .filters = &kBadFilter}); },
                   "filters[0].operator must be one of eq, not_eq"},
        RefuseCase{"deep_groups",
                   [] { return contacts::Search({.location_id = "L", .filters = &kDeepFilter}); },
                   "nest at most two levels"},
        RefuseCase{"long_value",
                   [] { return contacts::Search({.location_id = "L", .filters = &kLongValue}); },
                   "longer than 75"},
        RefuseCase{"bad_sort",
                   [] { return contacts::Search({.location_id = "L", .sort = &kBadSort}); },
                   "sort[0].direction must be asc or desc"},
        RefuseCase{
            "long_query",
            [] { return contacts::Search({.location_id = "L", .query = std::string(76, 'q')}); },
            "query is longer than 75"},
        RefuseCase{"unknown_property",
                   [] { return contacts::Create("L", Doc(R"({"shoeSize":42})")); },
                   "property shoeSize is not accepted"},
        RefuseCase{"gender_on_update",
                   [] { return contacts::Update("c1", Doc(R"({"gender":"male"})")); },
                   "contacts.update: property gender is not accepted"},
        RefuseCase{"location_in_fields",
                   [] { return contacts::Create("L", Doc(R"({"locationId":"X"})")); },
                   "locationId comes from the location argument"},
        RefuseCase{"wrong_type", [] { return contacts::Create("L", Doc(R"({"dnd":"yes"})")); },
                   "dnd must be a boolean"},
        RefuseCase{"tags_not_strings",
                   [] { return contacts::Update("c1", Doc(R"({"tags":["a",1]})")); },
                   "tags must be an array of strings"},
        RefuseCase{"custom_field_by_key",
                   [] {
                     return contacts::Create(
                         "L", Doc(R"({"customFields":[{"key":"pincode","field_value":"1"}]})"));
                   },
                   "customFields[0] needs the custom field's id"},
        RefuseCase{"fields_not_object", [] { return contacts::Create("L", Doc("[]")); },
                   "the fields must be a JSON object"},
        RefuseCase{"no_contact_id", [] { return contacts::Get(""); },
                   "contacts.get: contactId must not be empty"},
        RefuseCase{"no_tags", [] { return contacts::AddTags("c1", {}); }, "tags must not be empty"},
        RefuseCase{"duplicate_without_keys", [] { return contacts::FindDuplicate("L", "", ""); },
                   "give an email or a number"},
        RefuseCase{"list_limit", [] { return contacts::List({.location_id = "L", .limit = 101}); },
                   "limit must be 1..100, got 101"},
        RefuseCase{"list_id_without_time",
                   [] { return contacts::List({.location_id = "L", .start_after_id = "x"}); },
                   "startAfterId needs startAfter"},
        RefuseCase{"fields_model", [] { return custom_fields::List("L", "company"); },
                   "model must be one of contact, opportunity, all, got \"company\""},
        RefuseCase{"field_without_type",
                   [] { return custom_fields::Create("L", Doc(R"({"name":"X"})")); },
                   "dataType is required"},
        RefuseCase{"field_update_without_name",
                   [] { return custom_fields::Update("L", "f1", Doc(R"({"position":2})")); },
                   "name is required"},
        RefuseCase{"field_bad_model",
                   [] {
                     return custom_fields::Create(
                         "L", Doc(R"({"name":"X","dataType":"TEXT","model":"all"})"));
                   },
                   "model must be one of contact, opportunity"},
        RefuseCase{"deal_limit",
                   [] { return opportunities::Search({.location_id = "L", .limit = 101}); },
                   "opportunities.search: limit must be 1..100, got 101"},
        RefuseCase{"deal_status_filter",
                   [] { return opportunities::Search({.location_id = "L", .status = "closed"}); },
                   "status must be one of open, won, lost, abandoned, all"},
        RefuseCase{"deal_half_cursor",
                   [] { return opportunities::Search({.location_id = "L", .start_after = 5}); },
                   "startAfter and startAfterId go together"},
        RefuseCase{"deal_missing_required",
                   [] { return opportunities::Create("L", Doc(R"({"name":"D"})")); },
                   "pipelineId is required; status is required; contactId is required"},
        RefuseCase{"deal_status_all", [] { return opportunities::UpdateStatus("o1", "all"); },
                   "status must be one of open, won, lost, abandoned, got \"all\""},
        RefuseCase{"deal_value_string",
                   [] { return opportunities::Update("o1", Doc(R"({"monetaryValue":"5"})")); },
                   "monetaryValue must be a number"},
        RefuseCase{"deal_upsert_unmatched",
                   [] { return opportunities::Upsert("L", Doc(R"({"pipelineId":"p1"})")); },
                   "give the opportunity's id, or the contactId"},
        RefuseCase{"deal_follow_op",
                   [] {
                     return opportunities::Upsert(
                         "L", Doc(R"({"id":"o1","pipelineId":"p","followersActionType":"x"})"));
                   },
                   "followersActionType must be one of add, remove"},
        RefuseCase{"events_no_selector",
                   [] { return calendars::ListEvents({.location_id = "L", .end_ms = 1}); },
                   "give exactly one of calendarId, userId or groupId, got 0"},
        RefuseCase{"events_two_selectors",
                   [] {
                     return calendars::ListEvents(
                         {.location_id = "L", .calendar_id = "c", .user_id = "u"});
                   },
                   "got 2"},
        RefuseCase{"events_backwards",
                   [] {
                     return calendars::ListEvents(
                         {.location_id = "L", .calendar_id = "c", .start_ms = 5, .end_ms = 4});
                   },
                   "endTime must not be before startTime"},
        RefuseCase{"appointment_required",
                   [] { return calendars::CreateAppointment("L", Doc(R"({"title":"T"})")); },
                   "calendarId is required; startTime is required; contactId is required"},
        RefuseCase{
            "appointment_time",
            [] { return calendars::UpdateAppointment("e1", Doc(R"({"startTime":"tomorrow"})")); },
            "startTime must be an ISO 8601 time"},
        RefuseCase{"appointment_status",
                   [] {
                     return calendars::UpdateAppointment("e1",
                                                         Doc(R"({"appointmentStatus":"done"})"));
                   },
                   "appointmentStatus must be one of new, confirmed"},
        RefuseCase{"appointment_contact_on_edit",
                   [] { return calendars::UpdateAppointment("e1", Doc(R"({"contactId":"c"})")); },
                   "property contactId is not accepted"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(UrlEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UrlEncode("aZ09-_.~"), "aZ09-_.~");
  EXPECT_EQ(UrlEncode("a b+c@d/e?f&g=h#%"), "a%20b%2Bc%40d%2Fe%3Ff%26g%3Dh%23%25");
  EXPECT_EQ(UrlEncode("é"), "%C3%A9");
}

}  // namespace
}  // namespace ghl::ghl_client
