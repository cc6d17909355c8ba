// ghl-emulator --snapshot FILE: the world survives a restart (saved on SIGTERM/SIGINT and
// on POST /_emulator/snapshot, loaded at start), and a bad file stops start-up.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::HttpCall;
using testing::HttpReply;
using testing::Json;

constexpr const char* kCal = "2021-04-15";

std::string Emulator() { return std::string(GHL_BINARY_DIR) + "/ghl-emulator"; }

unsigned Mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// Stops `emu` with `signo` and returns its exit code (-1: it did not exit).
int Stop(EmulatorProcess& emu, int signo = SIGTERM) {
  emu.process().Signal(signo);
  return emu.process().Wait(10s).value_or(-1);
}

HttpReply Form(EmulatorProcess& emu, const std::string& body) {
  return HttpCall("POST", emu.base_url() + "/oauth/token", body,
                  {"Content-Type: application/x-www-form-urlencoded"});
}

// Everything the first run makes, to look for in the second.
struct Made {
  std::string contact, opportunity, appointment;
  std::string contact_json, opportunity_json, appointment_json;  // GET bodies
  std::string client, secret, code;                              // an unused code
  std::string expired_access, access, used_refresh, refresh;
};

void MakeRecords(EmulatorProcess& emu, Made* m) {
  const std::string loc = emu.location_id();
  auto contact = emu.Api("POST", "/contacts/",
                         R"({"locationId":")" + loc +
                             R"(","firstName":"Ada","lastName":"Lovelace",)"
                             R"("email":"ada@example.com","tags":["vip"]})");
  ASSERT_EQ(contact.status, 201) << contact.body;
  m->contact = Json(contact.body)["contact"]["id"].GetString();

  auto pipelines = Json(emu.Api("GET", "/opportunities/pipelines?locationId=" + loc).body);
  const std::string pipeline = pipelines["pipelines"][0]["id"].GetString();
  auto opp =
      emu.Api("POST", "/opportunities/",
              R"({"locationId":")" + loc + R"(","pipelineId":")" + pipeline + R"(","contactId":")" +
                  m->contact + R"(","name":"Engine","status":"open","monetaryValue":1234.56})");
  ASSERT_EQ(opp.status, 201) << opp.body;
  m->opportunity = Json(opp.body)["opportunity"]["id"].GetString();

  auto info = Json(emu.Admin("GET", "/info").body);
  const std::string calendar = info["calendars"][0]["id"].GetString();
  auto appt =
      emu.Api("POST", "/calendars/events/appointments",
              R"({"calendarId":")" + calendar + R"(","locationId":")" + loc + R"(","contactId":")" +
                  m->contact + R"(","startTime":"2031-03-10T09:00:00+05:30"})",
              kCal);
  ASSERT_EQ(appt.status, 200) << appt.body;
  m->appointment = Json(appt.body)["id"].GetString();

  m->contact_json = emu.Api("GET", "/contacts/" + m->contact).body;
  m->opportunity_json = emu.Api("GET", "/opportunities/" + m->opportunity).body;
  m->appointment_json =
      emu.Api("GET", "/calendars/events/appointments/" + m->appointment, "", kCal).body;
}

// An app installed on the location; a first token pair refreshed once (so its refresh
// token is used) and force-expired; an unexchanged code.
void MakeOAuth(EmulatorProcess& emu, Made* m) {
  auto client = Json(emu.Admin("POST", "/oauth/clients", "{}").body);
  m->client = client["clientId"].GetString();
  m->secret = client["clientSecret"].GetString();
  const std::string authorize = R"({"clientId":")" + m->client +
                                R"(","userType":"Location","locationId":")" + emu.location_id() +
                                "\"}";
  const std::string creds = "client_id=" + m->client + "&client_secret=" + m->secret;
  auto code = Json(emu.Admin("POST", "/oauth/authorize", authorize).body);
  auto first = Form(emu, creds + "&grant_type=authorization_code&code=" + code["code"].GetString());
  ASSERT_EQ(first.status, 200) << first.body;
  auto t1 = Json(first.body);
  m->expired_access = t1["access_token"].GetString();
  m->used_refresh = t1["refresh_token"].GetString();
  auto second = Form(emu, creds + "&grant_type=refresh_token&refresh_token=" + m->used_refresh);
  ASSERT_EQ(second.status, 200) << second.body;
  auto t2 = Json(second.body);
  m->access = t2["access_token"].GetString();
  m->refresh = t2["refresh_token"].GetString();
  ASSERT_EQ(
      emu.Admin("POST", "/oauth/expire", R"({"accessToken":")" + m->expired_access + "\"}").status,
      200);
  m->code = Json(emu.Admin("POST", "/oauth/authorize", authorize).body)["code"].GetString();
}

