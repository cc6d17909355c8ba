// Transforms, table-driven: each case compiles one `transforms:` item from YAML text and
// applies it one way or the other.
#include "mapping/transforms.h"

#include <gtest/gtest.h>

namespace ghl::mapping {
namespace {

struct Compiled {
  std::optional<TransformSteps> steps;
  config::Diagnostics errors;
};

Compiled CompileYaml(const std::string& yaml, const std::string& region = "US") {
  Compiled c;
  config::Context ctx("t.yaml", ".", config::ProcessEnv(), &c.errors);
  c.steps = CompileTransform(YAML::Load(yaml), TransformEnv{region}, ctx);
  return c;
}

// The expected outcome: a value, or an error containing this text.
struct Outcome {
  Value value;
  std::string error;
};
Outcome Fails(std::string why) { return {Value(), std::move(why)}; }

struct Case {
  std::string transform;  // YAML of one list item
  Value in;
  Outcome out;
  Fields row = {};
};

std::string Describe(const Case& c) { return c.transform + " on " + ToJson(c.in); }

void Check(const Case& c, bool to_ghl) {
  auto compiled = CompileYaml(c.transform);
  ASSERT_TRUE(compiled.errors.empty()) << Describe(c) << ": " << config::Join(compiled.errors);
  ASSERT_TRUE(compiled.steps) << Describe(c);
  TransformPtr step = to_ghl ? compiled.steps->to_ghl : compiled.steps->from_ghl;
  Result<Value> got = step ? step->Apply(c.in, c.row) : Result<Value>(c.in);
  if (c.out.error.empty()) {
    ASSERT_TRUE(got.ok()) << Describe(c) << ": " << got.error().message;
    EXPECT_TRUE(Equal(*got, c.out.value) && got->index() == c.out.value.index())
        << Describe(c) << ": got " << ToJson(*got) << ", want " << ToJson(c.out.value);
  } else {
    ASSERT_FALSE(got.ok()) << Describe(c) << ": got " << ToJson(*got);
    EXPECT_NE(got.error().message.find(c.out.error), std::string::npos)
        << Describe(c) << ": " << got.error().message;
  }
}

const Value kNull;
Value S(const char* s) { return std::string(s); }
Value N(double d) { return d; }
Value L(List l) { return l; }

TEST(TransformsTest, ToGhl) {
  const std::vector<Case> cases = {
      {"trim", S("  Ann \t"), {S("Ann")}},
      {"trim", S("\u00a0Ann\u3000"), {S("Ann")}},
      {"trim", S("   "), {kNull}},
      {"trim", kNull, {kNull}},
      {"trim", L({" a ", " ", "b"}), {L({"a", "b"})}},
      {"trim", N(5), {N(5)}},
      {"lower", S("ANN@Example.COM"), {S("ann@example.com")}},
      {"lower", S("ÄNNE"), {S("änne")}},
      {"lower", L({"VIP", "B"}), {L({"vip", "b"})}},
      {"upper", S("straße"), {S("STRASSE")}},
      {"lower", S("\xff\xfe"), Fails("not valid UTF-8")},
      {"phone", S("(212) 555-0100"), {S("+12125550100")}},
      {"phone", S("+49 30 1234567"), {S("+49301234567")}},
      {"phone", N(2125550100), {S("+12125550100")}},
      {"phone", S(" "), {kNull}},
      {"{phone: DE}", S("030 1234567"), {S("+49301234567")}},
      {"{phone: {region: DE}}", S("12"), Fails("not a valid phone number (region DE)")},
      {"{phone: {region: DE, check: possible}}", S("030 1234"), {S("+49301234")}},
      {"phone", S("call me"), Fails("not a phone number")},
      {"phone", L({"1"}), Fails("is not a phone number")},
      {"{date: \"%d/%m/%Y\"}", S("05/01/2000"), {S("2000-01-05")}},
      {"{date: \"%d/%m/%Y\"}", S(" 5/1/2000 "), {S("2000-01-05")}},
      {"{date: \"%d/%m/%Y\"}", S("31/02/2000"), Fails("not a date in the format %d/%m/%Y")},
      {"{date: \"%d/%m/%Y\"}", S("2000-01-05"), Fails("not a date")},
      {"{date: {format: \"%d %b %Y\"}}", S("05 Jan 2000"), {S("2000-01-05")}},
      {"date", S("2000-01-05"), {S("2000-01-05")}},
      {"date", N(3), Fails("is not a date")},
      {"datetime", S("2023-09-25T16:00:00+05:30"), {S("2023-09-25T10:30:00Z")}},
      {"datetime", S("2021-07-02T05:18:26.704Z"), {S("2021-07-02T05:18:26Z")}},
      {"datetime", S("2024-01-01 10:00"), {S("2024-01-01T10:00:00Z")}},
      {"datetime", S("yesterday"), Fails("not a time in the format iso8601")},
      {"{datetime: {timezone: America/New_York}}",
       S("2024-01-01T10:00:00"),
       {S("2024-01-01T15:00:00Z")}},
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("01.07.2024 14:30"),
       {S("2024-07-01T12:30:00Z")}},
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("01.01.2024 14:30"),
       {S("2024-01-01T13:30:00Z")}},
      // 02:30 does not exist on 31 March 2024 in Berlin: the first valid time (03:00 CEST).
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("31.03.2024 02:30"),
       {S("2024-03-31T01:00:00Z")}},
      // 02:30 happens twice on 27 October 2024: the earlier (CEST).
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("27.10.2024 02:30"),
       {S("2024-10-27T00:30:00Z")}},
      {"{datetime: {format: \"%Y-%m-%dT%H:%M:%S%z\"}}",
       S("2024-01-01T10:00:00Z"),
       {S("2024-01-01T10:00:00Z")}},
      {"{datetime: {format: \"%Y-%m-%dT%H:%M:%S%z\"}}",
       S("2024-01-01T10:00:00+0200"),
       {S("2024-01-01T08:00:00Z")}},
      {"{datetime: unix}", N(1700000000), {S("2023-11-14T22:13:20Z")}},
      {"{datetime: unix}", S("1700000000"), {S("2023-11-14T22:13:20Z")}},
      {"{datetime: unix_ms}", N(1700000000123), {S("2023-11-14T22:13:20Z")}},
      {"{datetime: unix}", S("soon"), Fails("is not a number of seconds")},
      {"{map: {values: {G: gold, S: silver}, default: bronze}}", S("G"), {S("gold")}},
      {"{map: {values: {G: gold, S: silver}, default: bronze}}", S("X"), {S("bronze")}},
      {"{map: {values: {G: gold, S: silver}, default: bronze}}", kNull, {kNull}},
      {"{map: {values: {G: gold, S: silver}}}", L({"G", "S"}), {L({"gold", "silver"})}},
      {"{map: {values: {G: gold, S: silver}}}", S("X"),
       Fails("'X' is not a listed external value (G, S)")},
      {"{map: {values: {G: gold}, ignore_case: true}}", S("g"), {S("gold")}},
      {"{map: {values: {\"1\": one}}}", N(1), {S("one")}},
      {"{split: \";\"}", S("a; b;;c "), {L({"a", "b", "c"})}},
      {"{split: {separator: \" \"}}", S("vip  new"), {L({"vip", "new"})}},
      {"{split: \";\"}", kNull, {L({})}},
      {"{split: \";\"}", L({"x"}), {L({"x"})}},
      {"{join: \", \"}", L({"a", "b"}), {S("a, b")}},
      {"{join: \", \"}", L({}), {kNull}},
      {"number", S("12"), {N(12)}},
      {"number", S(" +3.5 "), {N(3.5)}},
      {"number", S(""), {kNull}},
      {"number", S("12abc"), Fails("'12abc' is not a number")},
      {"number", S("inf"), Fails("is not a number")},
      {"number", N(7), {N(7)}},
      {"{number: {thousands: \",\"}}", S("1,234.5"), {N(1234.5)}},
      {"{number: {decimal: \",\", thousands: \".\"}}", S("1.234,56"), {N(1234.56)}},
      {"number", Value(true), Fails("is not a number")},
      {"boolean", S("Yes"), {Value(true)}},
      {"boolean", S("0"), {Value(false)}},
      {"boolean", S("OFF"), {Value(false)}},
      {"boolean", N(1), {Value(true)}},
      {"boolean", N(2), Fails("not a boolean (0 or 1)")},
      {"boolean", S("maybe"), Fails("'maybe' is not a boolean")},
      {"{boolean: {true: Ja, false: Nein}}", S("ja"), {Value(true)}},
      {"{boolean: {true: Ja, false: Nein}}", S("NEIN"), {Value(false)}},
      {"{default: 0}", kNull, {N(0)}},
      {"{default: \"0\"}", kNull, {S("0")}},
      {"{default: true}", kNull, {Value(true)}},
      {"{default: [a, b]}", kNull, {L({"a", "b"})}},
      {"{default: unknown}", S("x"), {S("x")}},
      {"{template: \"{first} {last}\"}",
       kNull,
       {S("Ann Lee")},
       {{"first", S("Ann")}, {"last", S("Lee")}}},
      {"{template: \"{first} {last}\"}", kNull, {S("Ann")}, {{"first", S("Ann")}}},
      {"{template: \"{first} {last}\"}", kNull, {kNull}, {}},
      {"{template: \"{{{n}}} #{n}\"}", kNull, {S("{7} #7")}, {{"n", N(7)}}},
      {"{template: \"{tags}\"}", kNull, {S("a, b")}, {{"tags", L({"a", "b"})}}},
      {"{concat: {columns: [a, b, c], separator: \", \"}}",
       kNull,
       {S("x, z")},
       {{"a", S(" x ")}, {"b", kNull}, {"c", S("z")}}},
      {"{concat: [a, b]}", kNull, {S("x y")}, {{"a", S("x")}, {"b", S("y")}}},
      {"{concat: [a, b]}", kNull, {kNull}, {}},
  };
  for (const auto& c : cases) Check(c, /*to_ghl=*/true);
}

