// Mapping files: compiling (with errors at file:line:col: key.path), and mapping records
// both ways, table-driven.
#include "mapping/mapping.h"

#include <gtest/gtest.h>

#include "mapping/fields_catalog.h"
#include "tests/support/temp_dir.h"

namespace ghl::mapping {
namespace {

using ghl::testing::TempDir;

struct Compiled {
  std::shared_ptr<const Mapping> mapping;
  config::Diagnostics errors;
  std::string Messages() const { return config::Join(errors); }
};

Compiled CompileText(const std::string& yaml, const std::string& name = "sync") {
  Compiled c;
  config::MappingFile file{name + ".yaml", name, YAML::Load(yaml)};
  c.mapping = Mapping::Compile(file, c.errors);
  return c;
}

Compiled CompileFile(const std::filesystem::path& path) {
  Compiled c;
  auto root = config::ReadYamlFile(path, c.errors);
  if (!root) return c;
  c.mapping = Mapping::Compile({path, path.stem().string(), *root}, c.errors);
  return c;
}

Value S(const char* s) { return std::string(s); }

const char* kHead = R"(object: contacts
external: {connector: crm_csv, file: contacts.csv}
key: customer_id
)";

std::string WithFields(const std::string& fields, const std::string& extra = "") {
  return std::string(kHead) + extra + "fields:\n" + fields;
}

// ---- the example file ----

const std::filesystem::path kExample =
    std::filesystem::path(GHL_SOURCE_DIR) / "mapping/testdata/contacts.yaml";

TEST(MappingTest, ExampleContactsCsvMappingCompiles) {
  auto c = CompileFile(kExample);
  ASSERT_TRUE(c.mapping) << c.Messages();
  const SyncSpec& s = c.mapping->spec();
  EXPECT_EQ(s.name, "contacts");
  EXPECT_EQ(s.object, GhlObject::kContacts);
  EXPECT_EQ(s.connector, "crm_csv");
  EXPECT_EQ(s.external["file"].Scalar(), "contacts.csv");
  EXPECT_EQ(s.external_line, 18);
  EXPECT_EQ(s.direction, Direction::kBoth);
  EXPECT_EQ(s.key, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(s.match, (std::vector<std::string>{"email", "phone"}));
  EXPECT_EQ(s.conflict, ConflictPolicy::kNewest);
  EXPECT_EQ(s.deletes, DeletePolicy::kSoft);
  EXPECT_EQ(s.soft_delete_tag, "deleted");
  EXPECT_EQ(s.soft_delete_column, "is_deleted");
  EXPECT_DOUBLE_EQ(s.delete_guard.max_share, 0.10);
  EXPECT_EQ(s.delete_guard.max_count, 100);
  EXPECT_EQ(s.poll_interval, std::chrono::seconds(60));
  ASSERT_EQ(s.fields.size(), 10u);
  EXPECT_EQ(s.fields[2].ghl, "email");
  EXPECT_TRUE(s.fields[2].required);
  EXPECT_EQ(s.fields[2].to_ghl.size(), 2u);
  EXPECT_EQ(s.fields[2].from_ghl.size(), 0u) << "trim and lower have nothing to undo";
  EXPECT_EQ(s.fields[8].ghl, "id");
  EXPECT_EQ(s.fields[8].direction, Direction::kFromGhl);
  EXPECT_GT(s.fields[0].line, 0);
}

TEST(MappingTest, ExampleMapsACsvRowToGhlAndBack) {
  auto c = CompileFile(kExample);
  ASSERT_TRUE(c.mapping) << c.Messages();
  const Fields row = {{"customer_id", S("C-1")},      {"first_name", S(" Ann ")},
                      {"last_name", S("Lee")},        {"email", S(" Ann@Example.COM")},
                      {"phone", S("(212) 555-0100")}, {"labels", S("vip; newsletter")},
                      {"birthday", S("05/01/1990")},  {"tier", S("G")},
                      {"ghl_id", S("ignored")},       {"unmapped", S("x")}};
  auto canonical = c.mapping->ToCanonical(row);
  ASSERT_TRUE(canonical.ok()) << canonical.errors[0].ToString();
  const Fields want = {{"firstName", S("Ann")},          {"lastName", S("Lee")},
                       {"email", S("ann@example.com")},  {"phone", S("+12125550100")},
                       {"companyName", Value()},         {"tags", List{"vip", "newsletter"}},
                       {"dateOfBirth", S("1990-01-05")}, {"customFields.loyalty_tier", S("gold")}};
  EXPECT_EQ(ToJson(*canonical.value), ToJson(want));

  auto back = c.mapping->ToExternal(*canonical.value);
  ASSERT_TRUE(back.ok()) << back.errors[0].ToString();
  const Fields want_row = {
      {"first_name", S("Ann")},      {"last_name", S("Lee")}, {"email", S("ann@example.com")},
      {"phone", S("+12125550100")},  {"company", Value()},    {"labels", S("vip;newsletter")},
      {"birthday", S("05/01/1990")}, {"tier", S("G")}};
  EXPECT_EQ(ToJson(*back.value), ToJson(want_row));
}

TEST(MappingTest, ToExternalConvertsOnlyWhatIsPresent) {
  auto c = CompileFile(kExample);
  ASSERT_TRUE(c.mapping) << c.Messages();
  auto row = c.mapping->ToExternal({{"id", S("abc123")},
                                    {"dateUpdated", S("2024-07-01T12:30:00.123Z")},
                                    {"customFields.loyalty_tier", S("platinum")}});
  ASSERT_TRUE(row.ok()) << row.errors[0].ToString();
  const Fields want = {
      {"ghl_id", S("abc123")}, {"ghl_updated_at", S("2024-07-01 08:30")}, {"tier", S("B")}};
  EXPECT_EQ(ToJson(*row.value), ToJson(want));

  auto cleared = c.mapping->ToExternal({{"email", Value()}});
  ASSERT_FALSE(cleared.ok());
  EXPECT_EQ(cleared.errors[0].ToString(), "email: required, but empty in GHL");
}

TEST(MappingTest, AFailingFieldFailsTheRecordAndEveryFailureIsListed) {
  auto c = CompileFile(kExample);
  ASSERT_TRUE(c.mapping) << c.Messages();
  auto r = c.mapping->ToCanonical(
      {{"customer_id", S("C-2")}, {"phone", S("not a phone")}, {"birthday", S("1990-01-05")}});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.value.has_value()) << "never half-mapped";
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.ToString());
  const std::vector<std::string> want = {
      "email: required, but empty (column email)",
      "phone: phone: 'not a phone' is not a phone number (region US)",
      "dateOfBirth: date: '1990-01-05' is not a date in the format %d/%m/%Y",
  };
  EXPECT_EQ(got, want);
}

