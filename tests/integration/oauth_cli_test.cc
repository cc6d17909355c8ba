// `ghl-syncd auth` and `ghl-syncd run` with `auth: oauth`, as a user meets them: the real
// binaries, a real ghl-emulator, the redirect over real HTTP on loopback.
#include <gtest/gtest.h>

#include <regex>

#include "state/app_installs.h"
#include "state/inbox.h"
#include "state/oauth_tokens.h"
#include "state/sqlite_state_store.h"
#include "tests/integration/oauth_emulator.h"
#include "tests/support/sync_harness.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::HttpCall;
using testing::Json;
using testing::Process;

const std::string kBinary = std::string(GHL_BINARY_DIR) + "/ghl-syncd";
// GHL sends the browser here; the test plays the browser and forwards it to --port.
constexpr const char* kRedirect = "http://127.0.0.1:1/oauth/callback";

class AuthCommandTest : public testing::OAuthSuite {
 protected:
  void SetUp() override {
    OAuthSuite::SetUp();
    if (HasFatalFailure()) return;
    client_id_ = app_.id;
    secret_ = app_.secret;
    std::filesystem::create_directories(dir_ / "mappings");
    WriteConfig(client_id_);
  }

  void WriteConfig(const std::string& client_id, const std::string& extra = "") {
    config_ = dir_.Write("ghl-syncd.yaml", "ghl:\n  base_url: " + emu_->base_url() + R"(
  oauth:
    client_id: ")" + client_id + R"("
    client_secret: ${TEST_OAUTH_SECRET}
    redirect_uri: )" + kRedirect + R"(
  locations:
    - id: )" + emu_->location_id() + R"(
      auth: oauth
state:
  path: state.db
http:
  listen: 127.0.0.1:0
logging:
  format: text
mappings_dir: mappings
)" + extra);
  }

  std::unique_ptr<Process> Run(std::vector<std::string> args) {
    args.insert(args.begin(), kBinary);
    args.insert(args.end(), {"--config", config_.string()});
    return std::make_unique<Process>(
        args, std::map<std::string, std::string>{{"TEST_OAUTH_SECRET", secret_}},
        dir_ / ("run-" + std::to_string(++runs_) + ".log"));
  }
  std::string Authorize(const std::string& where) {
    auto r = emu_->Admin(
        "POST", "/oauth/authorize",
        R"({"clientId":")" + client_id_ + R"(","redirectUri":")" + kRedirect + "\"," + where + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r.body)["redirectUrl"].GetString();
  }
  std::vector<state::OAuthTokens> Stored() {
    auto store = state::OpenSqlite({.path = dir_ / "state.db"});
    EXPECT_TRUE(store.ok());
    return state::OAuthTokenStore((*store)->db()).LoadAll().value();
  }
  // No token, secret or code in what the command printed.
  void ExpectNoSecrets(const std::string& output, const std::string& code) {
    EXPECT_EQ(output.find(secret_), std::string::npos) << output;
    EXPECT_EQ(output.find(code), std::string::npos) << output;
    for (const auto& t : Stored()) {
      EXPECT_EQ(output.find(t.access_token.Reveal()), std::string::npos) << output;
      EXPECT_EQ(output.find(t.refresh_token.Reveal()), std::string::npos) << output;
    }
  }

  testing::TempDir dir_;
  std::filesystem::path config_;
  std::string client_id_, secret_;
  int runs_ = 0;
};

