// Parsing stored webhook bodies into events: the documented payloads (flat), the
// `data`-wrapped variant, every synced event type, unknown types, and bodies that are not
// webhooks at all.
#include "connectors/ghl/webhook_event.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace ghl::ghl_client {
namespace {

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

// The ContactCreate example of docs/webhook events/ContactCreate.md, with the envelope.
const std::string kContactFlat = R"({
  "type": "ContactCreate", "locationId": "ve9EPM428h8vShlRW1KT", "id": "nmFmQEsNgz6AVpgLVUJ0",
  "firstName": "John", "email": "JohnDeo@gmail.comm", "tags": ["a"], "dnd": true,
  "dateAdded": "2021-11-26T12:41:02.193Z",
  "customFields": [{"id": "BcdmQEsNgz6AVpgLVUJ0", "value": "XYZ Corp"}],
  "timestamp": "2025-01-28T14:35:00Z", "webhookId": "abc123xyz"})";

// The Webhook Integration Guide's test example: the fields wrapped in `data`.
const std::string kContactWrapped = R"({
  "type": "ContactCreate", "timestamp": "2025-01-28T14:35:00Z", "webhookId": "test-123",
  "data": {"locationId": "ve9EPM428h8vShlRW1KT", "id": "nmFmQEsNgz6AVpgLVUJ0",
           "firstName": "John", "email": "JohnDeo@gmail.comm"}})";

const std::string kAppointment = R"({
  "type": "AppointmentUpdate", "locationId": "0007BWpSzSwfiuSl0tR2",
  "appointment": {"id": "appt-1", "title": "Call", "calendarId": "cal-1",
                  "startTime": "2023-09-25T16:00:00+05:30",
                  "dateUpdated": "2023-09-25T16:00:00+05:30"},
  "timestamp": "2025-01-28T14:35:00.250Z", "webhookId": "w-appt"})";

TEST(WebhookEvent, FlatAndDataWrappedContactPayloadsGiveTheSameEvent) {
  for (const auto* body : {&kContactFlat, &kContactWrapped}) {
    auto e = ParseWebhookEvent(*body);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->type, "ContactCreate");
    EXPECT_EQ(e->object, "contacts");
    EXPECT_EQ(e->kind, WebhookKind::kUpsert);
    EXPECT_EQ(e->location_id, "ve9EPM428h8vShlRW1KT");
    EXPECT_EQ(e->id, "nmFmQEsNgz6AVpgLVUJ0");
    EXPECT_EQ(e->timestamp, "2025-01-28T14:35:00Z");
    EXPECT_EQ(e->timestamp_ms, 1738074900000);
    EXPECT_FALSE(e->date_updated.has_value()) << "contact payloads carry no dateUpdated";
    auto record = Json(e->record_json);
    ASSERT_TRUE(record.IsObject()) << e->record_json;
    EXPECT_STREQ(record["firstName"].GetString(), "John");
    EXPECT_STREQ(record["id"].GetString(), "nmFmQEsNgz6AVpgLVUJ0");
    for (const char* envelope : {"type", "timestamp", "webhookId", "data"}) {
      EXPECT_FALSE(record.HasMember(envelope)) << envelope << " in " << e->record_json;
    }
  }
  EXPECT_EQ(ParseWebhookEvent(kContactFlat)->webhook_id, "abc123xyz");
  EXPECT_EQ(ParseWebhookEvent(kContactWrapped)->webhook_id, "test-123");
  auto flat = Json(ParseWebhookEvent(kContactFlat)->record_json);
  EXPECT_TRUE(flat["customFields"].IsArray()) << "fields other than the envelope are kept";
}

TEST(WebhookEvent, AppointmentRecordIsTheAppointmentObject) {
  auto e = ParseWebhookEvent(kAppointment);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->object, "appointments");
  EXPECT_EQ(e->kind, WebhookKind::kUpsert);
  EXPECT_EQ(e->id, "appt-1");
  EXPECT_EQ(e->location_id, "0007BWpSzSwfiuSl0tR2");
  EXPECT_EQ(e->date_updated, "2023-09-25T16:00:00+05:30");
  EXPECT_EQ(e->timestamp_ms, 1738074900250);
  auto record = Json(e->record_json);
  EXPECT_STREQ(record["title"].GetString(), "Call");
  EXPECT_FALSE(record.HasMember("appointment"));
}

