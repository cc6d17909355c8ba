// Two-way sync of contacts between ghl-emulator and a CSV file, as a user runs it: the
// real daemon, real webhooks (signed, delayed, reordered by the emulator), a real file.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <array>
#include <fstream>
#include <regex>

#include "emulator/webhook_signer.h"
#include "state/migrations.h"
#include "state/sqlite.h"
#include "sync/store.h"
#include "tests/support/sync_harness.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::CsvRow;
using testing::GhlContact;
using testing::SyncHarness;

const std::string kHeader = "id,first_name,last_name,email,tags\n";

// The GHL contact with this email, or an empty map.
GhlContact ByEmail(const std::map<std::string, GhlContact>& ghl, const std::string& email,
                   std::string* id = nullptr) {
  for (const auto& [cid, c] : ghl) {
    if (c.at("email") == email) {
      if (id != nullptr) *id = cid;
      return c;
    }
  }
  return {};
}

// The GHL id of the contact with `email` once the sync has created it ("" if it never is).
std::string GhlIdOnceCreated(SyncHarness& h, const std::string& email) {
  std::string id;
  SyncHarness::Eventually([&] {
    ByEmail(h.Ghl(), email, &id);
    return !id.empty();
  });
  return id;
}

int CountEmail(const std::map<std::string, GhlContact>& ghl, const std::string& email) {
  int n = 0;
  for (const auto& [id, c] : ghl) n += c.at("email") == email ? 1 : 0;
  return n;
}

const CsvRow* RowByEmail(const std::map<std::string, CsvRow>& csv, const std::string& email) {
  for (const auto& [key, row] : csv) {
    if (row.count("email") && row.at("email") == email) return &row;
  }
  return nullptr;
}

// The CSV file with `rows` (as SyncHarness::Csv reads them), in the harness's columns.
std::string CsvText(const std::map<std::string, CsvRow>& rows) {
  std::string text = kHeader;
  for (const auto& [key, row] : rows) {
    text += key + "," + row.at("first_name") + "," + row.at("last_name") + "," + row.at("email") +
            "," + row.at("tags") + "\n";
  }
  return text;
}

const std::string kDealsHeader = "id,title,status,pipeline_id,stage_id,customer\n";

// mappings/deals.yaml: opportunities <-> data/deals.csv (kDealsHeader), each naming its
// contact by the contacts sync's key.
void WriteDealsMapping(SyncHarness& h) {
  h.dir().Write("mappings/deals.yaml", R"(object: opportunities
external: {connector: crm, file: deals.csv}
key: id
poll_interval: 1s
fields:
  - {ghl: name, external: title}
  - {ghl: status, external: status}
  - {ghl: pipelineId, external: pipeline_id}
  - {ghl: pipelineStageId, external: stage_id}
references:
  - {ghl: contactId, external: customer, sync: contacts}
)");
}

class SyncCsvTest : public ::testing::Test {
 protected:
  SyncHarness h_{{"--no-rate-limit", "--search-lag-ms", "300"}};
};

// A location GHL refuses to serve (its token refused: paused) does not stop the pass: the
// other location is polled and the CSV scanned and written as ever.
TEST_F(SyncCsvTest, ALocationThatCannotBeReadDoesNotStopTheOthers) {
  ASSERT_EQ(
      h_.emu().Admin("POST", "/locations", R"({"id":"loc-refused","token":"pit-right"})").status,
      201);
  h_.SetWebhookUrl(false);  // polling only: the pass itself must go on
  h_.WriteConfig();
  const auto config = h_.dir() / "ghl-syncd.yaml";
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string first = std::string("      token: ") + SyncHarness::kToken + "\n";
  ASSERT_NE(text.find(first), std::string::npos);
  text.insert(text.find(first) + first.size(), "    - id: loc-refused\n      token: pit-wrong\n");
  std::ofstream(config) << text;
  h_.WriteCsv(kHeader + "c-1,Carol,Danvers,carol@example.com,\n");
  h_.CreateContact(R"("firstName":"Ada","lastName":"Lovelace","email":"ada@example.com")");
  auto d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return CountEmail(h_.Ghl(), "carol@example.com") == 1 &&
           RowByEmail(h_.Csv(), "ada@example.com") != nullptr;
  })) << d->Log();
  EXPECT_NE(d->Log().find("GHL location loc-refused not polled"), std::string::npos) << d->Log();
  EXPECT_EQ(d->Log().find("pit-wrong"), std::string::npos);
}

TEST_F(SyncCsvTest, BackfillLinksByEmailAndCreatesOnBothSidesWithoutDuplicates) {
  const std::string ada = h_.CreateContact(
      R"("firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","tags":["vip"])");
  const std::string bob =
      h_.CreateContact(R"("firstName":"Bob","lastName":"Builder","email":"bob@example.com")");
  h_.WriteConfig();
  // Ada is already in the CSV (same email, other case and spaces); Carol is only here.
  h_.WriteCsv(kHeader +
              "c-1,Ada,Lovelace, ADA@example.com ,vip\nc-2,Carol,Danvers,carol@example.com,\n");
  auto d = h_.StartDaemon();

  ASSERT_TRUE(SyncHarness::Eventually([&] {
    auto ghl = h_.Ghl();
    auto csv = h_.Csv();
    return ghl.size() == 3 && csv.size() == 3 && RowByEmail(csv, "bob@example.com") != nullptr;
  })) << d->Log();
  auto ghl = h_.Ghl();
  auto csv = h_.Csv();
  EXPECT_EQ(CountEmail(ghl, "ada@example.com"), 1) << "Ada was linked, not created twice";
  EXPECT_EQ(ByEmail(ghl, "carol@example.com")["firstName"], "Carol");
  EXPECT_EQ(ByEmail(ghl, "carol@example.com")["lastName"], "Danvers");
  const CsvRow* bob_row = RowByEmail(csv, "bob@example.com");
  ASSERT_NE(bob_row, nullptr);
  EXPECT_EQ(bob_row->at("first_name"), "Bob");
  EXPECT_EQ(bob_row->at("last_name"), "Builder");
  EXPECT_EQ(bob_row->at("id"), bob) << "a new row's key is the GHL id (repeatable after a crash)";
  EXPECT_TRUE(csv.count("c-1")) << "Ada's row kept its key";
  EXPECT_EQ(ByEmail(ghl, "ada@example.com", nullptr)["tags"], "vip");
  (void)ada;

  auto [code, out] = h_.Cli({"status"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("contacts"), std::string::npos) << out;
  EXPECT_NE(out.find("3 linked"), std::string::npos) << out;

  // --json: stdout is the JSON document alone (logs go to stderr), for jq and scripts.
  auto [jcode, json] =
      testing::RunToEnd({"/bin/sh", "-c",
                         std::string(GHL_BINARY_DIR) + "/ghl-syncd status --json --config " +
                             (h_.dir() / "ghl-syncd.yaml").string() + " 2>/dev/null"},
                        {}, h_.dir() / "status-json.log");
  EXPECT_EQ(jcode, 0) << json;
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("syncs")) << json;
  EXPECT_EQ(doc["syncs"][0]["links"].GetInt64(), 3) << json;
}

