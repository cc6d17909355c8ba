// The mass-delete guard at the SyncRunner level: webhook deletes one by one and pass
// deletes are weighed together over the window; what it holds is recorded, stays held,
// is listed by `ghl-syncd status` / `deletes list` and made by `deletes release`. A real
// ghl-emulator, a CSV file, the state file; the runner's clock is a FakeClock.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/ghl_setup.h"
#include "state/sqlite_state_store.h"
#include "sync/engine.h"
#include "sync/runner.h"
#include "sync/store.h"
#include "tests/support/emulator_process.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::Json;

constexpr const char* kLocation = "loc-guard";
constexpr const char* kToken = "pit-guard-token";
constexpr const char* kHeader = "id,first_name,last_name,email\n";

class DeleteGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(emu_.ok()) << emu_.startup_error();
    auto r = emu_.Admin("POST", "/locations",
                        std::string(R"({"id":")") + kLocation + R"(","token":")" + kToken + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void TearDown() override {
    runner_.reset();
    if (loop_.joinable()) {
      stack_->Stop();
      loop_.join();
    }
  }

  // `n` contacts in GHL and the same in the CSV file, and a runner whose first pass links
  // them. `guard`: the mapping's delete_guard.
  void Start(int n, const std::string& guard) {
    dir_.Write("ghl-syncd.yaml", "ghl:\n  base_url: " + emu_.base_url() + R"(
  rate_limit: {burst: 5000, daily: 10000000}
  locations:
    - id: )" + kLocation + R"(
      token: )" + kToken + R"(
state:
  path: state/state.db
http:
  listen: 127.0.0.1:0
connectors:
  crm:
    type: csv
    dir: data
mappings_dir: mappings
)");
    dir_.Write("mappings/contacts.yaml", R"(object: contacts
external: {connector: crm, file: contacts.csv, settle: 0s}
key: id
match: [email]
deletes: propagate
delete_guard: )" + guard + R"(
fields:
  - {ghl: firstName, external: first_name}
  - {ghl: lastName, external: last_name}
  - {ghl: email, external: email}
)");
    for (int i = 0; i < n; ++i) {
      const std::string row = std::to_string(i);
      auto r = emu_.Admin("POST", "/user/contacts/",
                          std::string(R"({"locationId":")") + kLocation + R"(","firstName":"F)" +
                              row + R"(","lastName":"L)" + row + R"(","email":"p)" + row +
                              R"(@example.com"})");
      ASSERT_EQ(r.status, 201) << r.body;
      ghl_ids_.push_back(Json(r.body)["contact"]["id"].GetString());
      rows_["c-" + row] = "c-" + row + ",F" + row + ",L" + row + ",p" + row + "@example.com\n";
    }
    WriteCsv();

    auto loaded = config::Load(dir_ / "ghl-syncd.yaml");
    ASSERT_TRUE(loaded.config) << config::Join(loaded.errors);
    config_ = loaded.config;
    config::Diagnostics errors;
    auto syncs = sync::BuildSyncs(*config_, errors);
    ASSERT_TRUE(errors.empty()) << config::Join(errors);
    ASSERT_EQ(syncs.size(), 1u);
    auto opened = state::OpenSqlite({.path = config_->state.path});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    state_ = std::move(opened).value();
    store_ = std::make_unique<sync::SyncStore>(state_->db());
    stack_ = std::make_unique<daemon::GhlStack>(*config_);
    loop_ = std::thread([this] { stack_->Run(); });
    runner_ = std::make_unique<sync::SyncRunner>(std::move(syncs[0].mapping),
                                                 std::move(syncs[0].connector), stack_->gateway(),
                                                 syncs[0].locations, *store_, clock_);
    Pass();
    ASSERT_EQ(store_->CountLinks("contacts").value(), n);
    ASSERT_EQ(store_->OutboxDepth().value(), 0);
  }

  void WriteCsv() {
    std::string text = kHeader;
    for (const auto& [key, row] : rows_) text += row;
    dir_.Write("data/.contacts.csv.tmp", text);
    std::filesystem::rename(dir_ / "data/.contacts.csv.tmp", dir_ / "data/contacts.csv");
  }

  // A pass, then the outbox until it is empty.
  sync::PassReport Pass() {
    clock_.Advance(1s);
    auto report = runner_->RunPass(false);
    EXPECT_TRUE(report.ok()) << report.error().message;
    Drain();
    return report.ok() ? report.value() : sync::PassReport{};
  }
  void Drain() {
    for (int round = 0; round < 50 && store_->OutboxDepth().value() > 0; ++round) {
      auto n = runner_->Dispatch();
      ASSERT_TRUE(n.ok()) << n.error().message;
    }
    EXPECT_EQ(store_->OutboxDepth().value(), 0);
  }

  // Contact `i` deleted in GHL, and its delete webhook (ContactDelete) through the runner as
  // the engine hands it over; `done` counts the inbox row marked done with it.
  void DeleteInGhl(int i, int* done) {
    const std::string& id = ghl_ids_[static_cast<size_t>(i)];
    ASSERT_EQ(emu_.Admin("DELETE", "/user/contacts/" + id).status, 200);
    rapidjson::Document record;
    record.Parse((R"({"id":")" + id + R"(","locationId":")" + kLocation + "\"}").c_str());
    clock_.Advance(100ms);
    auto r = runner_->OnGhlRecord(kLocation, record, /*deleted=*/true, Now(), /*retried=*/false,
                                  [&]() -> Result<void> {
                                    ++*done;
                                    return Ok();
                                  });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  std::string Now() const { return state::FormatUtcIso8601(clock_.Now()); }

  int CsvRows() {
    std::ifstream in(dir_ / "data/contacts.csv");
    int lines = 0;
    for (std::string line; std::getline(in, line);) lines += line.empty() ? 0 : 1;
    return lines - 1;
  }
  int64_t Held() { return store_->HeldDeleteCount("contacts").value(); }

  std::pair<int, std::string> Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {std::string(GHL_BINARY_DIR) + "/ghl-syncd"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back((dir_ / "ghl-syncd.yaml").string());
    return testing::RunToEnd(argv, {}, dir_ / ("cli-" + std::to_string(++clis_) + ".log"));
  }

  testing::EmulatorProcess emu_{{"--no-rate-limit", "--search-lag-ms", "0"}};
  testing::TempDir dir_;
  FakeClock clock_{FakeClock::TimePoint(std::chrono::system_clock::now().time_since_epoch())};
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<state::SqliteStateStore> state_;
  std::unique_ptr<sync::SyncStore> store_;
  std::unique_ptr<daemon::GhlStack> stack_;
  std::thread loop_;
  std::unique_ptr<sync::SyncRunner> runner_;
  std::vector<std::string> ghl_ids_;
  std::map<std::string, std::string> rows_;  // key -> CSV line
  int clis_ = 0;
};