TEST_F(AuthCommandTest, PrintsTheUrlTakesTheRedirectAndStoresTheLocationsTokens) {
  auto auth = Run({"auth", "--port", "0"});
  ASSERT_TRUE(auth->WaitForLog("Waiting for GHL's redirect", 20s)) << auth->Log();
  std::smatch m;
  const std::string log = auth->Log();
  ASSERT_TRUE(
      std::regex_search(log, m, std::regex(R"(on http://127\.0\.0\.1:(\d+)/oauth/callback)")))
      << log;
  const std::string port = m[1];
  EXPECT_NE(log.find("https://marketplace.gohighlevel.com/v2/oauth/chooselocation?response_type="
                     "code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Foauth%2Fcallback&client_id=" +
                     client_id_ + "&scope=contacts.readonly%20contacts.write%20"),
            std::string::npos)
      << log;

  // The user consents; the browser follows GHL's redirect to the listener.
  std::string redirect =
      Authorize(R"("userType":"Location","locationId":")" + emu_->location_id() + "\"");
  const std::string code = redirect.substr(redirect.find("code=") + 5);
  EXPECT_EQ(HttpCall("GET", "http://127.0.0.1:" + port + "/favicon.ico").status, 404);
  auto page = HttpCall("GET", "http://127.0.0.1:" + port + "/oauth/callback?code=" + code);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("installed for location " + emu_->location_id()), std::string::npos)
      << page.body;
  ASSERT_EQ(auth->Wait(20s), 0) << auth->Log();

  const std::string out = auth->Log();
  EXPECT_NE(out.find("Installed: location " + emu_->location_id() + " of company " +
                     emu_->company_id() + "; scopes: contacts.readonly"),
            std::string::npos)
      << out;
  auto stored = Stored();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].resource, emu_->location_id());
  EXPECT_EQ(stored[0].client_id, client_id_);
  ExpectNoSecrets(out, code);
}

TEST_F(AuthCommandTest, AHeadlessAgencyInstallMintsTheApprovedLocations) {
  const std::string redirect =
      Authorize(R"("userType":"Company","companyId":")" + emu_->company_id() + "\"");
  const std::string code = redirect.substr(redirect.find("code=") + 5);
  auto auth = Run({"auth", "--code", code});
  ASSERT_EQ(auth->Wait(30s), 0) << auth->Log();
  const std::string out = auth->Log();
  EXPECT_NE(out.find("Installed: company " + emu_->company_id() + " (agency token)"),
            std::string::npos)
      << out;
  for (const auto& location : {emu_->location_id(), sibling_}) {
    EXPECT_NE(out.find("location " + location + ": location token stored"), std::string::npos)
        << out;
  }
  auto stored = Stored();
  ASSERT_EQ(stored.size(), 3u);  // the company and its two locations
  for (const auto& t : stored) {
    if (t.resource == emu_->company_id()) continue;
    EXPECT_EQ(t.user_type, state::OAuthUserType::kLocation);
    EXPECT_EQ(t.company_id, emu_->company_id());
  }
  ExpectNoSecrets(out, code);
}

TEST_F(AuthCommandTest, ABadCodeOrAMissingAppSaysWhatToDo) {
  auto bad = Run({"auth", "--code", "not-a-code"});
  EXPECT_EQ(bad->Wait(20s), 1) << bad->Log();
  EXPECT_NE(bad->Log().find("authorize again"), std::string::npos) << bad->Log();
  EXPECT_TRUE(Stored().empty());

  WriteConfig("");
  auto unconfigured = Run({"auth", "--code", "x"});
  EXPECT_EQ(unconfigured->Wait(20s), 78) << unconfigured->Log();
  EXPECT_NE(unconfigured->Log().find("ghl.oauth.client_id"), std::string::npos)
      << unconfigured->Log();
}

TEST_F(AuthCommandTest, TheDaemonServesAnOAuthLocationAndRefreshesItAfterA401) {
  const std::string redirect =
      Authorize(R"("userType":"Location","locationId":")" + emu_->location_id() + "\"");
  auto auth = Run({"auth", "--code", redirect.substr(redirect.find("code=") + 5)});
  ASSERT_EQ(auth->Wait(30s), 0) << auth->Log();
  const std::string first = Stored()[0].access_token.Reveal();
  // The access token dies early: the daemon's first call gets a 401 and refreshes.
  ASSERT_EQ(emu_->Admin("POST", "/oauth/expire", R"({"accessToken":")" + first + "\"}").status,
            200);

  auto daemon = Run({"run"});
  ASSERT_TRUE(
      daemon->WaitForLog("location " + emu_->location_id() + ": GHL accepted the token", 30s))
      << daemon->Log();
  EXPECT_NE(daemon->Log().find("OAuth tokens refreshed"), std::string::npos) << daemon->Log();
  std::smatch port;
  const std::string log = daemon->Log();
  ASSERT_TRUE(std::regex_search(log, port, std::regex(R"(http listener on 127\.0\.0\.1:(\d+))")));
  const std::string metrics =
      testing::HttpRequest("http://127.0.0.1:" + port[1].str() + "/metrics").body;
  EXPECT_NE(metrics.find(R"(ghl_syncd_oauth_refreshes_total{outcome="ok"} 1)"), std::string::npos)
      << metrics;
  EXPECT_EQ(daemon->Log().find(first), std::string::npos);
  EXPECT_EQ(daemon->Log().find(secret_), std::string::npos);
  const auto stored = Stored();
  EXPECT_EQ(stored[0].generation, 2);
  EXPECT_EQ(daemon->Log().find(stored[0].access_token.Reveal()), std::string::npos);
  EXPECT_EQ(daemon->Log().find(stored[0].refresh_token.Reveal()), std::string::npos);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0) << daemon->Log();
}