TEST(MappingTest, CanonicalFieldsListsEveryMappedGhlName) {
  auto c = CompileFile(kExample);
  ASSERT_TRUE(c.mapping) << c.Messages();
  const std::vector<std::string> want = {
      "firstName",   "lastName",   "email",       "phone",
      "companyName", "tags",       "dateOfBirth", "customFields.loyalty_tier",
      "id",          "dateUpdated"};
  EXPECT_EQ(c.mapping->CanonicalFields(), want);
}

// ---- values must have their field's kind ----

struct KindCase {
  std::string field;  // one `- ghl: ...` entry
  Fields row;
  std::string want;  // canonical JSON, or the error
};

TEST(MappingTest, ValuesMustHaveTheKindOfTheirGhlField) {
  const std::vector<KindCase> cases = {
      {"  - {ghl: tags, external: t}\n",
       {{"t", S("a;b")}},
       "tags: expected a list, got 'a;b'; add {split: \",\"}"},
      {"  - {ghl: dnd, external: d}\n",
       {{"d", S("yes")}},
       "dnd: expected true or false, got 'yes'; add the boolean transform"},
      {"  - {ghl: dnd, external: d, transforms: [boolean]}\n",
       {{"d", S("yes")}},
       R"({"dnd":true})"},
      {"  - {ghl: dateOfBirth, external: d}\n",
       {{"d", S("5/1/1990")}},
       "dateOfBirth: expected a date YYYY-MM-DD, got '5/1/1990'"},
      {"  - {ghl: firstName, external: n}\n", {{"n", 42.0}}, R"({"firstName":"42"})"},
      {"  - {ghl: firstName, external: n}\n",
       {{"n", List{"a"}}},
       "firstName: expected text, got [a]; add {join: \", \"}"},
      {"  - {ghl: customFields.score, external: n}\n",
       {{"n", 42.0}},
       R"({"customFields.score":42})"},
  };
  for (const auto& kc : cases) {
    auto c = CompileText(WithFields(kc.field));
    ASSERT_TRUE(c.mapping) << kc.field << c.Messages();
    auto r = c.mapping->ToCanonical(kc.row);
    const std::string got = r.ok() ? ToJson(*r.value) : r.errors[0].ToString();
    EXPECT_EQ(got.substr(0, kc.want.size()), kc.want) << kc.field;
  }
}