TEST(WebhookEvent, EveryEventTypeMapsToItsObjectAndKind) {
  struct Row {
    const char* type;
    const char* object;
    WebhookKind kind;
  };
  const std::vector<Row> rows = {
      {"ContactCreate", "contacts", WebhookKind::kUpsert},
      {"ContactUpdate", "contacts", WebhookKind::kUpsert},
      {"ContactTagUpdate", "contacts", WebhookKind::kUpsert},
      {"ContactDndUpdate", "contacts", WebhookKind::kUpsert},
      {"ContactDelete", "contacts", WebhookKind::kDelete},
      {"OpportunityCreate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityUpdate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityStageUpdate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityStatusUpdate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityMonetaryValueUpdate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityAssignedToUpdate", "opportunities", WebhookKind::kUpsert},
      {"OpportunityDelete", "opportunities", WebhookKind::kDelete},
      {"AppointmentCreate", "appointments", WebhookKind::kUpsert},
      {"AppointmentUpdate", "appointments", WebhookKind::kUpsert},
      {"AppointmentDelete", "appointments", WebhookKind::kDelete},
      {"INSTALL", "", WebhookKind::kInstall},
      {"UNINSTALL", "", WebhookKind::kUninstall},
      {"PLAN_CHANGE", "", WebhookKind::kOther},
      {"InvoiceCreate", "", WebhookKind::kOther},
      {"NoteCreate", "", WebhookKind::kOther},
      {"contactcreate", "", WebhookKind::kOther},
      {"", "", WebhookKind::kOther},
  };
  for (const auto& row : rows) {
    auto e =
        ParseWebhookEvent(std::string(R"({"type":")") + row.type +
                          R"(","locationId":"L","id":"X","timestamp":"2025-01-28T14:35:00Z"})");
    ASSERT_TRUE(e.ok()) << row.type << ": " << e.error().message;
    EXPECT_EQ(e->object, row.object) << row.type;
    EXPECT_EQ(ToString(e->kind), std::string(ToString(row.kind))) << row.type;
  }
}

TEST(WebhookEvent, InstallEventsAtLocationAndAgencyLevel) {
  auto location = ParseWebhookEvent(
      R"({"type":"INSTALL","appId":"app","locationId":"loc","companyId":"co","webhookId":"w"})");
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(location->kind, WebhookKind::kInstall);
  EXPECT_EQ(location->location_id, "loc");
  EXPECT_EQ(location->id, "");
  auto agency = ParseWebhookEvent(R"({"type":"UNINSTALL","appId":"app","companyId":"co"})");
  ASSERT_TRUE(agency.ok());
  EXPECT_EQ(agency->kind, WebhookKind::kUninstall);
  EXPECT_EQ(agency->location_id, "") << "an agency-level event has no location";
  EXPECT_STREQ(Json(agency->record_json)["companyId"].GetString(), "co");
  EXPECT_FALSE(agency->timestamp_ms.has_value());
}

TEST(WebhookEvent, BodiesThatAreNotWebhooksAreErrors) {
  const std::vector<std::string> bad = {
      "",
      "{",
      "not json",
      R"({"type":"ContactCreate",})",
      "[1,2,3]",
      R"("a string")",
      "42",
      "null",
      R"({"type":5})",
      R"({"type":"ContactCreate","locationId":["L"]})",
      R"({"type":"ContactCreate","id":7})",
      R"({"type":"ContactCreate","webhookId":{}})",
      R"({"type":"ContactCreate","data":"x"})",
      R"({"type":"ContactCreate","timestamp":true})",
      R"({"type":"AppointmentCreate","appointment":[]})",
  };
  for (const auto& body : bad) {
    EXPECT_FALSE(ParseWebhookEvent(body).ok()) << body;
  }
}

TEST(WebhookEvent, TimestampsAreIsoUtcOrWithOffsetOrMilliseconds) {
  struct Row {
    std::string text;
    std::optional<int64_t> ms;
  };
  const std::vector<Row> rows = {
      {"2025-01-28T14:35:00Z", 1738074900000},      {"2025-01-28T14:35:00.1Z", 1738074900100},
      {"2025-01-28T14:35:00.123Z", 1738074900123},  {"2025-01-28T14:35:00.123456Z", 1738074900123},
      {"2023-09-25T16:00:00+05:30", 1695637800000}, {"2023-09-25T05:00:00-05:30", 1695637800000},
      {"2024-02-29T00:00:00Z", 1709164800000},      {"2025-02-29T00:00:00Z", std::nullopt},
      {"2025-13-01T00:00:00Z", std::nullopt},       {"2025-01-28T24:00:00Z", std::nullopt},
      {"2025-01-28T14:35:00", std::nullopt},        {"2025-01-28 14:35:00Z", std::nullopt},
      {"2025-01-28T14:35:00.Z", std::nullopt},      {"2025-01-28T14:35:00Zjunk", std::nullopt},
      {"2025-1-28T14:35:00Z", std::nullopt},        {"", std::nullopt},
  };
  for (const auto& row : rows) EXPECT_EQ(ParseIsoTimestampMs(row.text), row.ms) << row.text;
  auto numeric = ParseWebhookEvent(R"({"type":"X","timestamp":1738074900000})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->timestamp_ms, 1738074900000);
  auto garbage = ParseWebhookEvent(R"({"type":"X","timestamp":"yesterday"})");
  ASSERT_TRUE(garbage.ok()) << "an unreadable timestamp is the ingress's to refuse";
  EXPECT_FALSE(garbage->timestamp_ms.has_value());
}

}  // namespace
}  // namespace ghl::ghl_client
