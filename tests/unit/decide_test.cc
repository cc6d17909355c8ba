// The pure decider (sync/decide.h): one table row per rule (creates, updates, conflicts
// under each policy, deletes under each policy and direction, stale records, echoes, a
// one-sided link that sees the other side, mapping errors, references that wait); then
// properties over seeded random inputs: the same input gives the same output, no write
// goes against a field's direction, and applying the decided writes converges in one step.
#include "sync/decide.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace ghl::sync {
namespace {

using ghl_client::Lane;
using mapping::Direction;
using mapping::ToJson;

Value S(const char* s) { return Value{std::string(s)}; }

const char* ActionName(Decision::Action a) {
  switch (a) {
    case Decision::Action::kCreate:
      return "create";
    case Decision::Action::kUpdate:
      return "update";
    case Decision::Action::kDelete:
      return "delete";
    case Decision::Action::kConflict:
      return "conflict";
    case Decision::Action::kLink:
      return "link";
    case Decision::Action::kSkip:
      return "skip";
    case Decision::Action::kError:
      return "error";
  }
  return "?";
}

// Four fields, one per direction: firstName and email both ways, companyName to GHL only,
// lastName from GHL only. `head`: the sync's own keys (direction, conflict, deletes, ...).
std::shared_ptr<const mapping::Mapping> Compile(const std::string& head, bool field_directions) {
  std::string yaml =
      "object: contacts\nexternal: {connector: crm_csv, file: contacts.csv}\n" + head;
  if (head.find("deletes: soft") != std::string::npos) {
    yaml += "soft_delete: {tag: deleted, column: is_deleted}\n";
  }
  // With `conflict: owner`, firstName belongs to the external side and email to GHL.
  const bool owners = head.find("conflict: owner") != std::string::npos;
  yaml += std::string("fields:\n") + "  - {ghl: firstName, external: first_name" +
          (owners ? ", owner: external" : "") + "}\n" + "  - {ghl: email, external: email" +
          (owners ? ", owner: ghl" : "") + "}\n";
  if (field_directions) {
    yaml +=
        "  - {ghl: companyName, external: company, direction: to_ghl}\n"
        "  - {ghl: lastName, external: last_name, direction: from_ghl}\n";
  }
  config::Diagnostics errors;
  auto mapping = mapping::Mapping::Compile({"sync.yaml", "people", YAML::Load(yaml)}, errors);
  if (!mapping) throw std::runtime_error(config::Join(errors) + "\n" + yaml);
  return mapping;
}

// The JSON text of member `name` of a job's payload ("" when it has none).
std::string Field(const std::string& payload, const std::string& name) {
  const std::string tag = "\"" + name + "\":";
  auto at = payload.find(tag);
  if (at == std::string::npos) return "";
  at += tag.size();
  int depth = 0;
  size_t end = at;
  for (bool quoted = false; end < payload.size(); ++end) {
    const char c = payload[end];
    if (quoted) {
      if (c == '\\') ++end;
      if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (depth == 0) break;
      --depth;
    }
    if (c == ',' && depth == 0) break;
  }
  return payload.substr(at, end - at);
}

// What a decision amounts to, in one line: decisions (action, target, written values,
// note), then jobs, conflicts, dead letters, deletes, wait and echo.
std::string Summary(const Decided& d) {
  std::string out;
  for (const auto& dec : d.decisions) {
    out += out.empty() ? "" : "; ";
    out += ActionName(dec.action);
    if (!dec.target.empty()) out += " " + dec.target;
    for (const auto& [field, change] : dec.diff) out += " " + field + "=" + ToJson(change.second);
    if (!dec.note.empty()) out += " (" + dec.note + ")";
  }
  if (!d.jobs.empty()) {
    out += " | jobs:";
    for (const auto& j : d.jobs) out += std::string(" ") + ToString(j.target) + " " + j.op;
  }
  if (!d.conflicts.empty()) {
    out += " | conflicts:";
    for (const auto& c : d.conflicts) out += " " + c.field + "->" + c.winner;
  }
  if (!d.dead_letters.empty()) {
    out += " | dlq:";
    for (const auto& [job, error] : d.dead_letters) {
      out += std::string(" ") + ToString(job.target) + " " + job.op;
    }
  }
  if (d.deletes > 0) out += " | deletes: " + std::to_string(d.deletes);
  if (!d.wait.empty()) out += " | wait";
  if (d.echo_suppressed) out += " | echo";
  return out;
}

// Builds inputs: a world with link 7, GHL record g1 and external row r1.
struct World {
  std::shared_ptr<const mapping::Mapping> mapping;
  std::vector<FieldRule> rules;
  EchoLedger ledger;
  DecideInput in;