TEST_F(SyncCsvTest, EditsFlowBothWaysAndDoNotBounce) {
  const std::string bob =
      h_.CreateContact(R"("firstName":"Bob","lastName":"Builder","email":"bob@example.com")");
  h_.WriteConfig();
  h_.WriteCsv(kHeader + "c-2,Carol,Danvers,carol@example.com,\n");
  auto d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 2 && h_.Csv().size() == 2; }))
      << d->Log();

  // External edit -> GHL.
  auto csv = h_.Csv();
  std::string text = kHeader;
  for (const auto& [key, row] : csv) {
    const std::string first =
        row.at("email") == "carol@example.com" ? "Caroline" : row.at("first_name");
    text += key + "," + first + "," + row.at("last_name") + "," + row.at("email") + "," +
            row.at("tags") + "\n";
  }
  h_.WriteCsv(text);
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return ByEmail(h_.Ghl(), "carol@example.com")["firstName"] == "Caroline";
  })) << d->Log();

  // GHL edit (its webhook) -> CSV.
  h_.UpdateContact(bob, R"("lastName":"Marley","tags":["music","legend"])");
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    const auto csv = h_.Csv();
    const CsvRow* row = RowByEmail(csv, "bob@example.com");
    return row != nullptr && row->at("last_name") == "Marley";
  })) << d->Log();
  const auto csv_after = h_.Csv();
  const CsvRow* row = RowByEmail(csv_after, "bob@example.com");
  ASSERT_NE(row, nullptr);
  EXPECT_TRUE(row->at("tags") == "music;legend" || row->at("tags") == "legend;music")
      << row->at("tags");

  // The audit trail has both writes, with the values before and after and why.
  {
    // The JSON is the last line (the state store logs its opening before it).
    auto last_line = [](const std::string& text) {
      const size_t end = text.find_last_not_of('\n');
      if (end == std::string::npos) return std::string();
      const size_t newline = text.rfind('\n', end);
      const size_t begin = newline == std::string::npos ? 0 : newline + 1;
      return text.substr(begin, end + 1 - begin);
    };
    auto [code, out] = h_.Cli({"audit", "--sync", "contacts", "--json"});
    ASSERT_EQ(code, 0) << out;
    rapidjson::Document doc;
    doc.Parse(last_line(out).c_str());
    ASSERT_TRUE(doc.IsArray()) << out;
    auto text = [](const rapidjson::Value& obj, const char* field) -> std::string {
      auto it = obj.FindMember(field);
      return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
    };
    const rapidjson::Value* to_ghl = nullptr;
    const rapidjson::Value* to_ext = nullptr;
    const rapidjson::Value* created = nullptr;
    int64_t last_at = INT64_MAX;
    for (const auto& e : doc.GetArray()) {
      EXPECT_LE(e["at_ms"].GetInt64(), last_at) << "newest first: " << out;
      last_at = e["at_ms"].GetInt64();
      EXPECT_EQ(text(e, "sync"), "contacts");
      const std::string dir = text(e, "direction");
      if (dir == "to_ghl" && text(e, "action") == "update" &&
          text(e["after"], "firstName") == "Caroline") {
        to_ghl = &e;
      }
      if (dir == "to_external" && text(e["after"], "lastName") == "Marley") to_ext = &e;
      if (dir == "to_ghl" && text(e, "action") == "create" && text(e, "external_key") == "c-2") {
        created = &e;
      }
    }
    ASSERT_NE(to_ghl, nullptr) << out;
    EXPECT_EQ(text((*to_ghl)["before"], "firstName"), "Carol") << out;
    EXPECT_EQ(text(*to_ghl, "external_key"), "c-2") << out;
    EXPECT_FALSE(text(*to_ghl, "ghl_id").empty()) << out;
    EXPECT_EQ(text(*to_ghl, "rule"), "changed outside") << out;
    ASSERT_NE(to_ext, nullptr) << out;
    EXPECT_EQ(text(*to_ext, "action"), "update") << out;
    EXPECT_EQ(text((*to_ext)["before"], "lastName"), "Builder") << out;
    EXPECT_EQ(text(*to_ext, "ghl_id"), bob) << out;
    EXPECT_EQ(text(*to_ext, "rule"), "changed in GHL") << out;
    // The emulator answers a create with a traceId, as GHL does.
    ASSERT_NE(created, nullptr) << out;
    EXPECT_FALSE(text(*created, "trace_id").empty()) << out;
    EXPECT_FALSE(text(*created, "rule").empty()) << out;

    auto [code2, one] = h_.Cli({"audit", "--sync", "contacts", "--record", bob, "--json"});
    ASSERT_EQ(code2, 0) << one;
    rapidjson::Document only;
    only.Parse(last_line(one).c_str());
    ASSERT_TRUE(only.IsArray() && !only.Empty()) << one;
    for (const auto& e : only.GetArray()) EXPECT_EQ(text(e, "ghl_id"), bob) << one;
  }

  // Settled: further passes write nothing (no echo ping-pong).
  const std::string url = h_.MetricsUrl(*d);
  std::this_thread::sleep_for(3s);
  const double before =
      SyncHarness::Metric(testing::HttpRequest(url).body, "ghl_syncd_records_synced_total");
  std::this_thread::sleep_for(4s);  // four more passes
  const std::string metrics = testing::HttpRequest(url).body;
  EXPECT_EQ(SyncHarness::Metric(metrics, "ghl_syncd_records_synced_total"), before) << metrics;
  EXPECT_GE(before, 4) << metrics;
  // Every pass is timed (the scrape may fall between a pass's two updates).
  const double passes = SyncHarness::Metric(metrics, "ghl_syncd_sync_passes_total");
  EXPECT_GE(passes, 4) << metrics;
  EXPECT_NEAR(SyncHarness::Metric(metrics, "ghl_syncd_sync_pass_duration_seconds_count"), passes, 1)
      << metrics;
  EXPECT_GT(SyncHarness::Metric(metrics, "ghl_syncd_sync_pass_duration_seconds_sum"), 0) << metrics;
}

TEST_F(SyncCsvTest, StaleDelayedWebhookOfOwnWriteDoesNotRevertTheLaterValue) {
  h_.WriteConfig();
  h_.WriteCsv(kHeader + "c-1,Dan,One,dan@example.com,\n");
  auto d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 1; })) << d->Log();
  // Webhooks now arrive 3 s late and out of order.
  h_.Faults(R"({"webhookDelayMs":3000,"webhookReorder":true})");
  h_.WriteCsv(kHeader + "c-1,Dan,Two,dan@example.com,\n");
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return ByEmail(h_.Ghl(), "dan@example.com")["lastName"] == "Two";
  })) << d->Log();
  h_.WriteCsv(kHeader + "c-1,Dan,Three,dan@example.com,\n");
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return ByEmail(h_.Ghl(), "dan@example.com")["lastName"] == "Three";
  })) << d->Log();
  // The delayed webhooks of "Two" and "Three" arrive now; neither may change anything.
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(h_.Csv()["c-1"]["last_name"], "Three") << d->Log();
  EXPECT_EQ(ByEmail(h_.Ghl(), "dan@example.com")["lastName"], "Three");
}