// A Marketplace app as an agency runs it: the daemon serves the locations the app is
// installed on, INSTALL and UNINSTALL webhooks add and remove them while it runs, and what
// it learned survives a restart.
class InstallWebhookTest : public AuthCommandTest {
 protected:
  void SetUp() override {
    AuthCommandTest::SetUp();
    if (HasFatalFailure()) return;
    auto info = Json(emu_->Admin("GET", "/info").body);
    ASSERT_TRUE(info.IsObject() && info.HasMember("webhookPublicKeys"));
    dir_.Write("keys/ed25519.pem", info["webhookPublicKeys"]["ed25519"].GetString());
    webhook_port_ = testing::FreePort();
    auto r = emu_->Admin(
        "PUT", "/webhooks/config",
        R"({"urls":["http://127.0.0.1:)" + std::to_string(webhook_port_) + R"(/webhooks/ghl"]})");
    ASSERT_EQ(r.status, 200) << r.body;
    WriteConfig(client_id_, R"(webhooks:
  enabled: true
  listen: 127.0.0.1:)" + std::to_string(webhook_port_) +
                                R"(
  builtin_keys: false
  public_key_files: [keys/ed25519.pem]
connectors:
  crm: {type: csv, dir: data}
)");
    dir_.Write("data/contacts.csv", "id,email,first_name\n");
    // No `locations:`: every location, the installed ones included.
    dir_.Write("mappings/contacts.yaml", R"(object: contacts
external: {connector: crm, file: contacts.csv}
key: id
match: [email]
poll_interval: 1s
fields:
  - {ghl: email, external: email}
  - {ghl: firstName, external: first_name}
)");
  }
  void TearDown() override { emu_->Admin("PUT", "/webhooks/config", R"({"urls":[]})"); }