TEST(MappingTest, OpportunityDateTimeAndNumberFields) {
  auto c = CompileText(R"(object: appointments
external: {connector: api}
key: id
fields:
  - ghl: startTime
    external: starts
    transforms: [{datetime: {format: "%m/%d/%Y %I:%M %p", timezone: America/Chicago}}]
  - ghl: title
    external: subject
references:
  - {ghl: contactId, external: customer, sync: contacts}
)");
  ASSERT_TRUE(c.mapping) << c.Messages();
  auto r = c.mapping->ToCanonical(
      {{"starts", S("07/04/2024 09:15 AM")}, {"subject", S("Call")}, {"customer", S("C-9")}});
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  EXPECT_EQ(ToJson(*r.value),
            R"({"contactId":"C-9","startTime":"2024-07-04T14:15:00Z","title":"Call"})");
  auto back =
      c.mapping->ToExternal({{"startTime", S("2024-07-04T14:15:00Z")}, {"contactId", S("C-9")}});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ToJson(*back.value), R"({"customer":"C-9","starts":"07/04/2024 09:15 AM"})");
  EXPECT_EQ(c.mapping->CanonicalFields(),
            (std::vector<std::string>{"startTime", "title", "contactId"}));
}

TEST(MappingTest, TemplateFieldsBuildFromTheRowAndFlowOnlyToGhl) {
  auto c = CompileText(WithFields(R"(  - ghl: name
    direction: to_ghl
    transforms: [{template: "{first} {last}"}]
  - {ghl: firstName, external: first}
)"));
  ASSERT_TRUE(c.mapping) << c.Messages();
  auto r = c.mapping->ToCanonical({{"first", S("Ann")}, {"last", S("Lee")}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ToJson(*r.value), R"({"firstName":"Ann","name":"Ann Lee"})");
  auto back = c.mapping->ToExternal({{"name", S("X Y")}, {"firstName", S("Bo")}});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ToJson(*back.value), R"({"first":"Bo"})");
}

TEST(MappingTest, FieldDirectionIsNarrowedBySyncDirection) {
  auto c =
      CompileText(WithFields("  - {ghl: email, external: e}\n  - {ghl: phone, external: p, "
                             "direction: to_ghl}\n",
                             "direction: to_ghl\n"));
  ASSERT_TRUE(c.mapping) << c.Messages();
  for (const auto& f : c.mapping->spec().fields) EXPECT_EQ(f.direction, Direction::kToGhl);
  auto back = c.mapping->ToExternal({{"email", S("a@b.c")}});
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back.value->empty()) << "nothing flows from GHL in a to_ghl sync";
}

TEST(MappingTest, OwnerPolicyKeepsOwners) {
  auto c =
      CompileText(WithFields("  - {ghl: email, external: e, owner: external}\n"
                             "  - {ghl: id, external: i, direction: from_ghl}\n",
                             "conflict: owner\n"));
  ASSERT_TRUE(c.mapping) << c.Messages();
  EXPECT_EQ(c.mapping->spec().fields[0].owner, Side::kExternal);
  EXPECT_FALSE(c.mapping->spec().fields[1].owner);
}