  explicit World(std::shared_ptr<const mapping::Mapping> m) : mapping(std::move(m)) {
    rules = RulesOf(mapping->spec());
    in.mapping = mapping.get();
    in.rules = &rules;
    in.location = "loc";
    in.now_ms = 1'000'000;
    in.ext_source = "contacts.csv";
    in.ledger = &ledger;
  }
  World& Link(Fields base, bool ghl = true, bool ext = true, int64_t version_ms = 100) {
    sync::Link l;
    l.id = 7;
    l.sync = "people";
    l.location = "loc";
    if (ghl) l.ghl_id = "g1";
    if (ext) l.ext_key = "r1";
    l.base = std::move(base);
    l.ghl_version = "t" + std::to_string(version_ms);
    l.ext_version = "v1";
    in.link = std::move(l);
    in.link_version_ms = version_ms;
    return *this;
  }
  World& Ghl(Fields fields, int64_t updated_ms = 200) {
    in.ghl = GhlSeen{"g1", "t" + std::to_string(updated_ms), updated_ms, std::move(fields)};
    return *this;
  }
  World& Ext(Fields canonical, int64_t updated_ms = 0) {
    ExtSeen e;
    e.key = "r1";
    e.version = "v2";
    e.updated_ms = updated_ms;
    e.row = {{"first_name", S("raw")}};
    e.canonical = std::move(canonical);
    in.ext = std::move(e);
    return *this;
  }
};

const char* kBoth = "key: customer_id\ndirection: both\nconflict: newest\ndeletes: propagate\n";

struct Case {
  const char* name;
  std::string head;  // the sync's keys
  std::function<void(World&)> setup;
  std::string expect;  // Summary
};

const Fields kAnn{{"firstName", S("Ann")}, {"email", S("a@x")}};

std::vector<Case> Cases() {
  return {
      {"new row: created in GHL", kBoth,
       [](World& w) {
         w.Ext({{"firstName", S("Ann")}, {"email", S("a@x")}, {"companyName", S("Co")}});
       },
       R"(create ghl companyName="Co" email="a@x" firstName="Ann" | jobs: ghl upsert)"},
      {"new GHL record: created outside, lastName from GHL, companyName not", kBoth,
       [](World& w) {
         w.Ghl({{"firstName", S("Ann")},
                {"email", S("a@x")},
                {"companyName", S("Co")},
                {"lastName", S("Lee")}});
       },
       R"(create external email="a@x" firstName="Ann" lastName="Lee" | jobs: external upsert)"},
      {"changed in GHL: flows outside", kBoth,
       [](World& w) {
         w.Link(kAnn).Ghl({{"firstName", S("Bob")}, {"email", S("a@x")}}).Ext(kAnn);
       },
       R"(update external firstName="Bob" | jobs: external upsert)"},
      {"changed outside: flows to GHL", kBoth,
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn).Ext({{"firstName", S("Ann")}, {"email", S("b@x")}});
       },
       R"(update ghl email="b@x" | jobs: ghl upsert)"},
      {"nothing changed", kBoth, [](World& w) { w.Link(kAnn).Ghl(kAnn).Ext(kAnn); },
       "skip (no field changed)"},
      {"first sight of both sides, same values: linked", kBoth,
       [](World& w) { w.Ghl(kAnn).Ext(kAnn); }, "link (linked (same values on both sides))"},
      {"conflict, ghl_wins", "key: customer_id\nconflict: ghl_wins\n",
       [](World& w) {
         w.Link(kAnn)
             .Ghl({{"firstName", S("G")}, {"email", S("a@x")}}, 100)
             .Ext({{"firstName", S("E")}, {"email", S("a@x")}}, 900);
       },
       R"(update external firstName="G" | jobs: external upsert | conflicts: firstName->ghl)"},
      {"conflict, external_wins", "key: customer_id\nconflict: external_wins\n",
       [](World& w) {
         w.Link(kAnn)
             .Ghl({{"firstName", S("G")}, {"email", S("a@x")}}, 900)
             .Ext({{"firstName", S("E")}, {"email", S("a@x")}}, 100);
       },
       R"(update ghl firstName="E" (after a conflict) | jobs: ghl upsert | conflicts: firstName->external)"},
      {"conflict, newest: the newer external side", kBoth,
       [](World& w) {
         w.Link(kAnn)
             .Ghl({{"firstName", S("G")}, {"email", S("a@x")}}, 200)
             .Ext({{"firstName", S("E")}, {"email", S("a@x")}}, 300);
       },
       R"(update ghl firstName="E" (after a conflict) | jobs: ghl upsert | conflicts: firstName->external)"},
      {"conflict, newest: the newer GHL side", kBoth,
       [](World& w) {
         w.Link(kAnn)
             .Ghl({{"firstName", S("G")}, {"email", S("a@x")}}, 300)
             .Ext({{"firstName", S("E")}, {"email", S("a@x")}}, 200);
       },
       R"(update external firstName="G" | jobs: external upsert | conflicts: firstName->ghl)"},
      {"conflict, owner: the field's owner (external) wins", "key: customer_id\nconflict: owner\n",
       [](World& w) {
         w.Link(kAnn)
             .Ghl({{"firstName", S("G")}, {"email", S("g@x")}}, 300)
             .Ext({{"firstName", S("E")}, {"email", S("e@x")}}, 200);
       },
       R"(update ghl firstName="E" (after a conflict); update external email="g@x" | jobs: ghl )"
       R"(upsert external upsert | conflicts: firstName->external email->ghl)"},
      {"delete outside, propagate: deleted in GHL", kBoth,
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn);
         w.in.ext_deleted = true;
       },
       "delete ghl | jobs: ghl delete | deletes: 1"},
      {"delete in GHL, propagate: the row deleted", kBoth,
       [](World& w) {
         w.Link(kAnn).Ext(kAnn);
         w.in.ghl_deleted = true;
       },
       "delete external | jobs: external delete | deletes: 1"},
      {"row soft-deleted, soft: tagged in GHL", "key: customer_id\ndeletes: soft\n",
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn).Ext(kAnn);
         w.in.ext->deleted = true;
       },
       "delete ghl (soft delete: tag deleted) | jobs: ghl tag | deletes: 1"},
      {"delete in GHL, soft: the flag column set", "key: customer_id\ndeletes: soft\n",
       [](World& w) {
         w.Link(kAnn).Ext(kAnn);
         w.in.ghl_deleted = true;
       },
       "delete external (soft delete: is_deleted = true) | jobs: external upsert | deletes: 1"},
      {"delete, ignore: the pair is no longer synced", "key: customer_id\ndeletes: ignore\n",
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn);
         w.in.ext_deleted = true;
       },
       "skip (deleted on one side; deletes: ignore (the pair is no longer synced))"},
      {"delete in GHL, sync to_ghl: not carried outside",
       "key: customer_id\ndirection: to_ghl\ndeletes: propagate\n",
       [](World& w) {
         w.Link(kAnn).Ext(kAnn);
         w.in.ghl_deleted = true;
       },
       "skip (deleted on one side; deletes: ignore (the pair is no longer synced))"},
      {"delete outside, sync from_ghl: not carried to GHL",
       "key: customer_id\ndirection: from_ghl\ndeletes: propagate\n",
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn);
         w.in.ext_deleted = true;
       },
       "skip (deleted on one side; deletes: ignore (the pair is no longer synced))"},
      {"row soft-deleted, sync from_ghl: not tagged in GHL",
       "key: customer_id\ndirection: from_ghl\ndeletes: soft\n",
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn).Ext(kAnn);
         w.in.ext->deleted = true;
       },
       "skip (deleted on one side; deletes: ignore (the pair is no longer synced))"},
      {"a tombstone decides nothing", kBoth,
       [](World& w) {
         w.Link(kAnn).Ghl({{"firstName", S("Bob")}, {"email", S("a@x")}});
         w.in.link->deleted = true;
       },
       ""},
      {"stale GHL record (older than the link knows): nothing new", kBoth,
       [](World& w) {
         w.Link(kAnn, true, true, 500).Ghl({{"firstName", S("Old")}, {"email", S("a@x")}}, 400);
         w.Ext(kAnn);
       },
       "skip (no field changed)"},
      {"echo of our earlier write (not newer than our last write): suppressed", kBoth,
       [](World& w) {
         w.ledger.Remember(7, {{"firstName", S("Bob")}}, 999'000, 300);
         w.ledger.Remember(7, {{"firstName", S("Cat")}}, 999'500, 350);
         w.Link({{"firstName", S("Cat")}, {"email", S("a@x")}}, true, true, 350)
             .Ghl({{"firstName", S("Bob")}, {"email", S("a@x")}}, 350)
             .Ext({{"firstName", S("Cat")}, {"email", S("a@x")}});
       },
       "skip (no field changed) | echo"},
      {"a user's revert after our last write: flows", kBoth,
       [](World& w) {
         w.ledger.Remember(7, {{"firstName", S("Bob")}}, 999'000, 300);
         w.ledger.Remember(7, {{"firstName", S("Cat")}}, 999'500, 350);
         w.Link({{"firstName", S("Cat")}, {"email", S("a@x")}}, true, true, 350)
             .Ghl({{"firstName", S("Bob")}, {"email", S("a@x")}}, 360)
             .Ext({{"firstName", S("Cat")}, {"email", S("a@x")}});
       },
       R"(update external firstName="Bob" | jobs: external upsert)"},
      {"one-sided link sees the other side: our create is the base there", kBoth,
       [](World& w) {
         w.Link(kAnn, true, false).Ghl(kAnn).Ext(kAnn);
         w.in.pending_create = kAnn;
       },
       "skip (no field changed)"},
      {"one-sided link sees the other side changed since the create: that flows", kBoth,
       [](World& w) {
         w.Link(kAnn, true, false).Ghl(kAnn).Ext({{"firstName", S("Bea")}, {"email", S("a@x")}});
         w.in.pending_create = kAnn;
       },
       R"(update ghl firstName="Bea" | jobs: ghl upsert)"},
      {"row that cannot be mapped: dead-letter queue", kBoth,
       [](World& w) {
         w.Link(kAnn).Ghl(kAnn).Ext(kAnn);
         w.in.ext->canonical.reset();
         w.in.ext->errors = {{"email", "required"}};
       },
       "error (mapping the external row failed: email: required) | dlq: ghl map"},
      {"row whose reference is not linked yet: waits", kBoth,
       [](World& w) {
         w.Ext(kAnn);
         w.in.ext->wait = "its contactId is not linked yet";
       },
       "skip (its contactId is not linked yet) | wait"},
  };
}

TEST(DecideTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    World w(Compile(c.head, c.head == kBoth));
    c.setup(w);
    EXPECT_EQ(Summary(Decide(w.in)), c.expect);
  }
}

// ---- the details a table row does not show ----

TEST(DecideTest, CreateOutsideTakesTheGhlIdAsKeyAndSaysWhy) {
  World w(Compile(kBoth, true));
  w.Ghl(kAnn);
  w.in.lane = Lane::kRealtime;
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(Field(d.jobs[0].payload, "key"), R"("g1")");
  EXPECT_EQ(Field(d.jobs[0].payload, "rule"), R"("created in GHL")");
  EXPECT_EQ(Field(d.jobs[0].payload, "external"), R"({"email":"a@x","first_name":"Ann"})");
  EXPECT_EQ(d.jobs[0].lane, static_cast<int>(Lane::kRealtime));
  EXPECT_TRUE(d.save);
  EXPECT_EQ(d.link.sync, "people");
  EXPECT_EQ(d.link.ghl_id, "g1");
  EXPECT_EQ(d.link.ghl_version, "t200");
  EXPECT_FALSE(d.link.ext_key.has_value());
}

TEST(DecideTest, CreateOutsideTakesTheMappedKeyColumnWhenGhlHasIt) {
  World w(Compile("key: email\n", false));
  w.Ghl(kAnn);
  w.in.lane = Lane::kBackfill;
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(Field(d.jobs[0].payload, "key"), R"("a@x")");
  EXPECT_EQ(Field(d.jobs[0].payload, "rule"), R"("backfill create")");
}

TEST(DecideTest, UpdatesCarryTheVersionAndTheTargetsValuesBefore) {
  World w(Compile(kBoth, true));
  w.Link(kAnn).Ghl({{"firstName", S("Bob")}, {"email", S("a@x")}}, 300).Ext(kAnn);
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].payload,
            R"({"canonical":{"firstName":"Bob"},"external":{"first_name":"Bob"},"key":"r1",)"
            R"("expect":"v2","before":{"firstName":"Ann"},"rule":"changed in GHL"})");
  // The written field settles in the base when its write succeeds; the others now.
  EXPECT_EQ(ToJson(d.link.base),
            R"({"companyName":null,"email":"a@x","firstName":"Ann","lastName":null})");
  EXPECT_EQ(d.link.ghl_version, "t300");
}