// A crash after a write reached its target but before it was recorded leaves the job in the
// outbox. When a person edits that record afterwards, the restarted daemon must not write the
// job over the edit: the later edit wins, on both sides, in both directions.
TEST_F(SyncCsvTest, AWriteRepeatedAfterACrashDoesNotOverwriteALaterEdit) {
  const std::string eve =
      h_.CreateContact(R"("firstName":"Eve","lastName":"Before","email":"eve@example.com")");
  h_.WriteConfig();
  h_.WriteCsv(kHeader + "c-1,Carl,Before,carl@example.com,\n");
  auto d = h_.StartDaemon();
  std::string carl;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return h_.Csv().size() == 2 && !ByEmail(h_.Ghl(), "carl@example.com", &carl).empty();
  })) << d->Log();
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->Wait(20s).has_value());
  h_.SetWebhookUrl(false);

  // What the daemon decided just before the crash: Eve's GHL change (lastName Middle) for
  // the CSV, Carl's CSV change (firstName Mid) for GHL. Both written, neither recorded.
  h_.UpdateContact(eve, R"("lastName":"Middle")");
  {
    auto db = state::sqlite::Db::Open(h_.state_path(), 5s);
    ASSERT_TRUE(db.ok()) << db.error().message;
    sync::SyncStore store(**db);
    auto eve_link = store.LinkByGhlId("contacts", eve);
    auto carl_link = store.LinkByGhlId("contacts", carl);
    ASSERT_TRUE(eve_link.ok() && eve_link->has_value() && carl_link.ok() && carl_link->has_value());
    sync::Job job;
    job.sync = "contacts";
    job.op = "upsert";
    job.created_at = 1;
    job.link_id = (**eve_link).id;
    job.target = sync::Target::kExternal;
    // As the daemon writes them: what to write, and the target's version and values it was
    // decided on.
    job.payload =
        R"({"canonical":{"lastName":"Middle"},"external":{"last_name":"Middle"},"key":")" + eve +
        R"(","expect":")" + (**eve_link).ext_version + R"(","before":{"lastName":"Before"}})";
    job.idempotency_key = "decided-before-the-crash-1";
    auto id = store.Enqueue(job);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(store.MarkAttempt(*id, job.idempotency_key).ok());  // sent, then the crash
    job.link_id = (**carl_link).id;
    job.target = sync::Target::kGhl;
    job.payload = R"({"canonical":{"firstName":"Mid"},"key":"","expect":")" +
                  (**carl_link).ghl_version + R"(","before":{"firstName":"Carl"}})";
    job.idempotency_key = "decided-before-the-crash-2";
    id = store.Enqueue(job);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(store.MarkAttempt(*id, job.idempotency_key).ok());
  }
  auto rows = h_.Csv();
  ASSERT_EQ(rows.count(eve), 1u) << "Eve's row is keyed by her GHL id";
  rows[eve]["last_name"] = "Middle";
  rows["c-1"]["first_name"] = "Mid";
  h_.WriteCsv(CsvText(rows));
  h_.UpdateContact(carl, R"("firstName":"Mid")");
  // Then people edit both records, each on the side the write went to.
  rows[eve]["last_name"] = "After";
  h_.WriteCsv(CsvText(rows));
  h_.UpdateContact(carl, R"("firstName":"Late")");
  h_.SetWebhookUrl(true);

  d = h_.StartDaemon();
  auto settled = [&] {
    const auto ghl = h_.Ghl();
    const auto csv = h_.Csv();
    return ByEmail(ghl, "eve@example.com")["lastName"] == "After" &&
           csv.at(eve).at("last_name") == "After" &&
           ByEmail(ghl, "carl@example.com")["firstName"] == "Late" &&
           csv.at("c-1").at("first_name") == "Late";
  };
  ASSERT_TRUE(SyncHarness::Eventually(settled)) << d->Log();
  EXPECT_TRUE(d->WaitForLog("changed after this write was decided", 1s)) << d->Log();
  std::this_thread::sleep_for(3s);  // three more passes: nothing moves back
  EXPECT_TRUE(settled()) << d->Log();
  auto [code, dlq] = h_.Cli({"dlq", "list"});
  EXPECT_NE(dlq.find("empty"), std::string::npos) << dlq;
}

TEST_F(SyncCsvTest, ConflictingEditsAreSettledByPolicyAndRecorded) {
  h_.WriteConfig();
  // The harness's mapping says `conflict: newest`; this one wants ghl_wins.
  h_.dir().Write("mappings/contacts.yaml",
                 R"(object: contacts
external: {connector: crm, file: contacts.csv}
key: id
match: [email]
conflict: ghl_wins
poll_interval: 1s
fields:
)" + std::string(SyncHarness::kDefaultFields));
  h_.WriteCsv(kHeader + "c-1,Eve,Original,eve@example.com,\n");
  auto d = h_.StartDaemon();
  std::string id;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return !ByEmail(h_.Ghl(), "eve@example.com", &id).empty();
  })) << d->Log();
  // Stop the daemon, change both sides, start again: a true conflict.
  d->Signal(SIGTERM);
  ASSERT_TRUE(d->Wait(20s).has_value());
  h_.SetWebhookUrl(false);
  h_.UpdateContact(id, R"("lastName":"FromGhl")");
  h_.WriteCsv(kHeader + "c-1,Eve,FromCsv,eve@example.com,\n");
  h_.SetWebhookUrl(true);
  d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Csv()["c-1"]["last_name"] == "FromGhl"; }))
      << d->Log();
  EXPECT_EQ(ByEmail(h_.Ghl(), "eve@example.com")["lastName"], "FromGhl");
  EXPECT_TRUE(d->WaitForLog("conflict on", 5s)) << d->Log();
  EXPECT_GE(SyncHarness::Metric(testing::HttpRequest(h_.MetricsUrl(*d)).body,
                                "ghl_syncd_conflicts_total"),
            1);
}

