// The three-way merge: every row of the contract in sync/merge.h, each conflict policy,
// per-field directions, first sync, nulls and lists, one field per table row; then whole
// records and RulesOf.
#include "sync/merge.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ghl::sync {
namespace {

using mapping::ConflictPolicy;
using mapping::Direction;
using mapping::List;
using mapping::ToJson;

Value S(const char* s) { return Value{std::string(s)}; }
Value L(List l) { return Value{std::move(l)}; }
const Value kNull;

std::string Show(const std::optional<Value>& v) { return v ? ToJson(*v) : "(nothing)"; }

// One field `f`. Inputs: nullopt base means "never synced", nullopt side means "record
// absent on that side". Expected: nullopt write means "not written to that side".
struct Case {
  const char* name;
  std::optional<Value> base, ghl, ext;
  Direction direction = Direction::kBoth;
  ConflictPolicy policy = ConflictPolicy::kNewest;
  std::optional<Side> owner = std::nullopt;
  int64_t ghl_ms = 0, ext_ms = 0;
  std::optional<Value> to_ghl = std::nullopt, to_ext = std::nullopt;
  Value new_base = kNull;
  std::optional<Side> conflict_winner = std::nullopt;  // set: one conflict, won by it
};

const Case kCases[] = {
    // The contract table.
    {.name = "nothing changed", .base = S("a"), .ghl = S("a"), .ext = S("a"), .new_base = S("a")},
    {.name = "external changed flows to GHL",
     .base = S("a"),
     .ghl = S("a"),
     .ext = S("e"),
     .to_ghl = S("e"),
     .new_base = S("e")},
    {.name = "GHL changed flows to external",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("a"),
     .to_ext = S("g"),
     .new_base = S("g")},
    {.name = "same change on both sides writes nothing",
     .base = S("a"),
     .ghl = S("x"),
     .ext = S("x"),
     .new_base = S("x")},
    // Conflicts, policy by policy.
    {.name = "newest: GHL later",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .ghl_ms = 2000,
     .ext_ms = 1000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "newest: external later",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .ghl_ms = 2000,
     .ext_ms = 3000,
     .to_ghl = S("e"),
     .new_base = S("e"),
     .conflict_winner = Side::kExternal},
    {.name = "newest: a tie goes to GHL",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .ghl_ms = 2000,
     .ext_ms = 2000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "newest: GHL time unknown goes to GHL",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .ghl_ms = 0,
     .ext_ms = 5000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "newest: external time unknown goes to GHL",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .ghl_ms = 5000,
     .ext_ms = 0,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "ghl_wins ignores times",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kGhlWins,
     .ghl_ms = 1000,
     .ext_ms = 9000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "external_wins ignores times",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kExternalWins,
     .ghl_ms = 9000,
     .ext_ms = 1000,
     .to_ghl = S("e"),
     .new_base = S("e"),
     .conflict_winner = Side::kExternal},
    {.name = "owner: external-owned field",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kOwner,
     .owner = Side::kExternal,
     .ghl_ms = 9000,
     .to_ghl = S("e"),
     .new_base = S("e"),
     .conflict_winner = Side::kExternal},
    {.name = "owner: GHL-owned field",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kOwner,
     .owner = Side::kGhl,
     .ext_ms = 9000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    {.name = "owner: a field without an owner goes to GHL",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kOwner,
     .ext_ms = 9000,
     .to_ext = S("g"),
     .new_base = S("g"),
     .conflict_winner = Side::kGhl},
    // Directions: a forbidden flow is left alone (base kept); no conflict on one-way fields.
    {.name = "to_ghl: a GHL change does not flow out",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("a"),
     .direction = Direction::kToGhl,
     .new_base = S("a")},
    {.name = "to_ghl: an external change flows in",
     .base = S("a"),
     .ghl = S("a"),
     .ext = S("e"),
     .direction = Direction::kToGhl,
     .to_ghl = S("e"),
     .new_base = S("e")},
    {.name = "from_ghl: an external change does not flow in",
     .base = S("a"),
     .ghl = S("a"),
     .ext = S("e"),
     .direction = Direction::kFromGhl,
     .new_base = S("a")},
    {.name = "from_ghl: a GHL change flows out",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("a"),
     .direction = Direction::kFromGhl,
     .to_ext = S("g"),
     .new_base = S("g")},
    {.name = "to_ghl: both changed, external is the truth, no conflict",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .direction = Direction::kToGhl,
     .policy = ConflictPolicy::kGhlWins,
     .ghl_ms = 9000,
     .to_ghl = S("e"),
     .new_base = S("e")},
    {.name = "from_ghl: both changed, GHL is the truth, no conflict",
     .base = S("a"),
     .ghl = S("g"),
     .ext = S("e"),
     .direction = Direction::kFromGhl,
     .policy = ConflictPolicy::kExternalWins,
     .ext_ms = 9000,
     .to_ext = S("g"),
     .new_base = S("g")},
    // Nulls: clearing a field is a change to null.
    {.name = "cleared externally clears GHL",
     .base = S("a"),
     .ghl = S("a"),
     .ext = kNull,
     .to_ghl = kNull,
     .new_base = kNull},
    {.name = "cleared in GHL clears external",
     .base = S("a"),
     .ghl = kNull,
     .ext = S("a"),
     .to_ext = kNull,
     .new_base = kNull},
    {.name = "set from null",
     .base = kNull,
     .ghl = kNull,
     .ext = S("e"),
     .to_ghl = S("e"),
     .new_base = S("e")},
    {.name = "cleared on both sides",
     .base = S("a"),
     .ghl = kNull,
     .ext = kNull,
     .new_base = kNull},
    {.name = "cleared in GHL against an external edit: GHL wins with null",
     .base = S("a"),
     .ghl = kNull,
     .ext = S("e"),
     .policy = ConflictPolicy::kGhlWins,
     .to_ext = kNull,
     .new_base = kNull,
     .conflict_winner = Side::kGhl},
    {.name = "cleared in GHL against an external edit: external wins",
     .base = S("a"),
     .ghl = kNull,
     .ext = S("e"),
     .policy = ConflictPolicy::kExternalWins,
     .to_ghl = S("e"),
     .new_base = S("e"),
     .conflict_winner = Side::kExternal},
    // Lists compare as sets; types are not coerced.
    {.name = "reordered list is no change",
     .base = L({"a", "b"}),
     .ghl = L({"b", "a"}),
     .ext = L({"a", "b", "a"}),
     .new_base = L({"a", "b"})},
    {.name = "a tag added in GHL flows out",
     .base = L({"a"}),
     .ghl = L({"b", "a"}),
     .ext = L({"a"}),
     .to_ext = L({"b", "a"}),
     .new_base = L({"b", "a"})},
    {.name = "same set in another order on both sides is no conflict",
     .base = L({"a"}),
     .ghl = L({"a", "c"}),
     .ext = L({"c", "a"}),
     .new_base = L({"a", "c"})},
    {.name = "string to number is a change",
     .base = S("1"),
     .ghl = Value{1.0},
     .ext = S("1"),
     .to_ext = Value{1.0},
     .new_base = Value{1.0}},
    // First sync: no base, or a record absent on one side.
    {.name = "create externally: GHL value flows",
     .ghl = S("g"),
     .to_ext = S("g"),
     .new_base = S("g")},
    {.name = "create externally: a null is not written", .ghl = kNull, .new_base = kNull},
    {.name = "create in GHL: external value flows",
     .ext = S("e"),
     .to_ghl = S("e"),
     .new_base = S("e")},
    {.name = "create in GHL: a from_ghl field is not written",
     .ext = S("e"),
     .direction = Direction::kFromGhl,
     .new_base = kNull},
    {.name = "create externally: a to_ghl field is not written",
     .ghl = S("g"),
     .direction = Direction::kToGhl,
     .new_base = kNull},
    {.name = "re-create with a base: the whole record is written",
     .base = S("g"),
     .ghl = S("g"),
     .to_ext = S("g"),
     .new_base = S("g")},
    {.name = "re-create with a base: a now-null field is not written",
     .base = S("a"),
     .ghl = kNull,
     .new_base = kNull},
    {.name = "absent on both sides: nothing", .base = S("a"), .new_base = S("a")},
    {.name = "first link, only GHL has a value",
     .ghl = S("g"),
     .ext = kNull,
     .to_ext = S("g"),
     .new_base = S("g")},
    {.name = "first link, equal values", .ghl = S("x"), .ext = S("x"), .new_base = S("x")},
    {.name = "first link, different values are a conflict",
     .ghl = S("g"),
     .ext = S("e"),
     .policy = ConflictPolicy::kExternalWins,
     .to_ghl = S("e"),
     .new_base = S("e"),
     .conflict_winner = Side::kExternal},
};

class MergeTable : public ::testing::TestWithParam<Case> {};

TEST_P(MergeTable, Decides) {
  const Case& c = GetParam();
  std::optional<Fields> base, ghl, ext;
  if (c.base) base = Fields{{"f", *c.base}};
  if (c.ghl) ghl = Fields{{"f", *c.ghl}};
  if (c.ext) ext = Fields{{"f", *c.ext}};
  MergeInput in{.fields = {{"f", c.direction, c.owner}},
                .policy = c.policy,
                .base = base ? &*base : nullptr,
                .ghl = ghl ? &*ghl : nullptr,
                .external = ext ? &*ext : nullptr,
                .ghl_updated_ms = c.ghl_ms,
                .external_updated_ms = c.ext_ms};
  const MergeResult out = Merge(in);

  auto written = [](const Fields& f) {
    auto it = f.find("f");
    return it == f.end() ? std::optional<Value>() : it->second;
  };
  EXPECT_EQ(written(out.to_ghl), c.to_ghl) << Show(written(out.to_ghl));
  EXPECT_EQ(written(out.to_external), c.to_ext) << Show(written(out.to_external));
  EXPECT_EQ(out.to_ghl.size() + out.to_external.size(),
            (c.to_ghl ? 1u : 0u) + (c.to_ext ? 1u : 0u));
  EXPECT_EQ(out.changed(), c.to_ghl || c.to_ext);
  ASSERT_EQ(out.new_base.size(), 1u);
  EXPECT_EQ(out.new_base.at("f"), c.new_base) << ToJson(out.new_base.at("f"));

  if (!c.conflict_winner) {
    EXPECT_TRUE(out.conflicts.empty());
    return;
  }
  ASSERT_EQ(out.conflicts.size(), 1u);
  const Conflict& conflict = out.conflicts[0];
  EXPECT_EQ(conflict.field, "f");
  EXPECT_EQ(conflict.winner, *c.conflict_winner);
  EXPECT_EQ(conflict.base, c.base.value_or(kNull));
  EXPECT_EQ(conflict.ghl, *c.ghl);
  EXPECT_EQ(conflict.external, *c.ext);
  const char* rules[] = {"ghl_wins", "external_wins", "newest", "owner"};
  EXPECT_EQ(conflict.rule, rules[static_cast<int>(c.policy)]);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  for (const char* p = info.param.name; *p != '\0'; ++p) {
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Contract, MergeTable, ::testing::ValuesIn(kCases), CaseName);

TEST(Merge, WholeRecordWritesOnlyChangedFieldsAndTreatsMissingKeysAsNull) {
  const Fields base{{"email", S("a@x.io")}, {"phone", S("+15550001")}, {"tags", L({"vip"})}};
  // GHL dropped "phone" from its payload (null); the external side renamed and tagged.
  const Fields ghl{{"email", S("a@x.io")}, {"tags", L({"vip"})}, {"unmapped", S("zzz")}};
  const Fields ext{{"email", S("a@x.io")},
                   {"phone", S("+15550001")},
                   {"tags", L({"vip", "new"})},
                   {"firstName", S("Ann")}};
  const MergeResult out = Merge({.fields = {{"firstName"}, {"email"}, {"phone"}, {"tags"}},
                                 .base = &base,
                                 .ghl = &ghl,
                                 .external = &ext});
  EXPECT_EQ(out.to_ghl, (Fields{{"firstName", S("Ann")}, {"tags", L({"vip", "new"})}}));
  EXPECT_EQ(out.to_external, (Fields{{"phone", kNull}}));
  EXPECT_EQ(out.new_base, (Fields{{"firstName", S("Ann")},
                                  {"email", S("a@x.io")},
                                  {"phone", kNull},
                                  {"tags", L({"vip", "new"})}}))
      << "every mapped field, and only those";
  EXPECT_TRUE(out.conflicts.empty());
  EXPECT_TRUE(out.changed());
}

TEST(Merge, ConflictsComeInFieldOrderAndEachFieldIsSettledAlone) {
  const Fields base{{"a", S("0")}, {"b", S("0")}, {"c", S("0")}};
  const Fields ghl{{"a", S("ga")}, {"b", S("0")}, {"c", S("gc")}};
  const Fields ext{{"a", S("ea")}, {"b", S("eb")}, {"c", S("ec")}};
  const MergeResult out = Merge({.fields = {{"c", Direction::kBoth, Side::kExternal},
                                            {"b"},
                                            {"a", Direction::kBoth, Side::kGhl}},
                                 .policy = ConflictPolicy::kOwner,
                                 .base = &base,
                                 .ghl = &ghl,
                                 .external = &ext});
  ASSERT_EQ(out.conflicts.size(), 2u);
  EXPECT_EQ(out.conflicts[0].field, "c");
  EXPECT_EQ(out.conflicts[0].winner, Side::kExternal);
  EXPECT_EQ(out.conflicts[1].field, "a");
  EXPECT_EQ(out.conflicts[1].winner, Side::kGhl);
  EXPECT_EQ(out.to_ghl, (Fields{{"b", S("eb")}, {"c", S("ec")}}));
  EXPECT_EQ(out.to_external, (Fields{{"a", S("ga")}}));
}

TEST(Merge, NothingChangedMeansNoWrites) {
  const Fields same{{"email", S("a@x.io")}, {"tags", L({"b", "a"})}};
  const Fields reordered{{"email", S("a@x.io")}, {"tags", L({"a", "b"})}};
  const MergeResult out =
      Merge({.fields = {{"email"}, {"tags"}}, .base = &same, .ghl = &reordered, .external = &same});
  EXPECT_FALSE(out.changed());
  EXPECT_EQ(out.new_base, same);
}

TEST(Merge, RulesOfFollowsTheMappingsFieldOrder) {
  mapping::SyncSpec spec;
  spec.fields.resize(3);
  spec.fields[0].ghl = "email";
  spec.fields[0].external = "mail";
  spec.fields[1].ghl = "customFields.tier";
  spec.fields[1].direction = Direction::kFromGhl;
  spec.fields[2].ghl = "firstName";
  spec.fields[2].direction = Direction::kToGhl;
  spec.fields[2].owner = Side::kExternal;
  const std::vector<FieldRule> rules = RulesOf(spec);
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].name, "email");
  EXPECT_EQ(rules[0].direction, Direction::kBoth);
  EXPECT_FALSE(rules[0].owner.has_value());
  EXPECT_EQ(rules[1].name, "customFields.tier");
  EXPECT_EQ(rules[1].direction, Direction::kFromGhl);
  EXPECT_EQ(rules[2].name, "firstName");
  EXPECT_EQ(rules[2].direction, Direction::kToGhl);
  EXPECT_EQ(rules[2].owner, Side::kExternal);
}

TEST(Merge, ReferencesMergeAsFieldsInTheSyncsDirection) {
  mapping::SyncSpec spec;
  spec.direction = Direction::kToGhl;
  spec.fields.resize(1);
  spec.fields[0].ghl = "name";
  spec.references.push_back({"contactId", "customer_no", "contacts"});
  const std::vector<FieldRule> rules = RulesOf(spec);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[1].name, "contactId");
  EXPECT_EQ(rules[1].direction, Direction::kToGhl);
  const Fields base{{"contactId", S("g-1")}};
  const Fields ext{{"contactId", S("g-2")}};
  const MergeResult out = Merge({.fields = rules, .base = &base, .ghl = &base, .external = &ext});
  EXPECT_EQ(out.to_ghl.at("contactId"), S("g-2")) << "a changed reference flows like a field";
}

}  // namespace
}  // namespace ghl::sync