TEST(DecideTest, StaleRecordKeepsTheNewerVersion) {
  World w(Compile(kBoth, true));
  w.Link(kAnn, true, true, 500).Ghl({{"firstName", S("Old")}, {"email", S("a@x")}}, 400).Ext(kAnn);
  EXPECT_EQ(Decide(w.in).link.ghl_version, "t500");
}

TEST(DecideTest, ConflictIsRecordedAndLogged) {
  World w(Compile(kBoth, true));
  w.Link(kAnn)
      .Ghl({{"firstName", S("G")}, {"email", S("a@x")}}, 200)
      .Ext({{"firstName", S("E")}, {"email", S("a@x")}}, 300);
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.conflicts.size(), 1u);
  EXPECT_EQ(d.conflicts[0].sync, "people");
  EXPECT_EQ(d.conflicts[0].base_json, R"("Ann")");
  EXPECT_EQ(d.conflicts[0].at, w.in.now_ms);
  EXPECT_EQ(Field(d.jobs[0].payload, "rule"), R"("conflict: newest")");
  ASSERT_EQ(d.logs.size(), 1u);
  EXPECT_EQ(d.logs[0].text,
            "conflict on g1 field firstName: GHL G vs external E; external wins (newest)");
}

TEST(DecideTest, DeleteOutsideCompareAndSetsTheRowAsSeen) {
  World w(Compile(kBoth, true));
  w.Link(kAnn).Ext(kAnn);
  w.in.ghl_deleted = true;
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.jobs.size(), 1u);
  EXPECT_EQ(d.jobs[0].payload,
            R"({"canonical":{},"key":"r1","expect":"v2","rule":"deleted in GHL"})");
  EXPECT_TRUE(d.link.deleted);
  EXPECT_TRUE(d.save);
}