// GHL's search lags (FACTS.md: "updates may take a few seconds to appear in search
// results"), so a first pass may not list a contact that GHL already has. A CSV row with
// the same email must then be linked to it and merged as a first link, never created over
// it: GHL's upsert would match the contact by email and write over its values. Here the
// search never catches up during the test, and the mapping says ghl_wins.
TEST(SyncFirstPassTest, AContactTheSearchDoesNotShowYetIsLinkedAndMergedNotOverwritten) {
  SyncHarness h({"--no-rate-limit", "--search-lag-ms", "600000"});
  h.WriteConfig("", "");
  h.dir().Write("mappings/contacts.yaml", R"(object: contacts
external: {connector: crm, file: contacts.csv}
key: id
match: [email]
conflict: ghl_wins
poll_interval: 1s
fields:
)" + std::string(SyncHarness::kDefaultFields));
  h.SetWebhookUrl(false);  // the pass alone: no webhook brings the contact either
  const std::string grace = h.CreateContact(
      R"("firstName":"Grace","lastName":"Hopper-GHL","email":"grace@example.com","tags":["navy"])");
  ASSERT_FALSE(grace.empty());
  h.WriteCsv(kHeader + "c-1,Grace,Hopper,Grace@Example.com,\nc-2,Alan,Turing,alan@example.com,\n");
  auto contact = [&](const std::string& id) {
    return testing::Json(h.emu().Admin("GET", "/user/contacts/" + id).body);
  };
  auto d = h.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    auto csv = h.Csv();
    return csv.count("c-1") && csv["c-1"]["last_name"] == "Hopper-GHL";
  })) << d->Log();
  auto g = contact(grace);
  ASSERT_TRUE(g.IsObject() && g.HasMember("contact")) << "Grace is still there";
  EXPECT_STREQ(g["contact"]["lastName"].GetString(), "Hopper-GHL")
      << "GHL's value was not overwritten by the create\n"
      << d->Log();
  EXPECT_EQ(h.Csv()["c-1"]["tags"], "navy") << "a field only GHL had reached the row";
  EXPECT_NE(d->Log().find("linked to it instead of creating one"), std::string::npos) << d->Log();
  EXPECT_TRUE(d->WaitForLog("conflict on", 5s)) << "the disagreement is recorded\n" << d->Log();
  // Alan, only in the CSV, is created in GHL as before; Grace's row keeps its key.
  rapidjson::Document dup;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    dup =
        testing::Json(h.emu()
                          .Admin("GET", std::string("/user/contacts/search/duplicate?locationId=") +
                                            SyncHarness::kLocation + "&email=alan%40example.com")
                          .body);
    return dup.IsObject() && dup.HasMember("contact") && dup["contact"].IsObject();
  })) << d->Log();
  EXPECT_EQ(h.Csv().size(), 2u) << "no second row for Grace";
}

TEST_F(SyncCsvTest, MassDeleteGuardHoldsAnEmptiedFileAndDeletesPropagateOtherwise) {
  h_.WriteConfig("deletes: propagate\ndelete_guard: {max_share: 40%, max_count: 100}\n");
  h_.WriteCsv(kHeader +
              "c-1,A,A,a@example.com,\nc-2,B,B,b@example.com,\nc-3,C,C,c@example.com,\n"
              "c-4,D,D,d@example.com,\n");
  auto d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 4; })) << d->Log();

  // A truncated export: only the header. Nothing may be deleted.
  h_.WriteCsv(kHeader);
  ASSERT_TRUE(d->WaitForLog("over the guard", 15s)) << d->Log();
  EXPECT_EQ(h_.Ghl().size(), 4u);

  // The export fixed, but for one real deletion: the rows back drop their held deletes by
  // themselves; the real one stays held until it is released.
  h_.WriteCsv(kHeader + "c-1,A,A,a@example.com,\nc-2,B,B,b@example.com,\nc-3,C,C,c@example.com,\n");
  std::string held;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    held = h_.Cli({"deletes", "list", "--sync", "contacts", "--json"}).second;
    return held.find("\"c-4\"") != std::string::npos && held.find("\"c-1\"") == std::string::npos;
  })) << held
      << d->Log();
  EXPECT_EQ(h_.Ghl().size(), 4u);
  auto [released_code, released] = h_.Cli({"deletes", "release", "--all"});
  ASSERT_EQ(released_code, 0) << released;
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 3; })) << d->Log();
  EXPECT_EQ(CountEmail(h_.Ghl(), "d@example.com"), 0);

  // And the other way: a contact deleted in GHL (webhook, then the poll) takes its row
  // with it. The delete is compare-and-set against the row as the pass read it, so this
  // also shows that an unchanged row is not taken for one edited since.
  std::string b;
  ByEmail(h_.Ghl(), "b@example.com", &b);
  ASSERT_FALSE(b.empty());
  auto removed = h_.emu().Admin("DELETE", "/user/contacts/" + b);
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(SyncHarness::Eventually([&] { return h_.Csv().count("c-2") == 0; }))
      << CsvText(h_.Csv()) << d->Log();
  EXPECT_EQ(h_.Csv().size(), 2u);
  EXPECT_EQ(d->Log().find("changed after its delete"), std::string::npos) << d->Log();
  // The audit trail keeps what was deleted, so it can be recreated by hand.
  auto [code, audit] = h_.Cli({"audit", "--sync", "contacts", "--record", "c-2", "--json"});
  EXPECT_EQ(code, 0) << audit;
  auto rows = testing::Json(audit.substr(audit.rfind("\n[") + 1));  // after the log lines
  ASSERT_TRUE(rows.IsArray() && rows.Size() > 0) << audit;
  const auto& last = rows[0];
  EXPECT_STREQ(last["action"].GetString(), "delete") << audit;
  EXPECT_STREQ(last["direction"].GetString(), "to_external") << audit;
  ASSERT_TRUE(last["before"].IsObject() && last["before"].HasMember("email")) << audit;
  EXPECT_STREQ(last["before"]["email"].GetString(), "b@example.com") << audit;
}

TEST_F(SyncCsvTest, BadRowsAreReportedAndDeadLetteredAndTheRestSyncs) {
  h_.WriteConfig("",
                 std::string(SyncHarness::kDefaultFields) +
                     "  - {ghl: phone, external: phone, transforms: [{phone: {region: US}}]}\n");
  h_.WriteCsv(
      "id,first_name,last_name,email,tags,phone\n"
      "c-1,Good,Row,good@example.com,,+1 415 555 0100\n"
      "c-2,Bad,Phone,bad@example.com,,not a phone\n"
      "c-3,\"Broken,quote,x@example.com,,\n");
  auto d = h_.StartDaemon();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 1; })) << d->Log();
  EXPECT_EQ(ByEmail(h_.Ghl(), "good@example.com")["phone"], "+14155550100");
  auto [code, out] = h_.Cli({"dlq", "list"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("phone"), std::string::npos) << out;
  EXPECT_TRUE(d->WaitForLog("row skipped", 5s)) << d->Log();

  // Fix the row: it syncs, and the DLQ entry can be dropped.
  h_.WriteCsv(
      "id,first_name,last_name,email,tags,phone\n"
      "c-1,Good,Row,good@example.com,,+1 415 555 0100\n"
      "c-2,Bad,Phone,bad@example.com,,+1 415 555 0199\n");
  ASSERT_TRUE(SyncHarness::Eventually([&] { return h_.Ghl().size() == 2; })) << d->Log();
  auto [c2, all] = h_.Cli({"dlq", "drop", "--all"});
  EXPECT_EQ(c2, 0) << all;
  auto [c3, empty] = h_.Cli({"dlq", "list"});
  EXPECT_NE(empty.find("empty"), std::string::npos) << empty;
}