TEST(MappingTest, CompositeKeyAndDefaults) {
  auto c = CompileText(R"(object: opportunities
external: {connector: erp}
key: [region, number]
fields:
  - {ghl: monetaryValue, external: amount, transforms: [number]}
)");
  ASSERT_TRUE(c.mapping) << c.Messages();
  const SyncSpec& s = c.mapping->spec();
  EXPECT_EQ(s.key, (std::vector<std::string>{"region", "number"}));
  EXPECT_EQ(s.direction, Direction::kBoth);
  EXPECT_EQ(s.conflict, ConflictPolicy::kNewest);
  EXPECT_EQ(s.deletes, DeletePolicy::kIgnore);
  EXPECT_EQ(s.default_region, "US");
  EXPECT_TRUE(s.locations.empty());

  auto located = CompileText(std::string(kHead) + "locations: [loc-1, loc-2]\nfields:\n" +
                             "  - {ghl: email, external: e}\n");
  ASSERT_TRUE(located.mapping) << located.Messages();
  EXPECT_EQ(located.mapping->spec().locations, (std::vector<std::string>{"loc-1", "loc-2"}));
  EXPECT_EQ(located.mapping->spec().locations_line, 4);
  EXPECT_EQ(located.mapping->spec().locations_column, 12);
}

TEST(MappingTest, AppointmentsPollWindowDefaultsAndValues) {
  const std::string head =
      "object: appointments\nexternal: {connector: crm}\nkey: id\n"
      "fields:\n  - {ghl: title, external: title}\n";
  auto defaults = CompileText(head);
  ASSERT_TRUE(defaults.mapping) << defaults.Messages();
  EXPECT_EQ(defaults.mapping->spec().appointments.past, std::chrono::hours(30 * 24));
  EXPECT_EQ(defaults.mapping->spec().appointments.future, std::chrono::hours(365 * 24));

  auto set = CompileText(head + "appointments: {past: 2d, future: 12h}\n");
  ASSERT_TRUE(set.mapping) << set.Messages();
  EXPECT_EQ(set.mapping->spec().appointments.past, std::chrono::hours(48));
  EXPECT_EQ(set.mapping->spec().appointments.future, std::chrono::hours(12));

  auto half = CompileText(head + "appointments: {future: 7d}\n");
  ASSERT_TRUE(half.mapping) << half.Messages();
  EXPECT_EQ(half.mapping->spec().appointments.past, std::chrono::hours(30 * 24)) << "default";
  EXPECT_EQ(half.mapping->spec().appointments.future, std::chrono::hours(7 * 24));
}

// ---- errors: file:line:col: key.path: message, all at once ----

struct ErrorCase {
  std::string yaml;
  std::string error;  // a fragment of the joined diagnostics
  size_t count = 1;   // how many diagnostics the file gets in all
};