// A bulk delete in GHL arrives as one webhook per contact. Weighed one by one each is 1 of
// 40; weighed over the window, the fifth takes the sum past 10% and the rest are held.
TEST_F(DeleteGuardTest, WebhookDeletesOneByOneAreWeighedTogetherAndHeld) {
  Start(40, "{max_share: 10%, max_count: 100}");
  int done = 0;
  for (int i = 0; i < 30; ++i) DeleteInGhl(i, &done);
  EXPECT_EQ(done, 30);  // every webhook is done: made, or held and recorded
  EXPECT_EQ(Held(), 26);
  Drain();
  EXPECT_EQ(CsvRows(), 36);  // 4 made (10%), 26 held

  // Held stays held: passes neither make them nor count them again.
  clock_.Advance(2h);
  Pass();
  Pass();
  EXPECT_EQ(Held(), 26);
  EXPECT_EQ(CsvRows(), 36);
  EXPECT_EQ(store_->OutboxDepth().value(), 0);

  // Released, they are made as the webhooks would have made them.
  const auto held = store_->HeldDeletes("contacts", 100).value();
  for (const auto& h : held) {
    EXPECT_EQ(store_->ReleaseHeldDelete(h.id, 0).value(), sync::SyncStore::Released::kQueued);
  }
  Drain();
  EXPECT_EQ(CsvRows(), 10);
  EXPECT_EQ(Held(), 0);
  EXPECT_EQ(store_->CountLinks("contacts").value(), 10);
}