TEST(TransformsTest, BackToExternal) {
  const std::vector<Case> cases = {
      // No inverse: unchanged.
      {"trim", S(" a "), {S(" a ")}},
      {"lower", S("Ann"), {S("Ann")}},
      {"phone", S("+12125550100"), {S("+12125550100")}},
      {"{default: x}", kNull, {kNull}},
      {"number", N(1.5), {N(1.5)}},
      {"boolean", Value(true), {Value(true)}},
      // Real inverses.
      {"{split: \";\"}", L({"a", "b"}), {S("a;b")}},
      {"{split: \";\"}", L({}), {kNull}},
      {"{join: \", \"}", S("a, b"), {L({"a", "b"})}},
      {"{map: {values: {G: gold, GOLD: gold, S: silver}}}", S("gold"), {S("G")}},
      {"{map: {values: {G: gold}}}", S("platinum"), Fails("'platinum' is not a listed GHL value")},
      {"{map: {values: {G: gold}, reverse_default: X}}", S("platinum"), {S("X")}},
      {"{date: \"%d/%m/%Y\"}", S("2000-01-05"), {S("05/01/2000")}},
      {"{date: \"%d/%m/%Y\"}", S("2000-01-05T00:00:00.000Z"), {S("05/01/2000")}},
      {"{date: \"%d/%m/%Y\"}", S("soon"), Fails("not a date YYYY-MM-DD")},
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("2024-07-01T12:30:00Z"),
       {S("01.07.2024 14:30")}},
      {"{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}",
       S("2023-09-25T16:00:00+05:30"),
       {S("25.09.2023 12:30")}},
      {"{datetime: {timezone: Europe/Berlin}}",
       S("2024-07-01T12:30:00Z"),
       {S("2024-07-01T14:30:00+02:00")}},
      {"datetime", S("2024-07-01T12:30:00.250Z"), {S("2024-07-01T12:30:00Z")}},
      {"{datetime: unix}", S("2023-11-14T22:13:20Z"), {N(1700000000)}},
      {"{datetime: unix_ms}", S("2023-11-14T22:13:20Z"), {N(1700000000000)}},
      {"datetime", S("not a time"), Fails("not an ISO 8601 time")},
      {"{number: {decimal: \",\"}}", N(1234.56), {S("1234,56")}},
      {"{boolean: {true: Y, false: N}}", Value(false), {S("N")}},
  };
  for (const auto& c : cases) Check(c, /*to_ghl=*/false);
}