// Every id the world holds, of every object.
std::set<std::string> AllIds(EmulatorProcess& emu) {
  std::set<std::string> ids;
  for (const char* object : {"contacts", "opportunities", "appointments", "customFields",
                             "pipelines", "calendars", "users"}) {
    auto d = Json(emu.Admin("GET", std::string("/state?object=") + object).body);
    for (const auto& r : d[object].GetArray()) ids.insert(r["id"].GetString());
  }
  return ids;
}

TEST(EmulatorSnapshot, ASecondRunOnTheFileHasTheWholeWorld) {
  testing::TempDir dir;
  const auto file = dir / "world.json";
  Made m;
  std::string location, pit;
  std::set<std::string> ids;
  {
    EmulatorProcess first({"--search-lag-ms", "0", "--no-rate-limit", "--snapshot", file.string()});
    ASSERT_TRUE(first.ok()) << first.startup_error();
    ASSERT_NO_FATAL_FAILURE(MakeRecords(first, &m));
    ASSERT_NO_FATAL_FAILURE(MakeOAuth(first, &m));
    location = first.location_id();
    pit = first.token();
    ids = AllIds(first);
    EXPECT_FALSE(std::filesystem::exists(file)) << "written at exit, not before";
    ASSERT_EQ(Stop(first), 0) << first.Log();
    EXPECT_NE(first.Log().find("saved"), std::string::npos) << first.Log();
  }
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(Mode(file), 0600u);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));

  // Every id-looking string of the first run, from the file itself.
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::set<std::string> saved_ids;
  const std::string saved = text.str();
  const std::regex id_like("[A-Za-z0-9]{20}");
  for (auto it = std::sregex_iterator(saved.begin(), saved.end(), id_like);
       it != std::sregex_iterator(); ++it) {
    saved_ids.insert(it->str());
  }
  ASSERT_GT(saved_ids.size(), 10u);

  // The default search lag: loaded records are searchable at once all the same.
  EmulatorProcess second({"--no-rate-limit", "--snapshot", file.string()});
  ASSERT_TRUE(second.ok()) << second.startup_error();
  // Saved again at once, the world is the same, down to the last field.
  ASSERT_EQ(second.Admin("POST", "/snapshot").status, 200);
  std::ifstream again_in(file);
  std::stringstream again;
  again << again_in.rdbuf();
  auto before = Json(saved), after = Json(again.str());
  for (auto* d : {&before, &after}) {
    ASSERT_TRUE(d->IsObject());
    d->RemoveMember("savedAt");
    d->RemoveMember("idStream");
  }
  EXPECT_TRUE(before == after) << saved << "\n" << again.str();
  // Then, while a generator started over would repeat the first run's early ids:
  auto added = Json(second.Admin("POST", "/locations", "{}").body);
  EXPECT_EQ(saved_ids.count(added["location"]["id"].GetString()), 0u);
  EXPECT_EQ(second.location_id(), location);
  EXPECT_EQ(second.token(), pit);
  EXPECT_EQ(AllIds(second), ids);
  EXPECT_EQ(second.Api("GET", "/contacts/" + m.contact).body, m.contact_json);
  EXPECT_EQ(second.Api("GET", "/opportunities/" + m.opportunity).body, m.opportunity_json);
  EXPECT_EQ(second.Api("GET", "/calendars/events/appointments/" + m.appointment, "", kCal).body,
            m.appointment_json);
  auto search = Json(
      second
          .Api("POST", "/contacts/search", R"({"locationId":")" + location + R"(","pageLimit":10})")
          .body);
  ASSERT_TRUE(search.HasMember("total")) << "search answered";
  EXPECT_EQ(search["total"].GetInt(), 1);
  auto opps =
      Json(second.Api("GET", "/opportunities/search?location_id=" + location + "&q=Engine").body);
  ASSERT_TRUE(opps.HasMember("opportunities"));
  EXPECT_EQ(opps["opportunities"].Size(), 1u);

  // OAuth: the live token works, the expired one stays expired, the used refresh token
  // stays used, the current one and the pending code still work.
  const std::string list = "/contacts/?locationId=" + location;
  EXPECT_EQ(second.Api("GET", list, "", "2021-07-28", m.access).status, 200);
  EXPECT_EQ(second.Api("GET", list, "", "2021-07-28", m.expired_access).status, 401);
  const std::string creds = "client_id=" + m.client + "&client_secret=" + m.secret;
  EXPECT_EQ(
      Form(second, creds + "&grant_type=refresh_token&refresh_token=" + m.used_refresh).status,
      400);
  EXPECT_EQ(Form(second, creds + "&grant_type=refresh_token&refresh_token=" + m.refresh).status,
            200);
  EXPECT_EQ(Form(second, creds + "&grant_type=authorization_code&code=" + m.code).status, 200);

  // Loaded contacts count for duplicate matching, as they did before.
  auto dup = second.Api("POST", "/contacts/",
                        R"({"locationId":")" + location + R"(","email":"ADA@example.com"})");
  EXPECT_EQ(dup.status, 400) << dup.body;
  EXPECT_NE(dup.body.find(m.contact), std::string::npos) << dup.body;

  // New records get ids the world has not used.
  auto fresh = second.Api("POST", "/contacts/",
                          R"({"locationId":")" + location + R"(","firstName":"Grace"})");
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  EXPECT_EQ(saved_ids.count(Json(fresh.body)["contact"]["id"].GetString()), 0u);
}