// Few links: one delete is over the share. It is held and recorded with the inbox row's
// completion, shown by `status` and `deletes list`, and `deletes release` makes it.
TEST_F(DeleteGuardTest, OneWebhookDeleteOverTheGuardIsHeldVisibleAndReleasedByTheCli) {
  Start(5, "{max_share: 10%, max_count: 100, window: 10m}");
  int done = 0;
  DeleteInGhl(2, &done);
  EXPECT_EQ(done, 1);
  ASSERT_EQ(Held(), 1);
  Pass();
  EXPECT_EQ(CsvRows(), 5);
  EXPECT_EQ(rows_.count("c-2"), 1u);

  auto [code, status] = Cli({"status", "--json"});
  ASSERT_EQ(code, 0) << status;
  auto doc = Json(status.substr(status.find("{\"syncs\"")));
  ASSERT_TRUE(doc.IsObject()) << status;
  EXPECT_EQ(doc["syncs"][0]["held_deletes"].GetInt64(), 1) << status;
  auto [text_code, text] = Cli({"status"});
  EXPECT_NE(text.find("1 delete(s) held by the mass-delete guard"), std::string::npos) << text;

  auto [list_code, list] = Cli({"deletes", "list", "--sync", "contacts", "--json"});
  ASSERT_EQ(list_code, 0) << list;
  auto held = Json(list.substr(list.rfind("\n[") + 1));
  ASSERT_TRUE(held.IsArray() && held.Size() == 1) << list;
  EXPECT_STREQ(held[0]["external_key"].GetString(), "c-2");
  EXPECT_STREQ(held[0]["ghl_id"].GetString(), ghl_ids_[2].c_str());
  EXPECT_STREQ(held[0]["target"].GetString(), "external");
  EXPECT_STREQ(held[0]["source"].GetString(), "webhook");
  EXPECT_STREQ(held[0]["rule"].GetString(), "deleted in GHL");

  auto [release_code, released] = Cli({"deletes", "release", "--sync", "contacts", "--all"});
  ASSERT_EQ(release_code, 0) << released;
  EXPECT_NE(released.find("released 1 held delete"), std::string::npos) << released;
  EXPECT_EQ(Held(), 0);
  clock_.Advance(10min);  // the command enqueued it at the system clock's time
  Drain();
  EXPECT_EQ(CsvRows(), 4);
  std::ifstream in(dir_ / "data/contacts.csv");
  std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(csv.find("c-2,"), std::string::npos) << csv;
}

// Deletes a pass finds and deletes webhooks brought add up within the window; once the
// window has passed (the runner's clock), a delete is weighed without them.
TEST_F(DeleteGuardTest, PassAndWebhookDeletesAddUpWithinTheWindow) {
  Start(40, "{max_share: 10%, max_count: 100, window: 30m}");
  int done = 0;
  for (int i = 0; i < 3; ++i) DeleteInGhl(i, &done);
  EXPECT_EQ(Held(), 0);
  Drain();
  EXPECT_EQ(CsvRows(), 37);

  // Two rows gone from the file: 2 of 37 alone, 5 of 40 with the webhooks' three.
  rows_.erase("c-10");
  rows_.erase("c-11");
  WriteCsv();
  auto report = Pass();
  EXPECT_TRUE(report.delete_guard_tripped);
  EXPECT_EQ(report.deletes_held, 2);
  EXPECT_EQ(Held(), 2);
  EXPECT_EQ(emu_.Admin("GET", "/user/contacts/" + ghl_ids_[10]).status, 200);

  // After the window, one more row gone is weighed alone (1 of 37) and made; the two held
  // stay held.
  clock_.Advance(31min);
  rows_.erase("c-12");
  WriteCsv();
  report = Pass();
  EXPECT_FALSE(report.delete_guard_tripped);
  EXPECT_EQ(Held(), 2);
  EXPECT_NE(emu_.Admin("GET", "/user/contacts/" + ghl_ids_[12]).status, 200);
  EXPECT_EQ(emu_.Admin("GET", "/user/contacts/" + ghl_ids_[10]).status, 200);
}

// A truncated export is held; when the rows come back the held deletes are dropped by
// themselves. A row edited after its delete was held is kept when the delete is released.
TEST_F(DeleteGuardTest, HeldDeletesOfRowsBackAreDroppedAndChangedRecordsKept) {
  Start(10, "{max_share: 10%, max_count: 100}");
  const auto all = rows_;
  rows_.clear();
  WriteCsv();
  Pass();
  EXPECT_EQ(Held(), 10);
  EXPECT_EQ(store_->HeldDeletes("contacts", 1).value()[0].source, "pass");
  rows_ = all;
  WriteCsv();
  Pass();
  EXPECT_EQ(Held(), 0);
  EXPECT_EQ(store_->CountLinks("contacts").value(), 10);

  // Two GHL contacts deleted: the first is made (1 of 10), the second held (2 of 10). Its
  // row is edited after that: releasing the delete keeps the row.
  int done = 0;
  DeleteInGhl(3, &done);
  DeleteInGhl(4, &done);
  ASSERT_EQ(Held(), 1);
  const auto held = store_->HeldDeletes("contacts", 1).value()[0];
  ASSERT_EQ(held.ext_key, "c-4");
  rows_["c-4"] = "c-4,Edited,L4,p4@example.com\n";
  WriteCsv();
  Pass();
  ASSERT_EQ(Held(), 1);
  EXPECT_TRUE(store_->HeldDeleteById(held.id).value()->changed);
  EXPECT_EQ(store_->ReleaseHeldDelete(held.id, 0).value(), sync::SyncStore::Released::kKept);
  Drain();
  std::ifstream in(dir_ / "data/contacts.csv");
  std::string csv((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(csv.find("c-4,Edited"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("c-3,"), std::string::npos) << csv;
}

}  // namespace
}  // namespace ghl
