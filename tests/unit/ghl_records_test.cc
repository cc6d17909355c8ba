// GHL records <-> canonical fields (sync/ghl_records.h): what the engine compares and
// writes, so that a GHL answer and the base snapshot agree on every value's form.
#include "sync/ghl_records.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ghl::sync {
namespace {

using mapping::Fields;
using mapping::GhlObject;
using mapping::List;
using mapping::Value;

const ghl_client::CustomFieldIndex& Index() {
  static const auto index = ghl_client::CustomFieldIndex::Parse(
      R"({"customFields":[)"
      R"({"id":"f1","name":"Tier","fieldKey":"contact.tier","dataType":"TEXT","model":"contact"},)"
      R"({"id":"f2","name":"Score","fieldKey":"contact.score","dataType":"NUMERICAL","model":"contact"},)"
      R"({"id":"f3","name":"Months","fieldKey":"opportunity.months","dataType":"NUMERICAL",)"
      R"("model":"opportunity"}]})");
  return index.value();
}

rapidjson::Document Doc(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

std::string Dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

TEST(GhlRecords, ContactFieldsBecomeCanonicalValues) {
  auto doc = Doc(R"({"id":"c1","locationId":"L","dateUpdated":"2024-05-01T10:00:00.000Z",
    "firstName":"Ada","dnd":false,"tags":["b","a"],"dateOfBirth":"1990-05-01T00:00:00.000Z",
    "customFields":[{"id":"f1","value":"Gold"},{"id":"f2","value":12}]})");
  auto r = FromGhl(doc, GhlObject::kContacts,
                   {"firstName", "lastName", "dnd", "tags", "dateOfBirth", "customFields.tier",
                    "customFields.score"},
                   Index());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "c1");
  EXPECT_EQ(r->location_id, "L");
  EXPECT_EQ(r->date_updated, "2024-05-01T10:00:00.000Z");
  EXPECT_EQ(r->fields.at("firstName"), Value{std::string("Ada")});
  EXPECT_TRUE(mapping::IsNull(r->fields.at("lastName"))) << "absent in a full record: empty";
  EXPECT_EQ(r->fields.at("dnd"), Value{false});
  EXPECT_TRUE(mapping::Equal(r->fields.at("tags"), Value{List{"a", "b"}}));
  EXPECT_EQ(r->fields.at("dateOfBirth"), Value{std::string("1990-05-01")});
  EXPECT_EQ(r->fields.at("customFields.tier"), Value{std::string("Gold")});
  EXPECT_EQ(r->fields.at("customFields.score"), Value{12.0});
  EXPECT_TRUE(r->unknown.empty());
}

TEST(GhlRecords, PartialPayloadsMarkMissingFieldsUnknownNotEmpty) {
  auto doc = Doc(R"({"id":"c1","type":"ContactTagUpdate","tags":["x"]})");
  auto r = FromGhl(doc, GhlObject::kContacts, {"firstName", "tags", "customFields.tier"}, Index(),
                   /*partial=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->fields.count("firstName"), 0u);
  EXPECT_EQ(r->unknown, (std::vector<std::string>{"firstName", "customFields.tier"}));
  EXPECT_TRUE(mapping::Equal(r->fields.at("tags"), Value{List{"x"}}));
}

TEST(GhlRecords, UnknownCustomFieldKeyIsReportedNotDropped) {
  auto doc = Doc(R"({"id":"c1","locationId":"L","customFields":[]})");
  auto r = FromGhl(doc, GhlObject::kContacts, {"customFields.renamed"}, Index());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("custom field 'renamed' is not defined in GHL location L"),
            std::string::npos)
      << r.error().message;
  EXPECT_FALSE(FromGhl(Doc(R"({"firstName":"x"})"), GhlObject::kContacts, {}, Index()).ok())
      << "a record without id";
}

TEST(GhlRecords, AppointmentTimesAreNormalisedToUtc) {
  auto doc = Doc(R"({"id":"e1","startTime":"2023-09-25T16:00:00+05:30","title":"Call"})");
  auto r = FromGhl(doc, GhlObject::kAppointments, {"startTime", "title"}, Index());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->fields.at("startTime"), Value{std::string("2023-09-25T10:30:00Z")});
}

// The version the poll compares: contacts and appointments say dateUpdated, opportunities
// updatedAt.
TEST(GhlRecords, AnOpportunitysUpdatedAtIsItsVersion) {
  auto doc = Doc(R"({"id":"o1","name":"Deal","updatedAt":"2026-11-29T10:00:00.000Z"})");
  auto r = FromGhl(doc, GhlObject::kOpportunities, {"name"}, Index());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->date_updated, "2026-11-29T10:00:00.000Z");
  auto contact = Doc(R"({"id":"c1","dateUpdated":"2026-11-29T11:00:00.000Z"})");
  auto c = FromGhl(contact, GhlObject::kContacts, {}, Index());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->date_updated, "2026-11-29T11:00:00.000Z");
}

TEST(GhlRecords, BodiesCarryStandardFieldsAndCustomFieldsById) {
  Fields fields{{"firstName", std::string("Ada")},
                {"tags", List{"a", "b"}},
                {"dnd", true},
                {"customFields.tier", std::string("Gold")},
                {"customFields.score", 7.0},
                {"lastName", std::monostate{}}};
  auto body = ToGhlBody(fields, GhlObject::kContacts, Index());
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(Dump(body.value()),
            R"({"dnd":true,"firstName":"Ada","lastName":null,"tags":["a","b"],)"
            R"("customFields":[{"id":"f1","field_value":"Gold"},{"id":"f2","field_value":7}]})");
  auto bad = ToGhlBody({{"customFields.months", 1.0}}, GhlObject::kContacts, Index());
  ASSERT_FALSE(bad.ok()) << "an opportunity field on a contact";
  EXPECT_NE(bad.error().message.find("'months' is not defined"), std::string::npos);
}

TEST(GhlRecords, IsoTimesParseWithOffsetsAndFractions) {
  struct Case {
    const char* text;
    std::optional<int64_t> ms;
  } cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01T00:00:01.5Z", 1500},
      {"2024-05-01T10:00:00.123Z", 1714557600123},
      {"2024-05-01T12:00:00+02:00", 1714557600000},
      {"2024-05-01T05:00:00-05:00", 1714557600000},
      {"2024-05-01", std::nullopt},
      {"yesterday", std::nullopt},
      {"2024-05-01T10:00:00X", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseIsoMs(c.text), c.ms) << c.text;
  EXPECT_EQ(FormatIsoMs(1714557600123), "2024-05-01T10:00:00.123Z");
  EXPECT_EQ(ParseIsoMs(FormatIsoMs(1714557600123)), 1714557600123);
}

}  // namespace
}  // namespace ghl::sync