TEST(MappingTest, ErrorsNameFileLineColumnAndKeyPath) {
  const std::string f = "  - {ghl: email, external: e}\n";
  const std::vector<ErrorCase> cases = {
      {"objekt: contacts\n", "sync.yaml:1:1: objekt: unknown key 'objekt'; did you mean 'object'?",
       5},
      {"object: contact\n",
       "sync.yaml:1:9: object: 'contact' is not one of: contacts "
       "opportunities appointments; did you mean 'contacts'?",
       4},
      {"object: contacts\n", "sync.yaml:1:1: missing required key 'external'", 3},
      {WithFields("  - {ghl: emial, external: e}\n"),
       "sync.yaml:5:11: fields[0].ghl: unknown GHL field 'emial' for contacts; did you mean "
       "'email'? (custom fields are written customFields.<key>)"},
      {WithFields(f + "  - {ghl: email, external: e2}\n"),
       "sync.yaml:6:11: fields[1].ghl: GHL field 'email' is already mapped by fields[0] (line 5)"},
      {WithFields(f + "  - {ghl: phone, external: e}\n"),
       "sync.yaml:6:28: fields[1].external: column 'e' is already mapped by fields[0]; map each "
       "column once"},
      {WithFields(f, "conflict: owner\n"),
       "sync.yaml:6:5: fields[0]: `conflict: owner` needs `owner: ghl` or `owner: external`"},
      {WithFields("  - {ghl: email, external: e, owner: ghl}\n"),
       "sync.yaml:5:38: fields[0].owner: `owner` is only used with `conflict: owner`; this sync "
       "has `conflict: newest`"},
      {WithFields("  - ghl: name\n    transforms: [{template: \"{a} {b}\"}]\n"),
       "sync.yaml:6:18: fields[0].transforms[0]: 'template' cannot be undone on the way back; "
       "give this field `direction: to_ghl`"},
      {WithFields("  - {ghl: name, direction: to_ghl, transforms: [trim, "
                  "{template: \"{a}\"}]}\n"),
       "fields[0].transforms[1]: 'template' builds the value from the row: it must be the "
       "first transform"},
      {WithFields("  - email\n"),
       "sync.yaml:5:5: fields[0]: expected a mapping (key: value lines)"},
      {WithFields("  - {ghl: email}\n"),
       "sync.yaml:5:5: fields[0]: missing required key 'external'"},
      {WithFields("  - {ghl: dateAdded, external: d}\n"),
       "fields[0].ghl: 'dateAdded' is set by GHL and cannot be written; give this field "
       "`direction: from_ghl`"},
      {WithFields("  - {ghl: email, external: e, direction: from_ghl}\n", "direction: to_ghl\n"),
       "sync.yaml:6:42: fields[0].direction: this field flows from_ghl but the sync is to_ghl"},
      {WithFields("  - {ghl: customFields.contact.tier, external: t}\n"),
       "fields[0].ghl: write the custom field key without its model prefix, e.g. "
       "customFields.tier"},
      {"object: appointments\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: customFields.tier, external: t}\n",
       "fields[0].ghl: appointments have no custom fields in GHL"},
      {WithFields(f, "match: [email, phone]\n"),
       "sync.yaml:4:16: match[1]: matching by phone needs a field with `ghl: phone` that flows "
       "to GHL"},
      {WithFields(f, "match: [mail]\n"),
       "match[0]: 'mail' is not a match key; use email and/or phone"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nmatch: [email]\nfields:\n"
       "  - {ghl: name, external: n}\n",
       "sync.yaml:4:8: match: `match` is for contacts only"},
      {"object: contacts\nexternal: {connector: x}\nfields:\n" + f,
       "sync.yaml:1:1: missing required key 'key'"},
      {WithFields(f, "deletes: soft\n"),
       "sync.yaml:4:10: deletes: `deletes: soft` toward GHL needs `soft_delete: {tag: <name>}`", 2},
      {WithFields(f, "soft_delete: {tag: gone}\n"),
       "sync.yaml:4:14: soft_delete: `soft_delete` is only used with `deletes: soft`"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\ndeletes: soft\n"
       "soft_delete: {column: gone}\nfields:\n  - {ghl: name, external: n}\n",
       "opportunities have no tags to mark a soft delete in GHL"},
      {WithFields(f, "delete_guard: {max_share: 10}\n"),
       "sync.yaml:4:27: delete_guard.max_share: expected a percentage from 0% to 100%, such as "
       "10%, got '10'"},
      {WithFields("  - {ghl: email, external: e, transforms: [lowr]}\n"),
       "sync.yaml:5:44: fields[0].transforms[0]: unknown transform 'lowr'; did you mean "
       "'lower'?"},
      {"object: contacts\nexternal: {file: a.csv}\nkey: id\nfields:\n" + f,
       "sync.yaml:2:11: external: missing required key 'connector'"},
      {WithFields(f, "default_region: XX\n"),
       "sync.yaml:4:17: default_region: unknown region 'XX'"},
      {WithFields(f, "references:\n  - {ghl: email, external: x, sync: other}\n"),
       "references[0].ghl: 'email' is not a writable id field of contacts (those are: "
       "assignedTo)",
       2},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nreferences:\n  - {ghl: contactId, external: c, sync: sync}\n",
       "sync.yaml:7:41: references[0].sync: a sync cannot reference its own records"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nreferences:\n  - {ghl: pipelineStageId, external: s}\n",
       "sync.yaml:7:5: references[0].sync: give `sync:` (the sync whose links resolve it) or "
       "`by: name`"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nreferences:\n"
       "  - {ghl: pipelineStageId, external: s, sync: deals, by: name}\n",
       "sync.yaml:7:58: references[0].by: give `sync:` or `by:`, not both"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nreferences:\n  - {ghl: contactId, external: c, by: name}\n",
       "sync.yaml:7:39: references[0].by: 'contactId' of opportunities cannot be looked up by "
       "name (pipelineId and pipelineStageId of opportunities and calendarId of appointments "
       "can)"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nreferences:\n  - {ghl: pipelineId, external: p, by: id}\n",
       "sync.yaml:7:40: references[0].by: 'id' is not one of: name"},
      {WithFields(f, "appointments: {past: 1d}\n"),
       "sync.yaml:4:15: appointments: `appointments` is for appointment syncs only; this sync "
       "has `object: contacts`"},
      {"object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: name, external: n}\nappointments:\n  future: 1d\n",
       "sync.yaml:7:3: appointments: `appointments` is for appointment syncs only; this sync "
       "has `object: opportunities`"},
      {"object: appointments\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: title, external: t}\nappointments: {past: soon, futur: 1d}\n",
       "sync.yaml:6:22: appointments.past: expected a duration such as 250ms", 2},
      {"object: appointments\nexternal: {connector: x}\nkey: id\nfields:\n"
       "  - {ghl: title, external: t}\nappointments: {future: 3651d}\n",
       "sync.yaml:6:24: appointments.future: 3651d is out of range; allowed 0s..3650d"},
      {WithFields(f, "poll_interval: 10ms\n"),
       "poll_interval: 10ms is out of range; allowed 1s..1d"},
      {WithFields("  - {ghl: email, external: e, transforms: trim}\n"),
       "fields[0].transforms: expected a list of transforms, e.g. [trim, lower]"},
  };
  for (const auto& ec : cases) {
    auto c = CompileText(ec.yaml);
    EXPECT_FALSE(c.mapping) << ec.yaml;
    EXPECT_EQ(c.errors.size(), ec.count) << c.Messages();
    const std::string all = c.Messages();
    EXPECT_NE(all.find(ec.error), std::string::npos) << ec.yaml << "\ngave:\n" << all;
  }
}