// `check` asks GHL for the custom fields a mapping names: a key GHL does not have (renamed,
// deleted, mistyped) is an error at the mapping's line, before the daemon runs.
TEST_F(SyncCsvTest, CheckFindsACustomFieldKeyThatGhlDoesNotHave) {
  h_.WriteConfig("", std::string(SyncHarness::kDefaultFields) +
                         "  - {ghl: customFields.loyalty_tier, external: tier}\n");
  h_.CreateCustomField("Favourite Colour");
  auto [code, out] = h_.Cli({"check"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("contacts.yaml:14:5: fields: "), std::string::npos) << out;
  EXPECT_NE(out.find("custom field key 'loyalty_tier' does not exist for contacts in GHL "
                     "location loc-sync (it has: "),
            std::string::npos)
      << out;

  EXPECT_NE(out.find("favourite_colour"), std::string::npos) << out;

  h_.CreateCustomField("Loyalty Tier");
  auto [fixed, ok] = h_.Cli({"check"});
  EXPECT_EQ(fixed, 0) << ok;
  EXPECT_NE(ok.find(": OK"), std::string::npos) << ok;
}

// A webhook whose change can never be committed (its customFields is not a list, so the
// record cannot be read) waits on its own: the webhooks behind it are processed meanwhile,
// and after webhooks.max_attempts it is in the dead-letter queue, where an operator can
// see it, replay it and drop it. Before, it held up every webhook behind it for good.
TEST(SyncInboxTest, AWebhookThatKeepsFailingDoesNotHoldUpTheOthersAndEndsInTheDlq) {
  testing::TempDir keys;
  SyncHarness h({"--no-rate-limit", "--search-lag-ms", "300", "--keys-dir", keys.path().string()});
  auto signer = emulator::WebhookSigner::Create(keys.path().string());  // the emulator's keys
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  h.SetWebhooksExtra("  max_attempts: 3\n");
  h.WriteConfig("", std::string(SyncHarness::kDefaultFields) +
                        "  - {ghl: customFields.pincode, external: pincode}\n");
  const std::string header = "id,first_name,last_name,email,tags,pincode\n";
  h.WriteCsv(header + "a-1,Ann,Lee,ann@example.com,,4051\n");
  auto d = h.StartDaemon();
  const std::string ann = GhlIdOnceCreated(h, "ann@example.com");
  ASSERT_FALSE(ann.empty()) << d->Log();

  // Three of them back to back (one edit in GHL often sends several webhooks): three
  // failures in a row must not be taken for an outage that holds the inbox. A fourth names
  // a contact GHL does not have (deleted since, say): tried again, it is read from GHL and
  // found gone, so it is done, not created and not dead-lettered.
  for (const std::string n : {"1", "2", "3", "4"}) {
    const std::string record = n == "4" ? "gone-4" : ann;
    const std::string poison =
        std::string(R"({"type":"ContactUpdate","locationId":")") + SyncHarness::kLocation +
        R"(","id":")" + record + R"(","email":"p@example.com","customFields":"blue",)" +
        R"("timestamp":")" +
        state::FormatUtcIso8601(
            Clock::TimePoint(std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch()))) +
        R"(","webhookId":"poison-hook-)" + n + R"("})";
    auto posted = testing::HttpCall("POST", h.webhook_url(), poison,
                                    {"x-ghl-signature: " + (*signer)->SignEd25519(poison)});
    ASSERT_EQ(posted.status, 200) << posted.body;
  }
  ASSERT_TRUE(d->WaitForLog("customFields is not an array", 15s)) << d->Log();
  EXPECT_TRUE(d->WaitForLog("the webhooks behind it go on", 1s)) << d->Log();

  // A GHL user's edit right behind it: its webhook is processed, not held up.
  h.UpdateContact(ann, R"("firstName":"Annie")");
  auto inbox_state = [&](const std::string& needle) {
    auto db = state::sqlite::Db::Open(h.state_path(), 5s);
    if (!db.ok()) return std::string("no state file: ") + db.error().message;
    auto state = (*db)->QueryText("SELECT state FROM webhook_inbox WHERE instr(body, '" + needle +
                                  "') > 0 ORDER BY id DESC "
                                  "LIMIT 1");
    return state.ok() ? state.value() : state.error().message;
  };
  EXPECT_TRUE(SyncHarness::Eventually([&] { return inbox_state("Annie") == "done"; }, 15s))
      << inbox_state("Annie") << "\n"
      << d->Log();
  EXPECT_TRUE(SyncHarness::Eventually([&] {
    const auto csv = h.Csv();
    return csv.count("a-1") > 0 && csv.at("a-1").at("first_name") == "Annie";
  })) << d->Log();

  // Given up on after 3 attempts each: in the dead-letter queue, counted, and shown.
  auto gave_up = [&] { return d->CountInLog("gave up after 3"); };
  ASSERT_TRUE(SyncHarness::Eventually([&] { return gave_up() == 3; }, 30s)) << d->Log();
  EXPECT_EQ(inbox_state("poison-hook-1"), "failed");
  EXPECT_EQ(inbox_state("poison-hook-3"), "failed");
  EXPECT_TRUE(SyncHarness::Eventually([&] { return inbox_state("poison-hook-4") == "done"; }))
      << inbox_state("poison-hook-4") << "\n"
      << d->Log();
  EXPECT_TRUE(d->WaitForLog("webhook for GHL gone-4: the record is gone from GHL since", 1s))
      << d->Log();
  EXPECT_EQ(h.Csv().size(), 1u) << "nothing created for the contact GHL does not have";
  auto [code, list] = h.Cli({"dlq", "list"});
  EXPECT_EQ(code, 0) << list;
  std::smatch m;  // newest first: the third
  ASSERT_TRUE(std::regex_search(list, m, std::regex(R"((w[0-9]+) +ContactUpdate +3 )"))) << list;
  const std::string id = m[1].str();
  EXPECT_NE(list.find("customFields is not an array"), std::string::npos) << list;
  auto [shown, show] = h.Cli({"dlq", "show", id});
  EXPECT_EQ(shown, 0) << show;
  EXPECT_NE(show.find("poison-hook-3"), std::string::npos) << show;
  EXPECT_TRUE(SyncHarness::Eventually([&] {
    return SyncHarness::Metric(testing::HttpCall("GET", h.MetricsUrl(*d)).body,
                               "ghl_syncd_inbox_failed") == 3;
  })) << testing::HttpCall("GET", h.MetricsUrl(*d)).body;

  // Replayed: tried again (and given up on again, the cause being still there); dropped.
  auto [replayed, replay] = h.Cli({"dlq", "replay", id});
  EXPECT_EQ(replayed, 0) << replay;
  EXPECT_NE(replay.find("replayed 1 entry"), std::string::npos) << replay;
  EXPECT_TRUE(SyncHarness::Eventually([&] { return gave_up() == 4; }, 30s)) << d->Log();
  auto [dropped, drop] = h.Cli({"dlq", "drop", "--all"});
  EXPECT_EQ(dropped, 0) << drop;
  EXPECT_NE(drop.find("dropped 3 entries"), std::string::npos) << drop;
  auto [listed, empty] = h.Cli({"dlq", "list"});
  EXPECT_NE(empty.find("The dead-letter queue is empty."), std::string::npos) << empty;
  auto [bad, usage] = h.Cli({"dlq", "show", "x7"});
  EXPECT_EQ(bad, 64) << usage;
  EXPECT_NE(usage.find("is not an entry id"), std::string::npos) << usage;
}