TEST(TransformsTest, PhoneUsesTheSyncsDefaultRegion) {
  auto c = CompileYaml("phone", "DE");
  ASSERT_TRUE(c.steps) << config::Join(c.errors);
  auto got = c.steps->to_ghl->Apply(S("030 1234567"), {});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(std::get<std::string>(*got), "+49301234567");
}

TEST(TransformsTest, TemplateAndConcatHaveNoWayBackAndReadTheRow) {
  for (const char* t : {"{template: \"{a}\"}", "{concat: [a]}"}) {
    auto c = CompileYaml(t);
    ASSERT_TRUE(c.steps) << t << config::Join(c.errors);
    EXPECT_FALSE(c.steps->invertible) << t;
    EXPECT_TRUE(c.steps->reads_row) << t;
  }
  auto trim = CompileYaml("trim");
  EXPECT_TRUE(trim.steps->invertible);
  EXPECT_FALSE(trim.steps->reads_row);
}

TEST(TransformsTest, ApplyChainNamesTheFailingStep) {
  auto trim = CompileYaml("trim"), phone = CompileYaml("{phone: DE}");
  std::vector<TransformPtr> chain = {trim.steps->to_ghl, phone.steps->to_ghl};
  auto ok = ApplyChain(chain, S(" 030 1234567 "), {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(std::get<std::string>(*ok), "+49301234567");
  auto bad = ApplyChain(chain, S("hello"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "phone: 'hello' is not a phone number (region DE)");
}

struct BadCase {
  std::string yaml;
  std::string error;  // expected "line:col: path: message" fragment
};

TEST(TransformsTest, BadTransformsAreReportedWithTheirPlace) {
  const std::vector<BadCase> cases = {
      {"trimm", "t.yaml:1:1: unknown transform 'trimm'; did you mean 'trim'?"},
      {"{trim: yes}", "t.yaml:1:8: 'trim' takes no options"},
      {"map", "t.yaml:1:1: 'map' needs options, e.g. {map: {values:"},
      {"{map: {vals: {a: b}}}",
       "t.yaml:1:8: .map.vals: unknown key 'vals'; did you mean 'values'?"},
      {"{map: {values: {a: b, a: c}}}", "'a' is listed twice"},
      {"{split: {sep: \";\"}}", ".split.sep: unknown key 'sep'"},
      {"{phone: {region: XX}}", "t.yaml:1:18: .phone.region: unknown region 'XX'"},
      {"{phone: {check: maybe}}", ".phone.check: 'maybe' is not one of: valid possible"},
      {"{datetime: {timezone: Europe/Berln}}",
       "t.yaml:1:23: .datetime.timezone: unknown time zone 'Europe/Berln'; did you mean "
       "'Europe/Berlin'?"},
      {"{template: \"{first\"}", "'{' at position 1 does not start a {column} reference"},
      {"{template: \"a } b\"}", "'}' at position 3 closes nothing"},
      {"{boolean: {true: Y}}", "give both 'true' and 'false', or neither"},
      {"{default: {a: b}}", "expected {default: value}"},
      {"[trim]", "expected a transform"},
      {"{trim: 1, lower: 2}", "expected a transform"},
  };
  for (const auto& c : cases) {
    auto compiled = CompileYaml(c.yaml);
    const std::string all = config::Join(compiled.errors);
    EXPECT_NE(all.find(c.error), std::string::npos) << c.yaml << " gave:\n" << all;
  }
}

TEST(TransformsTest, ReferenceListsEveryTransformAndItsOptions) {
  const std::string md = TransformsReferenceMarkdown();
  for (const char* name : {"trim", "lower", "upper", "phone", "date", "datetime", "map", "split",
                           "join", "number", "boolean", "default", "template", "concat"}) {
    EXPECT_NE(md.find("| `" + std::string(name) + "` |"), std::string::npos) << name;
  }
  EXPECT_NE(md.find("Options of `datetime`"), std::string::npos);
  EXPECT_NE(md.find("| `timezone` | string | `UTC` |"), std::string::npos) << md;
}

}  // namespace
}  // namespace ghl::mapping