TEST(MappingTest, EveryProblemOfAFileIsReportedAtOnce) {
  TempDir dir;
  const auto path = dir.Write("deals.yaml", R"(object: opportunities
external:
  connector: erp
key: deal_no
conflikt: newest
fields:
  - ghl: monetaryValu
    external: amount
  - ghl: status
    external: state
    transforms: [{map: {values: {o: open}}}, {phone: ZZ}]
)");
  auto c = CompileFile(path);
  EXPECT_FALSE(c.mapping);
  const std::string file = path.string();
  std::vector<std::string> got;
  for (const auto& d : c.errors) got.push_back(d.ToString());
  const std::vector<std::string> want = {
      file + ":5:1: conflikt: unknown key 'conflikt'; did you mean 'conflict'?",
      file +
          ":7:10: fields[0].ghl: unknown GHL field 'monetaryValu' for opportunities; did "
          "you mean 'monetaryValue'? (custom fields are written customFields.<key>)",
      file +
          ":11:54: fields[1].transforms[1].phone: unknown region 'ZZ'; use an ISO 3166 code "
          "such as US or DE",
  };
  EXPECT_EQ(got, want);
}

TEST(MappingTest, ReferenceDocumentsKeysTransformsAndGhlFields) {
  const std::string md = ReferenceMarkdown();
  for (const char* s :
       {"| `object` |", "| `fields[].transforms` |", "| `delete_guard.max_share` |", "`10%`",
        "| `soft_delete.tag` |", "| `references[].sync` |", "#### Transforms", "| `phone` |",
        "| `appointments.past` |", "| `appointments.future` |", "`30d`", "`365d`",
        "`pipelineStageId` (id)", "`dateUpdated` (datetime)", "`customFields.<key>`"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s;
  }
}

TEST(MappingTest, EnumNames) {
  EXPECT_STREQ(ToString(GhlObject::kAppointments), "appointments");
  EXPECT_STREQ(ToString(Direction::kFromGhl), "from_ghl");
  EXPECT_STREQ(ToString(Side::kExternal), "external");
  EXPECT_STREQ(ToString(ConflictPolicy::kExternalWins), "external_wins");
  EXPECT_STREQ(ToString(DeletePolicy::kPropagate), "propagate");
  EXPECT_STREQ(ToString(FieldKind::kDateTime), "datetime");
}

}  // namespace
}  // namespace ghl::mapping