// With a long poll_interval the last pass says nothing about now: a webhook that fails
// because the CSV file went away after it is not counted toward the dead-letter queue (the
// connector fails its health check), and goes through once the file is back.
TEST(SyncInboxTest, AnOutageAfterTheLastPassDoesNotCountTowardTheDlq) {
  SyncHarness h({"--no-rate-limit", "--search-lag-ms", "300"});
  h.SetWebhooksExtra("  max_attempts: 2\n");
  h.WriteConfig();
  const auto mapping = h.dir() / "mappings/contacts.yaml";
  std::ifstream in(mapping);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("poll_interval: 1s");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 17, "poll_interval: 1h");
  h.dir().Write("mappings/contacts.yaml", text);
  h.WriteCsv(kHeader + "a-1,Ann,Lee,ann@example.com,\n");
  auto d = h.StartDaemon();
  const std::string ann = GhlIdOnceCreated(h, "ann@example.com");
  ASSERT_FALSE(ann.empty()) << d->Log();
  // The create's result is recorded (its link has the GHL id) before the file goes.
  auto linked = [&] {
    auto db = state::sqlite::Db::Open(h.state_path(), 5s);
    if (!db.ok()) return false;
    auto n = (*db)->QueryInt64("SELECT count(*) FROM links WHERE ghl_id = '" + ann + "'");
    return n.ok() && n.value() == 1;
  };
  ASSERT_TRUE(SyncHarness::Eventually(linked)) << d->Log();

  const auto away = h.dir() / "contacts.csv.away";
  std::filesystem::rename(h.csv_path(), away);
  h.UpdateContact(ann, R"("firstName":"Annie")");
  ASSERT_TRUE(d->WaitForLog("not counted", 15s)) << d->Log();
  std::this_thread::sleep_for(3s);  // counted, two attempts would be over by now
  EXPECT_EQ(d->CountInLog("gave up after"), 0) << d->Log();
  auto db = state::sqlite::Db::Open(h.state_path(), 5s);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->QueryInt64("SELECT max(attempts) FROM webhook_inbox").value(), 0);
  EXPECT_EQ(
      (*db)->QueryText("SELECT state FROM webhook_inbox WHERE instr(body, 'Annie') > 0").value(),
      "new");

  std::filesystem::rename(away, h.csv_path());
  EXPECT_TRUE(SyncHarness::Eventually(
      [&] {
        const auto csv = h.Csv();
        return csv.count("a-1") > 0 && csv.at("a-1").at("first_name") == "Annie";
      },
      45s))
      << d->Log();
}

// A first pass bigger than the engine's commit batch (10,000 decisions): every row is
// linked to its contact, in batches, with nothing written on either side and nothing
// linked twice; the passes after it find nothing to do.
TEST(SyncBatchTest, AFirstPassOfMoreThanOneCommitBatchLinksEveryRowOnce) {
  SyncHarness h({"--no-rate-limit", "--search-lag-ms", "0"});
  constexpr int kRows = 10'050;
  auto generated = h.emu().Admin(
      "POST", std::string("/locations/") + SyncHarness::kLocation + "/contacts/generate",
      "{\"count\":" + std::to_string(kRows) + "}");
  ASSERT_EQ(generated.status, 201) << generated.body;
  // The generator's contacts: contact<i>@example.com, names from two lists of ten.
  const char* first[] = {"Ada", "Grace",   "Alan",   "Edsger", "Barbara",
                         "Ken", "Frances", "Donald", "Radia",  "Niklaus"};
  const char* last[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov",
                        "Thompson", "Allen",  "Knuth",  "Perlman",  "Wirth"};
  std::string csv = "id,first_name,last_name,email\n";
  for (int i = 0; i < kRows; ++i) {
    csv += "c-" + std::to_string(i) + "," + first[i % 10] + "," + last[i / 10 % 10] + ",contact" +
           std::to_string(i) + "@example.com\n";
  }
  h.WriteConfig("", R"(  - {ghl: firstName, external: first_name}
  - {ghl: lastName, external: last_name}
  - {ghl: email, external: email, transforms: [trim, lower]}
)");
  h.WriteCsv(csv);
  auto d = h.StartDaemon();
  auto links = [&] {
    auto [code, out] = h.Cli({"status", "--json"});
    rapidjson::Document doc;
    doc.Parse(out.substr(out.find('{')).c_str());
    return code == 0 && doc.IsObject() && doc.HasMember("syncs")
               ? doc["syncs"][0]["links"].GetInt64()
               : int64_t{-1};
  };
  ASSERT_TRUE(SyncHarness::Eventually([&] { return links() == kRows; }, 60s)) << links() << "\n"
                                                                              << d->Log();
  // Two passes after it (each re-reads the last 90 s of GHL changes: all of them; slow
  // under ASan), then nothing was written.
  const std::string url = h.MetricsUrl(*d);
  auto passes = [&] {
    return SyncHarness::Metric(testing::HttpRequest(url).body, "ghl_syncd_sync_passes_total");
  };
  const double linked_at = passes();
  ASSERT_TRUE(SyncHarness::Eventually([&] { return passes() >= linked_at + 2; }, 120s)) << d->Log();
  const std::string metrics = testing::HttpRequest(url).body;
  EXPECT_EQ(SyncHarness::Metric(metrics, "ghl_syncd_records_synced_total"), 0) << metrics;
  EXPECT_EQ(SyncHarness::Metric(metrics, "ghl_syncd_outbox_depth"), 0) << metrics;
  EXPECT_EQ(h.Ghl().size(), static_cast<size_t>(kRows)) << "no contact created twice";
  EXPECT_EQ(h.Csv().size(), static_cast<size_t>(kRows));
  EXPECT_EQ(links(), kRows);
  auto db = state::sqlite::Db::Open(h.state_path(), 5s);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->QueryInt64("SELECT count(DISTINCT ghl_id) FROM links").value(), kRows);
  EXPECT_EQ((*db)
                ->QueryInt64("SELECT count(*) FROM links WHERE base_json NOT LIKE "
                             "'%@example.com%'")
                .value(),
            0)
      << "every link has its base";
}

// A deal in deals.csv names its customer by the contacts sync's external key; in GHL the
// opportunity carries that contact's GHL id (mapping `references:`). A deal whose customer
// is not linked yet waits and is created once it is; a deal made in GHL gets the
// customer's key in the CSV.
TEST_F(SyncCsvTest, ReferencesResolveThroughTheOtherSyncsLinksAndWaitForThem) {
  h_.WriteConfig();
  const auto [pipeline, stage] = h_.Pipeline();
  ASSERT_FALSE(pipeline.empty());
  WriteDealsMapping(h_);
  h_.dir().Write("data/deals.csv",
                 kDealsHeader + "d-1,Big Deal,open," + pipeline + "," + stage + ",c-1\n");
  h_.WriteCsv(kHeader);  // the customer is not there yet
  auto d = h_.StartDaemon();
  ASSERT_TRUE(d->WaitForLog("is not linked yet", 15s)) << d->Log();
  EXPECT_TRUE(h_.Opportunities().empty()) << "created without its contact";

  h_.WriteCsv(kHeader + "c-1,Ann,Lee,ann@example.com,\nc-2,Bob,Ray,bob@example.com,\n");
  std::string ann, bob;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    const auto ghl = h_.Ghl();
    ByEmail(ghl, "ann@example.com", &ann);
    ByEmail(ghl, "bob@example.com", &bob);
    const auto deals = h_.Opportunities();
    return !ann.empty() && deals.count("Big Deal") > 0 && deals.at("Big Deal") == ann;
  })) << d->Log();

  // Made in GHL for Bob: the CSV row names him by his key.
  ASSERT_FALSE(bob.empty());
  h_.CreateOpportunity(R"("name":"Upsell","status":"open","pipelineId":")" + pipeline +
                       R"(","pipelineStageId":")" + stage + R"(","contactId":")" + bob + "\"");
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    for (const auto& [key, row] : h_.Csv("deals.csv")) {
      if (row.at("title") == "Upsell") return row.at("customer") == "c-2";
    }
    return false;
  })) << d->Log();
  // Each deal once on each side (GHL's search shows a new record after its lag).
  EXPECT_TRUE(SyncHarness::Eventually([&] { return h_.Opportunities().size() == 2; }, 5s));
  std::this_thread::sleep_for(2s);  // two more passes
  EXPECT_EQ(h_.Opportunities().size(), 2u);
  EXPECT_EQ(h_.Csv("deals.csv").size(), 2u);
  auto [code, dlq] = h_.Cli({"dlq", "list"});
  EXPECT_NE(dlq.find("empty"), std::string::npos) << dlq;
}