  // A contact created in GHL by a person, which fires ContactCreate.
  std::string CreateContact(const std::string& location, const std::string& email) {
    auto r = emu_->Admin("POST", "/user/contacts/",
                         R"({"locationId":")" + location + R"(","email":")" + email +
                             R"(","firstName":"Installed"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r.body)["contact"]["id"].GetString() : "";
  }
  bool CsvHas(const std::string& needle, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(dir_ / "data/contacts.csv");
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // "<state>: <note>" of the newest inbox row whose body has `needle`, once it is processed.
  std::string InboxNote(const std::string& needle, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto store = state::OpenSqlite({.path = dir_ / "state.db"});
      if (store.ok()) {
        auto stmt = (*store)->db().Prepare(
            "SELECT state, note FROM webhook_inbox WHERE instr(body, ?1) > 0 ORDER BY id DESC "
            "LIMIT 1");
        if (stmt.ok() && stmt->BindText(1, needle).ok()) {
          auto row = stmt->Step();
          if (row.ok() && *row && stmt->ColumnText(0) != "new") {
            return stmt->ColumnText(0) + ": " + stmt->ColumnText(1);
          }
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    return "";
  }
  void Agency(const std::string& locations) {
    const std::string redirect = Authorize(R"("userType":"Company","companyId":")" +
                                           emu_->company_id() + R"(","locationIds":)" + locations);
    auto auth = Run({"auth", "--code", redirect.substr(redirect.find("code=") + 5)});
    ASSERT_EQ(auth->Wait(30s), 0) << auth->Log();
  }
  bool HasTokens(const std::string& resource) {
    for (const auto& t : Stored()) {
      if (t.resource == resource) return true;
    }
    return false;
  }

  uint16_t webhook_port_ = 0;
};

TEST_F(InstallWebhookTest, InstallAddsALocationAtRunTimeAndUninstallRemovesIt) {
  // The agency token, with the app on the configured location only.
  Agency("[\"" + emu_->location_id() + "\"]");
  ASSERT_FALSE(HasTokens(sibling_));
  auto daemon = Run({"run"});
  ASSERT_TRUE(
      daemon->WaitForLog("location " + emu_->location_id() + ": GHL accepted the token", 30s))
      << daemon->Log();

  // The agency installs the app on a second location: INSTALL reaches the daemon, which
  // mints its token from the agency token and syncs its contacts.
  Authorize(R"("userType":"Company","companyId":")" + emu_->company_id() + R"(","locationIds":[")" +
            sibling_ + "\"]");
  ASSERT_TRUE(daemon->WaitForLog("location " + sibling_ + ": GHL accepted the token", 30s))
      << daemon->Log();
  EXPECT_TRUE(HasTokens(sibling_));
  CreateContact(sibling_, "branch2@example.com");
  EXPECT_TRUE(CsvHas("branch2@example.com", 30s)) << daemon->Log();
  EXPECT_EQ(InboxNote(R"("type":"INSTALL")", 10s), "done: INSTALL");

  // Another app's INSTALL on the same location is not this daemon's business.
  const auto other = world_->Register();
  ASSERT_EQ(emu_->Admin("POST", "/oauth/authorize",
                        R"({"clientId":")" + other.id +
                            R"(","userType":"Location","locationId":")" + sibling_ + "\"}")
                .status,
            201);
  const std::string note = InboxNote(other.id.substr(0, other.id.find('-')), 10s);
  EXPECT_NE(note.find("skipped: INSTALL of another app"), std::string::npos) << note;

  // A restart keeps serving the installed location.
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(20s), 0) << daemon->Log();
  daemon = Run({"run"});
  ASSERT_TRUE(daemon->WaitForLog("location " + sibling_ + ": GHL accepted the token", 30s))
      << daemon->Log();
  EXPECT_NE(daemon->Log().find("(+1 installed at run time)"), std::string::npos) << daemon->Log();
  CreateContact(sibling_, "after-restart@example.com");
  EXPECT_TRUE(CsvHas("after-restart@example.com", 30s)) << daemon->Log();

  // UNINSTALL: the location's tokens are forgotten and it is no longer served.
  ASSERT_EQ(emu_->Admin("POST", "/oauth/uninstall",
                        R"({"clientId":")" + client_id_ + R"(","locationId":")" + sibling_ + "\"}")
                .status,
            200);
  ASSERT_TRUE(daemon->WaitForLog("location " + sibling_ + ": the app is uninstalled", 30s))
      << daemon->Log();
  EXPECT_FALSE(HasTokens(sibling_));
  EXPECT_TRUE(HasTokens(emu_->location_id()));
  CreateContact(sibling_, "uninstalled@example.com");
  const std::string skipped = InboxNote("uninstalled@example.com", 10s);
  EXPECT_NE(skipped.find("skipped: no sync serves contacts of location '" + sibling_ + "'"),
            std::string::npos)
      << skipped;
  std::smatch port;
  const std::string log = daemon->Log();
  ASSERT_TRUE(std::regex_search(log, port, std::regex(R"(http listener on 127\.0\.0\.1:(\d+))")));
  EXPECT_EQ(testing::HttpRequest("http://127.0.0.1:" + port[1].str() + "/readyz").status, 200);
  for (const auto& t : Stored()) {
    EXPECT_EQ(log.find(t.access_token.Reveal()), std::string::npos);
    EXPECT_EQ(log.find(t.refresh_token.Reveal()), std::string::npos);
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0) << daemon->Log();
}

}  // namespace
}  // namespace ghl