TEST(DecideTest, DeleteOfARecordNeverLinkedSavesNothing) {
  World w(Compile(kBoth, true));
  w.Ghl(kAnn);
  w.in.ghl_deleted = true;
  const Decided d = Decide(w.in);
  EXPECT_FALSE(d.save);
  EXPECT_TRUE(d.jobs.empty());
}

TEST(DecideTest, UnmappableRowKeepsTheRowAndIsLogged) {
  World w(Compile(kBoth, true));
  w.Ext(kAnn);
  w.in.ext->canonical.reset();
  w.in.ext->errors = {{"email", "required"}};
  const Decided d = Decide(w.in);
  ASSERT_EQ(d.dead_letters.size(), 1u);
  EXPECT_EQ(Field(d.dead_letters[0].first.payload, "external"), R"({"first_name":"raw"})");
  EXPECT_EQ(d.dead_letters[0].second, "mapping the external row failed: email: required");
  EXPECT_TRUE(d.save);
  EXPECT_EQ(d.link.ext_key, "r1");
  ASSERT_EQ(d.logs.size(), 1u);
  EXPECT_EQ(d.logs[0].level, DecideLog::Level::kWarn);
  EXPECT_EQ(d.logs[0].text,
            "contacts.csv r1: mapping the external row failed: email: required; sent to the "
            "dead-letter queue");
}