// GHL has no idempotency key: an opportunity create whose answer is lost after GHL made
// it (here every write's answer is a 500, the write applied) must not make a second one on
// retry. The retry reads it back by contact, pipeline and name once the search has caught
// up (ghl.search_lag), finds it, and links it instead.
TEST_F(SyncCsvTest, AnOpportunityCreateWhoseAnswerIsLostIsMadeOnce) {
  h_.WriteConfig();
  {
    const auto config = h_.dir() / "ghl-syncd.yaml";
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("ghl:\n"), 5, "ghl:\n  search_lag: 2s\n");
    std::ofstream(config) << text;
  }
  const auto [pipeline, stage] = h_.Pipeline();
  ASSERT_FALSE(pipeline.empty());
  WriteDealsMapping(h_);
  h_.dir().Write("data/deals.csv", kDealsHeader);
  h_.WriteCsv(kHeader + "c-1,Ann,Lee,ann@example.com,\n");
  auto d = h_.StartDaemon();
  const std::string ann = GhlIdOnceCreated(h_, "ann@example.com");
  ASSERT_FALSE(ann.empty()) << d->Log();
  h_.Faults(R"({"lostAnswerRate":1,"lostAnswer":"5xx"})");
  h_.dir().Write("data/deals.csv",
                 kDealsHeader + "d-1,Big Deal,open," + pipeline + "," + stage + ",c-1\n");
  ASSERT_TRUE(d->WaitForLog("write for link", 20s)) << "the create was answered 500\n" << d->Log();
  // Made once, and linked: the row keeps its key and no second opportunity appears.
  // Its retry waits for the search (2 s); meanwhile a poll may find the opportunity and
  // take it for the create's (then the retry finds it linked and done). Either way the
  // outbox empties with one opportunity.
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    return SyncHarness::Metric(testing::HttpRequest(h_.MetricsUrl(*d)).body,
                               "ghl_syncd_outbox_depth") == 0;
  })) << d->Log();
  h_.Faults("{}");
  std::this_thread::sleep_for(5s);  // the retry (after 2 s) and a few more passes
  auto deals = h_.Opportunities();
  EXPECT_EQ(deals.size(), 1u) << d->Log();
  EXPECT_EQ(deals["Big Deal"], ann);
  EXPECT_EQ(h_.Csv("deals.csv").size(), 1u);
}

// Pipelines and stages by name (`references: {by: name}`): a deal row naming "Sales
// Pipeline" and its stage "Contacted" becomes an opportunity with their ids; a stage move
// in GHL reaches the CSV as the new stage's name; a stage GHL does not have sends its row to
// the dead-letter queue, naming the stages there are, and the other rows sync.
TEST_F(SyncCsvTest, PipelineAndStageByNameResolveToIdsBothWays) {
  h_.WriteConfig();
  h_.dir().Write("mappings/deals.yaml", R"(object: opportunities
external: {connector: crm, file: deals.csv}
key: id
poll_interval: 1s
fields:
  - {ghl: name, external: title}
  - {ghl: status, external: status}
references:
  - {ghl: contactId, external: customer, sync: contacts}
  - {ghl: pipelineStageId, external: stage, by: name}
  - {ghl: pipelineId, external: pipeline, by: name}
)");
  std::map<std::string, std::string> stages;  // name -> id
  std::string pipeline;
  {
    auto doc = testing::Json(h_.emu()
                                 .Admin("GET", std::string("/user/opportunities/pipelines?"
                                                           "locationId=") +
                                                   SyncHarness::kLocation)
                                 .body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("pipelines"));
    const auto& p = doc["pipelines"][0];
    ASSERT_STREQ(p["name"].GetString(), "Sales Pipeline");
    pipeline = p["id"].GetString();
    for (const auto& st : p["stages"].GetArray())
      stages[st["name"].GetString()] = st["id"].GetString();
  }
  ASSERT_TRUE(stages.count("Contacted") && stages.count("Proposal Sent"));
  h_.WriteCsv(kHeader + "c-1,Ann,Lee,ann@example.com,\n");
  h_.dir().Write("data/deals.csv",
                 "id,title,status,pipeline,stage,customer\n"
                 "d-1,Big Deal,open,Sales Pipeline,Contacted,c-1\n"
                 "d-2,Typo Deal,open,sales pipeline,Contacted Maybe,c-1\n");
  auto d = h_.StartDaemon();
  // GHL's opportunities: name -> {id, pipelineId, pipelineStageId}.
  auto deals = [&] {
    std::map<std::string, std::array<std::string, 3>> out;
    auto doc = testing::Json(
        h_.emu()
            .Admin("GET", std::string("/user/opportunities/search?limit=100&location_id=") +
                              SyncHarness::kLocation)
            .body);
    if (!doc.IsObject() || !doc.HasMember("opportunities")) return out;
    for (const auto& o : doc["opportunities"].GetArray()) {
      out[o["name"].GetString()] = {o["id"].GetString(), o["pipelineId"].GetString(),
                                    o["pipelineStageId"].GetString()};
    }
    return out;
  };
  std::string big;
  ASSERT_TRUE(SyncHarness::Eventually([&] {
    const auto all = deals();
    auto it = all.find("Big Deal");
    if (it == all.end()) return false;
    big = it->second[0];
    return it->second[1] == pipeline && it->second[2] == stages["Contacted"];
  })) << d->Log();

  // The typo: dead-lettered with what there is; not created.
  std::string dlq;
  EXPECT_TRUE(SyncHarness::Eventually([&] {
    dlq = h_.Cli({"dlq", "list", "--json"}).second;
    return dlq.find("there is no pipeline stage named 'Contacted Maybe'") != std::string::npos;
  })) << dlq;
  EXPECT_NE(dlq.find("of pipeline 'Sales Pipeline' (there are: New Lead, Contacted, Proposal "
                     "Sent, Closed)"),
            std::string::npos)
      << dlq << "\nthe pipeline name matched without regard to case";
  EXPECT_EQ(deals().count("Typo Deal"), 0u);

  // A stage move in GHL: the CSV gets the stage's name.
  auto moved = h_.emu().Admin("PUT", "/user/opportunities/" + big,
                              R"({"pipelineStageId":")" + stages["Proposal Sent"] + "\"}");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_TRUE(SyncHarness::Eventually([&] {
    const auto csv = h_.Csv("deals.csv");
    return csv.count("d-1") > 0 && csv.at("d-1").at("stage") == "Proposal Sent" &&
           csv.at("d-1").at("pipeline") == "Sales Pipeline";
  })) << CsvText(h_.Csv())
      << d->Log();
}