TEST(EmulatorSnapshot, SigintSavesToo) {
  testing::TempDir dir;
  const auto file = dir / "world.json";
  std::string contact;
  {
    EmulatorProcess first({"--search-lag-ms", "0", "--snapshot", file.string()});
    ASSERT_TRUE(first.ok()) << first.startup_error();
    auto r = first.Api("POST", "/contacts/",
                       R"({"locationId":")" + first.location_id() + R"(","firstName":"Ada"})");
    ASSERT_EQ(r.status, 201) << r.body;
    contact = Json(r.body)["contact"]["id"].GetString();
    ASSERT_EQ(Stop(first, SIGINT), 0) << first.Log();
  }
  EmulatorProcess second({"--snapshot", file.string()});
  ASSERT_TRUE(second.ok()) << second.startup_error();
  EXPECT_EQ(second.Api("GET", "/contacts/" + contact).status, 200);
}

TEST(EmulatorSnapshot, SnapshotRouteWritesAnOwnerOnlyFileNow) {
  testing::TempDir dir;
  const auto file = dir / "now.json";
  // A .tmp left behind by a crash, readable by all: the save must not inherit its mode.
  const auto stale = dir.Write("now.json.tmp", "partial");
  std::filesystem::permissions(stale, std::filesystem::perms(0644));
  EmulatorProcess emu({"--snapshot", file.string()});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  auto r = emu.Admin("POST", "/snapshot");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r.body);
  EXPECT_EQ(std::string(d["path"].GetString()), std::filesystem::absolute(file).string());
  EXPECT_EQ(d["records"].GetInt(), 7) << "the seeded user, pipeline, calendar and four fields";
  EXPECT_EQ(Mode(file), 0600u);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto saved = Json(text.str());
  ASSERT_TRUE(saved.IsObject()) << "one JSON document";
  EXPECT_EQ(saved["version"].GetInt(), 1);

  // A later save replaces the file, with the new record in it.
  auto c = emu.Api("POST", "/contacts/",
                   R"({"locationId":")" + emu.location_id() + R"(","firstName":"Ada"})");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(Json(emu.Admin("POST", "/snapshot").body)["records"].GetInt(), 8);
}

TEST(EmulatorSnapshot, SnapshotRouteWithoutAFileIsAConflict) {
  EmulatorProcess emu;
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  auto r = emu.Admin("POST", "/snapshot");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("--snapshot"), std::string::npos) << r.body;
}