// ---- outgoing references ----

std::shared_ptr<const mapping::Mapping> Deals() {
  config::Diagnostics errors;
  auto m = mapping::Mapping::Compile(
      {"deals.yaml", "deals",
       YAML::Load("object: opportunities\nexternal: {connector: x}\nkey: id\nfields:\n"
                  "  - {ghl: name, external: title}\nreferences:\n"
                  "  - {ghl: contactId, external: customer, sync: contacts}\n")},
      errors);
  if (!m) throw std::runtime_error(config::Join(errors));
  return m;
}

TEST(DecideTest, OutgoingReferenceGoesOutAsTheOtherSyncsKey) {
  World w(Deals());
  w.Ghl({{"name", S("Deal")}, {"contactId", S("c1")}});
  w.in.outgoing = {{"contactId", S("c1"), S("C-9"), "", ""}};
  const Decided d = Decide(w.in);
  EXPECT_EQ(Summary(d), R"(create external contactId="c1" name="Deal" | jobs: external upsert)");
  EXPECT_EQ(Field(d.jobs[0].payload, "external"), R"({"customer":"C-9","title":"Deal"})");
}

TEST(DecideTest, OutgoingReferenceNotLinkedYetWaits) {
  World w(Deals());
  w.Ghl({{"name", S("Deal")}, {"contactId", S("c1")}});
  w.in.outgoing = {{"contactId", S("c1"), Value{}, "its contactId is not linked yet", ""}};
  EXPECT_EQ(Summary(Decide(w.in)), "skip (its contactId is not linked yet) | wait");
  w.in.outgoing.clear();  // not resolved at all: waits too
  EXPECT_EQ(Decide(w.in).wait, "its contactId (c1) was not resolved; it waits for the next pass");
}