// Appointments are polled (GHL has no appointment search by dateUpdated: the sync lists
// each calendar's events in the mapping's `appointments:` window). With webhooks off, an
// appointment a user books in GHL for a linked contact reaches the CSV by polling alone,
// naming the customer by the contacts sync's key and the calendar by its name, and an edit
// of its row reaches GHL.
TEST_F(SyncCsvTest, AppointmentsArePolledIntoTheCsvAndRowEditsReachGhl) {
  h_.WriteConfig();
  h_.dir().Write("mappings/visits.yaml", R"(object: appointments
external: {connector: crm, file: visits.csv}
key: id
poll_interval: 1s
appointments: {past: 1d, future: 30d}
fields:
  - {ghl: title, external: title}
  - {ghl: startTime, external: start}
references:
  - {ghl: contactId, external: customer, sync: contacts}
  - {ghl: calendarId, external: calendar, by: name}
)");
  h_.dir().Write("data/visits.csv", "id,title,calendar,start,customer\n");
  h_.WriteCsv(kHeader + "c-1,Ann,Lee,ann@example.com,\n");
  auto d = h_.StartDaemon();
  std::string ann;
  ASSERT_TRUE(SyncHarness::Eventually(
      [&] {
        ByEmail(h_.Ghl(), "ann@example.com", &ann);
        return !ann.empty();
      },
      10s))
      << d->Log();

  // Webhooks off: what follows can only be found by polling.
  h_.SetWebhookUrl(false);
  auto calendars = testing::Json(
      h_.emu()
          .Admin("GET", std::string("/user/calendars/?locationId=") + SyncHarness::kLocation)
          .body);
  ASSERT_TRUE(calendars.IsObject() && calendars["calendars"].Size() == 1u);
  const std::string calendar = calendars["calendars"][0]["id"].GetString();
  const int64_t half_hour = 1'800'000;
  const int64_t start_ms = (std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                    .count() /
                                half_hour +
                            48) *
                           half_hour;  // a day ahead, on the calendar's 30-minute grid
  const std::time_t start_s = start_ms / 1000;
  std::tm tm{};
  gmtime_r(&start_s, &tm);
  char start[32];
  std::strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
  auto booked = h_.emu().Admin("POST", "/user/calendars/events/appointments",
                               std::string(R"({"locationId":")") + SyncHarness::kLocation +
                                   R"(","calendarId":")" + calendar + R"(","contactId":")" + ann +
                                   R"(","startTime":")" + start + R"(","title":"Checkup"})");
  ASSERT_EQ(booked.status, 200) << booked.body;
  const std::string event = testing::Json(booked.body)["id"].GetString();

  std::map<std::string, CsvRow> visits;
  ASSERT_TRUE(SyncHarness::Eventually(
      [&] {
        visits = h_.Csv("visits.csv");
        return visits.size() == 1u && visits.begin()->second.at("title") == "Checkup";
      },
      10s))
      << d->Log();
  const std::string key = visits.begin()->first;
  CsvRow row = visits.begin()->second;
  EXPECT_EQ(row.at("customer"), "c-1") << "the contact, by the contacts sync's key";
  EXPECT_EQ(row.at("calendar"), "Consultations") << "the calendar, by its name";
  EXPECT_EQ(row.at("start"), start);
  auto deliveries =
      testing::Json(h_.emu().Admin("GET", "/webhooks/deliveries?type=AppointmentCreate").body);
  EXPECT_EQ(deliveries["deliveries"].Size(), 0u) << "found by polling: no webhook went out";

  // Edited in the CSV (a new file renamed over the old one, as an editor saves): the title
  // reaches GHL.
  const auto edited = h_.dir().Write("data/.visits.csv.tmp",
                                     "id,title,calendar,start,customer\n" + key +
                                         ",Checkup and cleaning," + row.at("calendar") + "," +
                                         row.at("start") + "," + row.at("customer") + "\n");
  std::filesystem::rename(edited, h_.dir() / "data/visits.csv");
  std::string title;
  ASSERT_TRUE(SyncHarness::Eventually(
      [&] {
        auto got = testing::Json(
            h_.emu().Admin("GET", "/user/calendars/events/appointments/" + event).body);
        title = got.IsObject() && got.HasMember("event") ? got["event"]["title"].GetString() : "";
        return title == "Checkup and cleaning";
      },
      10s))
      << title << "\n"
      << d->Log();
  auto state =
      testing::Json(h_.emu()
                        .Admin("GET", std::string("/state?object=appointments&locationId=") +
                                          SyncHarness::kLocation)
                        .body);
  EXPECT_EQ(state["appointments"].Size(), 1u) << "edited, not booked twice";
  // Read from the state file (the daemon keeps running): one link, nothing dead-lettered.
  auto db = state::sqlite::Db::Open(h_.state_path(), 5s);
  ASSERT_TRUE(db.ok()) << db.error().message;
  sync::SyncStore store(**db);
  auto link = store.LinkByGhlId("visits", event);
  ASSERT_TRUE(link.ok() && link->has_value());
  EXPECT_EQ((**link).ext_key, std::optional<std::string>(key));
  auto dead = store.DeadLetterCount("visits");
  ASSERT_TRUE(dead.ok()) << dead.error().message;
  EXPECT_EQ(*dead, 0) << d->Log();
}

TEST_F(SyncCsvTest, PlanShowsTheFirstPassAndWritesNothing) {
  h_.CreateContact(R"("firstName":"Gil","lastName":"Bates","email":"gil@example.com")");
  h_.WriteConfig();
  h_.WriteCsv(kHeader + "c-1,Hal,Jordan,hal@example.com,\n");
  std::this_thread::sleep_for(1200ms);  // the CSV connector reads a file unchanged for 1 s
  auto [code, out] = h_.Cli({"plan", "--sync", "contacts"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("create   ghl"), std::string::npos) << out;
  EXPECT_NE(out.find("create   external"), std::string::npos) << out;
  EXPECT_NE(out.find("firstName: (empty) -> Hal"), std::string::npos) << out;
  EXPECT_NE(out.find("1 write(s) to GHL, 1 to the external side"), std::string::npos) << out;
  EXPECT_EQ(h_.Ghl().size(), 1u) << "plan wrote to GHL";
  EXPECT_EQ(h_.Csv().size(), 1u) << "plan wrote to the CSV";
  auto [jcode, json] = h_.Cli({"plan", "--sync", "contacts", "--json"});
  EXPECT_EQ(jcode, 0);
  EXPECT_NE(json.find(R"("ghl_writes":1)"), std::string::npos) << json;
}

}  // namespace
}  // namespace ghl