TEST(EmulatorSnapshot, ConfigFileNamesTheSnapshotAndTheFlagOverridesIt) {
  testing::TempDir dir;
  const auto config = dir.Write("emulator.yaml", "snapshot: from-config.json\n");
  {
    EmulatorProcess emu({"--config", config.string()});
    ASSERT_TRUE(emu.ok()) << emu.startup_error();
    auto d = Json(emu.Admin("POST", "/snapshot").body);
    ASSERT_TRUE(d.HasMember("path"));
    EXPECT_EQ(std::string(d["path"].GetString()), (dir / "from-config.json").string())
        << "relative to the config file";
  }
  EmulatorProcess emu(
      {"--config", config.string(), "--snapshot", (dir / "from-flag.json").string()});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  auto d = Json(emu.Admin("POST", "/snapshot").body);
  ASSERT_TRUE(d.HasMember("path"));
  EXPECT_EQ(std::string(d["path"].GetString()), (dir / "from-flag.json").string());
}

TEST(EmulatorSnapshot, AFailedSaveIsReportedAndTheExitCodeSaysSo) {
  testing::TempDir dir;
  const auto sub = dir / "gone";
  std::filesystem::create_directories(sub);
  EmulatorProcess emu({"--snapshot", (sub / "world.json").string()});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  std::filesystem::remove_all(sub);
  auto r = emu.Admin("POST", "/snapshot");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("cannot create"), std::string::npos) << r.body;
  EXPECT_EQ(Stop(emu), 1) << "the world was not saved";
  EXPECT_NE(emu.Log().find("ghl-emulator: snapshot " + (sub / "world.json").string()),
            std::string::npos)
      << emu.Log();
}

// Start-up with `contents` as the snapshot: exit code and output.
std::pair<int, std::string> StartWith(const testing::TempDir& dir, const std::string& contents) {
  const auto file = dir.Write("bad.json", contents);
  return testing::RunToEnd({Emulator(), "--listen", "127.0.0.1:0", "--snapshot", file.string()}, {},
                           dir / "out.log");
}

TEST(EmulatorSnapshot, ABadFileStopsStartUpNamingTheFileAndTheProblem) {
  testing::TempDir dir;
  const std::string file = (dir / "bad.json").string();
  const std::pair<std::string, std::string> cases[] = {
      {R"({"version": 1, "locations": [)", "malformed JSON at byte"},
      {"", "malformed JSON"},
      {R"({"version": 99, "idStream": "1"})", "unknown snapshot version 99"},
      {R"({"idStream": "1"})", "not a ghl-emulator snapshot: it has no \"version\""},
      {"[1]", "not a ghl-emulator snapshot: the top level is not a JSON object"},
      {R"({"version": 1, "idStream": "1", "tokens": [{"token": "t", "kind": "pit"}]})",
       "tokens[0].kind must be one of"},
      {R"({"version": 1, "idStream": "1", "collections": {"contacts": [{"id": "c1"}]}})",
       "collections.contacts[0].doc is missing"},
      {R"({"version": 1, "idStream": "1", "collections": {"widgets": []}})",
       "collections.widgets is not an object the emulator has"},
  };
  for (const auto& [contents, problem] : cases) {
    auto [code, out] = StartWith(dir, contents);
    EXPECT_EQ(code, 1) << contents << "\n" << out;
    EXPECT_NE(out.find("ghl-emulator: snapshot " + file + ": " + problem), std::string::npos)
        << contents << "\n"
        << out;
    EXPECT_EQ(out.find("admin API:"), std::string::npos) << "never an empty world instead";
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line:\n" << out;
  }
}

TEST(EmulatorSnapshot, AMissingDirectoryIsReportedAtStart) {
  testing::TempDir dir;
  const std::string file = (dir / "no-such-dir" / "world.json").string();
  auto [code, out] = testing::RunToEnd({Emulator(), "--listen", "127.0.0.1:0", "--snapshot", file},
                                       {}, dir / "out.log");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(file), std::string::npos) << out;
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
}

}  // namespace
}  // namespace ghl