TEST(DecideTest, OutgoingReferenceGhlCannotNameIsAMappingError) {
  World w(Deals());
  w.Ghl({{"name", S("Deal")}, {"contactId", S("c1")}});
  w.in.outgoing = {{"contactId", S("c1"), Value{}, "", "no such contact"}};
  EXPECT_EQ(
      Summary(Decide(w.in)),
      "error (mapping the GHL record failed: contactId: no such contact) | dlq: external map");
}

TEST(DecideTest, ReferenceNotWrittenOutsideNeitherWaitsNorFails) {
  World w(Deals());
  const Fields base{{"name", S("Deal")}, {"contactId", S("c1")}};
  w.Link(base).Ghl({{"name", S("Deal 2")}, {"contactId", S("c1")}}).Ext(base);
  w.in.outgoing = {{"contactId", S("c1"), Value{}, "its contactId is not linked yet", ""}};
  EXPECT_EQ(Summary(Decide(w.in)), R"(update external name="Deal 2" | jobs: external upsert)");
}

// ---- properties over random inputs ----

const char* const kFields[] = {"firstName", "email", "companyName", "lastName"};

// A random input: a sync (direction, policy), a link in any state, the sides it implies.
struct Random {
  std::mt19937_64 rng{20261207};
  int Pick(int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }
  Value Val() {
    const int v = Pick(4);
    return v == 0 ? Value{} : Value{std::string(1, static_cast<char>('a' + v - 1))};
  }
  Fields Record(bool external) {
    Fields f;
    for (const char* name : kFields) {
      // The external side maps only the fields that flow to GHL (Mapping::ToCanonical).
      if (external && std::string(name) == "lastName") continue;
      f[name] = Val();
    }
    return f;
  }
};

std::string Head(Random& r) {
  static const char* const kDirections[] = {"both", "to_ghl", "from_ghl"};
  static const char* const kPolicies[] = {"ghl_wins", "external_wins", "newest"};
  static const char* const kDeletes[] = {"propagate", "soft", "ignore"};
  return std::string("key: customer_id\ndirection: ") + kDirections[r.Pick(3)] +
         "\nconflict: " + kPolicies[r.Pick(3)] + "\ndeletes: " + kDeletes[r.Pick(3)] + "\n";
}

// Fills `w` with a random record: link state, sides, times, perhaps a delete.
void RandomInput(Random& r, World& w, bool deletes) {
  const int state = r.Pick(4);  // 0 none, 1 GHL only, 2 external only, 3 paired
  const bool linked_ghl = state == 1 || state == 3, linked_ext = state == 2 || state == 3;
  if (state != 0) w.Link(r.Record(false), linked_ghl, linked_ext, 100);
  bool ghl = linked_ghl || r.Pick(2) == 0, ext = linked_ext || r.Pick(2) == 0;
  if (!ghl && !ext) ghl = true;
  if (ghl) w.Ghl(r.Record(false), 100 + r.Pick(3) * 100);
  if (ext) w.Ext(r.Record(true), r.Pick(3) * 150);
  if (state != 0 && !(linked_ghl && linked_ext) && ghl && ext && r.Pick(2) == 0) {
    w.in.pending_create = r.Record(linked_ghl);
  }
  if (deletes && state != 0 && r.Pick(5) == 0) {
    (r.Pick(2) == 0 ? w.in.ghl_deleted : w.in.ext_deleted) = true;
  }
}

std::shared_ptr<const mapping::Mapping> CompileHead(const std::string& head) {
  return Compile(head, head.find("direction: both") != std::string::npos);
}

TEST(DecidePropertyTest, SameInputSameOutput) {
  Random r;
  for (int i = 0; i < 500; ++i) {
    World w(CompileHead(Head(r)));
    RandomInput(r, w, true);
    const Decided a = Decide(w.in), b = Decide(w.in);
    ASSERT_EQ(Summary(a), Summary(b)) << i;
    ASSERT_EQ(a.jobs.size(), b.jobs.size());
    for (size_t j = 0; j < a.jobs.size(); ++j) ASSERT_EQ(a.jobs[j].payload, b.jobs[j].payload);
    ASSERT_EQ(ToJson(a.link.base), ToJson(b.link.base));
  }
}

TEST(DecidePropertyTest, NoWriteAgainstADirection) {
  Random r;
  for (int i = 0; i < 500; ++i) {
    World w(CompileHead(Head(r)));
    RandomInput(r, w, true);
    const Decided d = Decide(w.in);
    const Direction sync = w.mapping->spec().direction;
    for (const Job& job : d.jobs) {
      EXPECT_NE(sync, job.target == Target::kGhl ? Direction::kFromGhl : Direction::kToGhl)
          << i << ": " << Summary(d);
    }
    for (const Decision& dec : d.decisions) {
      for (const auto& [field, change] : dec.diff) {
        for (const FieldRule& rule : w.rules) {
          if (rule.name != field) continue;
          EXPECT_NE(rule.direction, dec.target == "ghl" ? Direction::kFromGhl : Direction::kToGhl)
              << i << ": " << field << " in " << Summary(d);
        }
      }
    }
  }
}

// The dispatcher's part, as a model: each write lands on its side (a create makes the
// record there), its values go into the base, a create gives the link its id; the GHL
// record is then newer than the link knows.
void Apply(World& w, const Decided& d) {
  std::optional<Fields> ghl, ext;
  if (w.in.ghl) ghl = w.in.ghl->fields;
  if (w.in.ext) ext = *w.in.ext->canonical;
  Link link = d.link;
  for (const Decision& dec : d.decisions) {
    std::optional<Fields>& side = dec.target == "ghl" ? ghl : ext;
    for (const auto& [field, change] : dec.diff) {
      if (!side) side.emplace();
      (*side)[field] = change.second;
      link.base[field] = change.second;
    }
    if (dec.target == "ghl" && !link.ghl_id) link.ghl_id = "g1";
    if (dec.target == "external" && !link.ext_key) link.ext_key = "r1";
  }
  if (link.id == 0) link.id = 7;
  w.in.link = link;
  w.in.link_version_ms = 100;
  w.in.pending_create.reset();
  w.in.ghl.reset();
  w.in.ext.reset();
  if (ghl) w.Ghl(*ghl, 1000);
  if (ext) {
    ext->erase("lastName");  // not read from outside (Mapping::ToCanonical)
    w.Ext(*ext, 0);
  }
}

TEST(DecidePropertyTest, ApplyingTheWritesConvergesInOneStep) {
  Random r;
  int wrote = 0;
  for (int i = 0; i < 1000; ++i) {
    World w(CompileHead(Head(r)));
    RandomInput(r, w, false);
    const Decided first = Decide(w.in);
    ASSERT_TRUE(first.wait.empty() && first.dead_letters.empty()) << Summary(first);
    wrote += first.jobs.empty() ? 0 : 1;
    Apply(w, first);
    const Decided second = Decide(w.in);
    EXPECT_TRUE(second.jobs.empty() && second.conflicts.empty())
        << i << ": first " << Summary(first) << "\nthen " << Summary(second);
  }
  EXPECT_GT(wrote, 500);
}

}  // namespace
}  // namespace ghl::sync
