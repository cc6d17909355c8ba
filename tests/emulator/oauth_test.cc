// ghl-emulator: OAuth (install → code → tokens → refresh rotation), agency tokens and
// location tokens, INSTALL/UNINSTALL webhooks, driven over real HTTP.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::HttpCall;
using testing::HttpReply;
using testing::Json;

struct App {
  std::string id, secret, app_id;
};

class EmulatorOAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
    if (!emu_->ok()) return;
    // A second location of the seeded company, and one of another company.
    auto sibling =
        Json(emu_->Admin("POST", "/locations",
                         R"({"name":"Second Branch","companyId":")" + emu_->company_id() + "\"}")
                 .body);
    sibling_ = sibling["location"]["id"].GetString();
    auto other = Json(emu_->Admin("POST", "/locations", R"({"companyId":"other-company"})").body);
    foreign_ = other["location"]["id"].GetString();
  }
  static void TearDownTestSuite() { delete emu_; }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << emu_->startup_error(); }

  std::string Loc() const { return emu_->location_id(); }
  std::string Company() const { return emu_->company_id(); }

  App Register() {
    auto r = emu_->Admin("POST", "/oauth/clients", "{}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = Json(r.body);
    return {d["clientId"].GetString(), d["clientSecret"].GetString(), d["appId"].GetString()};
  }
  // A user installs `app` on the seeded location (or, with company, on the agency).
  std::string Authorize(const App& app, bool company = false, const std::string& extra = "") {
    const std::string where = company ? R"("userType":"Company","companyId":")" + Company() + "\""
                                      : R"("userType":"Location","locationId":")" + Loc() + "\"";
    auto r = emu_->Admin("POST", "/oauth/authorize",
                         R"({"clientId":")" + app.id + "\"," + where + extra + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r.body)["code"].GetString();
  }
  HttpReply Form(const std::string& path, const std::string& body,
                 std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/x-www-form-urlencoded");
    return HttpCall("POST", emu_->base_url() + path, body, headers);
  }
  HttpReply Exchange(const App& app, const std::string& code, const std::string& extra = "") {
    return Form("/oauth/token", "client_id=" + app.id + "&client_secret=" + app.secret +
                                    "&grant_type=authorization_code&code=" + code + extra);
  }
  HttpReply Refresh(const App& app, const std::string& refresh, const std::string& extra = "") {
    return Form("/oauth/token", "client_id=" + app.id + "&client_secret=" + app.secret +
                                    "&grant_type=refresh_token&refresh_token=" + refresh + extra);
  }
  // GET /contacts/ of the seeded location with `token`: the status.
  long ListContacts(const std::string& token, const std::string& location = "") {
    return emu_
        ->Api("GET", "/contacts/?locationId=" + (location.empty() ? Loc() : location), "",
              "2021-07-28", token)
        .status;
  }
  uint64_t EventCursor() { return Json(emu_->Admin("GET", "/webhooks").body)["next"].GetUint64(); }
  rapidjson::Document EventsSince(uint64_t cursor) {
    return Json(emu_->Admin("GET", "/webhooks?since=" + std::to_string(cursor)).body);
  }

  static EmulatorProcess* emu_;
  static std::string sibling_, foreign_;
};
EmulatorProcess* EmulatorOAuth::emu_ = nullptr;
std::string EmulatorOAuth::sibling_, EmulatorOAuth::foreign_;

TEST_F(EmulatorOAuth, CodeExchangeGivesALocationTokenThatCallsTheApi) {
  const App app = Register();
  EXPECT_EQ(app.id.substr(0, app.id.find('-')), app.app_id) << "appId is the client id's prefix";
  auto r = Exchange(app, Authorize(app));
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = Json(r.body);
  EXPECT_STREQ(t["token_type"].GetString(), "Bearer");
  EXPECT_EQ(t["expires_in"].GetInt(), 86399);
  EXPECT_STREQ(t["userType"].GetString(), "Location");
  EXPECT_STREQ(t["locationId"].GetString(), Loc().c_str());
  EXPECT_STREQ(t["companyId"].GetString(), Company().c_str());
  EXPECT_FALSE(std::string(t["userId"].GetString()).empty());
  EXPECT_NE(std::string(t["scope"].GetString()).find("contacts.readonly"), std::string::npos);
  EXPECT_FALSE(std::string(t["refresh_token"].GetString()).empty());

  const std::string access = t["access_token"].GetString();
  auto list = emu_->Api("GET", "/contacts/?locationId=" + Loc(), "", "2021-07-28", access);
  EXPECT_EQ(list.status, 200) << list.body;
  EXPECT_FALSE(list.Header("x-ratelimit-remaining").empty());
  // Rate-limited per (app, location), as GHL counts.
  auto requests = Json(emu_->Admin("GET", "/requests").body);
  const auto& log = requests["requests"];
  EXPECT_EQ(std::string(log[log.Size() - 1]["rateKey"].GetString()), app.id + "/location/" + Loc());
  // The location token may not act on another location of the company.
  EXPECT_EQ(ListContacts(access, sibling_), 403);
  // /oauth/token wants no Version header and no bearer token; other routes still do.
  EXPECT_EQ(emu_->Api("GET", "/contacts/?locationId=" + Loc(), "", "", access).status, 400);
}

TEST_F(EmulatorOAuth, RefreshTokensRotateAndTheUsedOneIsRefused) {
  const App app = Register();
  auto first = Json(Exchange(app, Authorize(app)).body);
  const std::string access1 = first["access_token"].GetString();
  const std::string refresh1 = first["refresh_token"].GetString();

  auto r2 = Refresh(app, refresh1, "&user_type=Location");
  ASSERT_EQ(r2.status, 200) << r2.body;
  auto second = Json(r2.body);
  const std::string access2 = second["access_token"].GetString();
  const std::string refresh2 = second["refresh_token"].GetString();
  EXPECT_NE(access2, access1);
  EXPECT_NE(refresh2, refresh1) << "each refresh returns a new refresh token";
  EXPECT_STREQ(second["locationId"].GetString(), Loc().c_str());
  EXPECT_EQ(ListContacts(access2), 200);
  EXPECT_EQ(ListContacts(access1), 200) << "the older access token lives until it expires";

  auto reused = Refresh(app, refresh1);
  EXPECT_EQ(reused.status, 400) << reused.body;
  EXPECT_EQ(Json(reused.body)["message"].GetString(),
            std::string("Invalid grant: refresh token is invalid"));

  auto r3 = Refresh(app, refresh2);
  ASSERT_EQ(r3.status, 200) << r3.body;
  EXPECT_EQ(ListContacts(Json(r3.body)["access_token"].GetString()), 200);
  // The wrong user_type for the install is refused.
  auto wrong = Refresh(app, Json(r3.body)["refresh_token"].GetString(), "&user_type=Company");
  EXPECT_EQ(wrong.status, 400) << wrong.body;
}

TEST_F(EmulatorOAuth, ExpiredTokensAreRefused) {
  const App app = Register();
  auto t = Json(Exchange(app, Authorize(app)).body);
  const std::string access = t["access_token"].GetString();
  ASSERT_EQ(ListContacts(access), 200);
  auto e = emu_->Admin("POST", "/oauth/expire", R"({"accessToken":")" + access + "\"}");
  ASSERT_EQ(e.status, 200) << e.body;
  auto after = emu_->Api("GET", "/contacts/?locationId=" + Loc(), "", "2021-07-28", access);
  EXPECT_EQ(after.status, 401);
  EXPECT_STREQ(Json(after.body)["error"].GetString(), "Unauthorized");

  // The refresh token still works after the access token expired; once it expires too,
  // only a new install helps.
  auto r = Refresh(app, t["refresh_token"].GetString());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ListContacts(Json(r.body)["access_token"].GetString()), 200);
  const std::string refresh = Json(r.body)["refresh_token"].GetString();
  emu_->Admin("POST", "/oauth/expire", R"({"refreshToken":")" + refresh + "\"}");
  auto gone = Refresh(app, refresh);
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(Json(gone.body)["message"].GetString(),
            std::string("Invalid grant: refresh token has expired"));
  EXPECT_EQ(emu_->Admin("POST", "/oauth/expire", R"({"accessToken":"nope"})").status, 404);
}

TEST_F(EmulatorOAuth, AccessTokenLifetimeFollowsTheConfiguredTtl) {
  const App app = Register();
  ASSERT_EQ(emu_->Admin("PUT", "/config", R"({"accessTokenTtlS":1})").status, 200);
  auto t = Json(Exchange(app, Authorize(app)).body);
  emu_->Admin("PUT", "/config", R"({"accessTokenTtlS":86399})");
  EXPECT_EQ(t["expires_in"].GetInt(), 1);
  const std::string access = t["access_token"].GetString();
  EXPECT_EQ(ListContacts(access), 200);
  std::this_thread::sleep_for(1050ms);
  EXPECT_EQ(ListContacts(access), 401);
}

TEST_F(EmulatorOAuth, CodesAreOneTimeShortLivedAndBoundToTheirApp) {
  const App app = Register(), other = Register();
  const std::string code = Authorize(app, false, R"(,"redirectUri":"https://app.example/cb")");
  auto theft = Exchange(other, code);
  EXPECT_EQ(theft.status, 400) << "a code works only for the app it was issued to";
  auto wrong_uri = Exchange(app, code, "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb");
  EXPECT_EQ(wrong_uri.status, 400) << wrong_uri.body;
  auto ok = Exchange(app, code, "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb");
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto again = Exchange(app, code);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(Json(again.body)["message"].GetString(),
            std::string("Invalid grant: authorization code is invalid"));

  const std::string stale = Authorize(app);
  emu_->Admin("POST", "/oauth/expire", R"({"code":")" + stale + "\"}");
  auto late = Exchange(app, stale);
  EXPECT_EQ(late.status, 400);
  EXPECT_EQ(Json(late.body)["message"].GetString(),
            std::string("Invalid grant: authorization code has expired"));
}

TEST_F(EmulatorOAuth, BadClientCredentialsAndBadRequestsAreRefused) {
  const App app = Register();
  const std::string code = Authorize(app);
  auto wrong_secret = Form("/oauth/token", "client_id=" + app.id +
                                               "&client_secret=nope&grant_type=authorization_code"
                                               "&code=" +
                                               code);
  EXPECT_EQ(wrong_secret.status, 401);
  auto w = Json(wrong_secret.body);
  EXPECT_EQ(w["statusCode"].GetInt(), 401);
  EXPECT_STREQ(w["error"].GetString(), "Unauthorized");
  auto unknown = Form("/oauth/token",
                      "client_id=nobody&client_secret=x&grant_type=refresh_token"
                      "&refresh_token=y");
  EXPECT_EQ(unknown.status, 401);
  auto bad_code = Exchange(app, "not-a-code");
  EXPECT_EQ(bad_code.status, 400);
  EXPECT_EQ(Json(bad_code.body)["statusCode"].GetInt(), 400);
  EXPECT_EQ(Exchange(app, "").status, 400) << "authorization_code needs a code";
  EXPECT_EQ(Exchange(app, code).status, 200) << "failed attempts did not use the code up";

  auto missing = Form("/oauth/token", "grant_type=password&user_type=Agency");
  ASSERT_EQ(missing.status, 422) << missing.body;
  auto m = Json(missing.body);
  std::vector<std::string> messages;
  for (const auto& s : m["message"].GetArray()) messages.emplace_back(s.GetString());
  EXPECT_EQ(messages, (std::vector<std::string>{
                          "client_id should not be empty", "client_secret should not be empty",
                          "grant_type must be one of the following values: authorization_code, "
                          "refresh_token, client_credentials",
                          "user_type must be one of the following values: Company, Location"}));
  auto credentials = Form("/oauth/token", "client_id=" + app.id + "&client_secret=" + app.secret +
                                              "&grant_type=client_credentials");
  EXPECT_EQ(credentials.status, 400);
}

TEST_F(EmulatorOAuth, TheTokenEndpointReadsOnlyFormBodies) {
  const App app = Register();
  const std::string code = Authorize(app);
  const std::string json = R"({"client_id":")" + app.id + R"(","client_secret":")" + app.secret +
                           R"(","grant_type":"authorization_code","code":")" + code + "\"}";
  auto as_json =
      HttpCall("POST", emu_->base_url() + "/oauth/token", json, {"Content-Type: application/json"});
  EXPECT_EQ(as_json.status, 422) << as_json.body;
  EXPECT_NE(as_json.body.find("client_id should not be empty"), std::string::npos);
  // Form bodies with a charset parameter and percent-encoding are fine.
  auto form = HttpCall("POST", emu_->base_url() + "/oauth/token",
                       "client_id=" + app.id + "&client_secret=" + app.secret +
                           "&grant_type=authorization%5Fcode&code=" + code,
                       {"Content-Type: application/x-www-form-urlencoded; charset=UTF-8"});
  EXPECT_EQ(form.status, 200) << form.body;
}

TEST_F(EmulatorOAuth, AgencyTokenMintsLocationTokens) {
  const App app = Register();
  auto r = Exchange(app, Authorize(app, true), "&user_type=Company");
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = Json(r.body);
  EXPECT_STREQ(t["userType"].GetString(), "Company");
  EXPECT_STREQ(t["companyId"].GetString(), Company().c_str());
  EXPECT_FALSE(t.HasMember("locationId")) << "locationId is only for Sub-Account tokens";
  EXPECT_EQ(t["approvedLocations"].Size(), 2u) << "both locations of the company";
  EXPECT_TRUE(t["isBulkInstallation"].GetBool());
  const std::string agency = t["access_token"].GetString();

  // An agency token is not a location token.
  auto on_location = emu_->Api("GET", "/contacts/?locationId=" + Loc(), "", "2021-07-28", agency);
  EXPECT_EQ(on_location.status, 401);
  EXPECT_STREQ(Json(on_location.body)["error"].GetString(), "Unauthorized");

  const std::vector<std::string> auth = {"Authorization: Bearer " + agency, "Version: 2021-07-28"};
  auto lt = Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + Loc(), auth);
  ASSERT_EQ(lt.status, 200) << lt.body;
  auto l = Json(lt.body);
  EXPECT_STREQ(l["locationId"].GetString(), Loc().c_str());
  EXPECT_STREQ(l["appId"].GetString(), app.app_id.c_str());
  EXPECT_EQ(l["expires_in"].GetInt(), 86399);
  EXPECT_FALSE(std::string(l["userId"].GetString()).empty());
  const std::string location_token = l["access_token"].GetString();
  EXPECT_EQ(ListContacts(location_token), 200);
  // Its refresh token (Inferred) refreshes as a Location token.
  auto refreshed = Refresh(app, l["refresh_token"].GetString(), "&user_type=Location");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(ListContacts(Json(refreshed.body)["access_token"].GetString()), 200);

  EXPECT_EQ(Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + Loc(),
                 {"Authorization: Bearer " + location_token, "Version: 2021-07-28"})
                .status,
            401)
      << "only agency tokens mint location tokens";
  EXPECT_EQ(Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + Loc(),
                 {"Authorization: Bearer " + agency})
                .status,
            400)
      << "Version header required";
  auto missing = Form("/oauth/locationToken", "companyId=" + Company(), auth);
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("locationId should not be empty"), std::string::npos);
  EXPECT_EQ(
      Form("/oauth/locationToken", "companyId=other-company&locationId=" + foreign_, auth).status,
      403);
  EXPECT_EQ(Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + foreign_, auth)
                .status,
            400);
}

TEST_F(EmulatorOAuth, LocationTokenNeedsTheAppInstalledOnTheLocation) {
  const App app = Register();
  auto t = Json(Exchange(app, Authorize(app, true, R"(,"locationIds":[")" + Loc() + "\"]")).body);
  ASSERT_EQ(t["approvedLocations"].Size(), 1u);
  EXPECT_FALSE(t["approveAllLocations"].GetBool());
  const std::vector<std::string> auth = {
      "Authorization: Bearer " + std::string(t["access_token"].GetString()), "Version: 2021-07-28"};
  EXPECT_EQ(
      Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + Loc(), auth).status,
      200);
  auto not_installed =
      Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + sibling_, auth);
  EXPECT_EQ(not_installed.status, 400) << not_installed.body;
}

TEST_F(EmulatorOAuth, InstalledLocationsListsTheCompanysLocations) {
  const App app = Register();
  auto t = Json(Exchange(app, Authorize(app, true, R"(,"locationIds":[")" + Loc() + "\"]")).body);
  const std::string agency = t["access_token"].GetString();
  const auto get = [&](const std::string& query) {
    return emu_->Api("GET", "/oauth/installedLocations?" + query, "", "2021-07-28", agency);
  };
  const std::string base = "companyId=" + Company() + "&appId=" + app.app_id;
  auto all = get(base);
  ASSERT_EQ(all.status, 200) << all.body;
  auto d = Json(all.body);
  EXPECT_EQ(d["count"].GetInt(), 2);
  ASSERT_EQ(d["locations"].Size(), 2u);
  for (const auto& l : d["locations"].GetArray()) {
    const bool here = l["_id"].GetString() == Loc();
    EXPECT_EQ(l["isInstalled"].GetBool(), here);
    EXPECT_TRUE(l.HasMember("name") && l.HasMember("address"));
    EXPECT_EQ(l.HasMember("installedAt"), here);
  }
  auto installed = Json(get(base + "&isInstalled=true").body);
  ASSERT_EQ(installed["locations"].Size(), 1u);
  EXPECT_STREQ(installed["locations"][0]["_id"].GetString(), Loc().c_str());
  auto named = Json(get(base + "&query=second").body);
  ASSERT_EQ(named["locations"].Size(), 1u);
  EXPECT_STREQ(named["locations"][0]["_id"].GetString(), sibling_.c_str());
  auto paged = Json(get(base + "&skip=1&limit=1").body);
  EXPECT_EQ(paged["locations"].Size(), 1u);
  EXPECT_EQ(paged["count"].GetInt(), 2);

  auto one = Json(get(base + "&locationId=" + sibling_).body);
  ASSERT_EQ(one["locations"].Size(), 1u);
  EXPECT_FALSE(one["locations"][0]["isInstalled"].GetBool());
  EXPECT_EQ(Json(get(base + "&onTrial=true").body)["count"].GetInt(), 0) << "no trials here";
  EXPECT_EQ(get(base + "&skip=first").status, 422);

  auto missing = get("companyId=" + Company());
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("appId should not be empty"), std::string::npos);
  EXPECT_EQ(get("companyId=other-company&appId=" + app.app_id).status, 403);
  EXPECT_EQ(
      emu_->Api("GET", "/oauth/installedLocations?" + base, "", "2021-07-28", emu_->token()).status,
      401)
      << "a location PIT is not an agency token";
}

TEST_F(EmulatorOAuth, InstallAndUninstallFireTheDocumentedWebhooks) {
  const App app = Register();
  uint64_t cursor = EventCursor();
  Authorize(app);
  Authorize(app);  // consenting again is not a new install
  auto events = EventsSince(cursor);
  ASSERT_EQ(events["events"].Size(), 1u);
  const auto& install = events["events"][0];
  EXPECT_STREQ(install["type"].GetString(), "INSTALL");
  EXPECT_STREQ(install["appId"].GetString(), app.app_id.c_str());
  EXPECT_STREQ(install["locationId"].GetString(), Loc().c_str());
  EXPECT_STREQ(install["companyId"].GetString(), Company().c_str());
  EXPECT_TRUE(install.HasMember("userId"));
  EXPECT_FALSE(install["isWhitelabelCompany"].GetBool());

  cursor = EventCursor();
  ASSERT_EQ(emu_->Admin("POST", "/oauth/uninstall",
                        R"({"clientId":")" + app.id + R"(","locationId":")" + Loc() + "\"}")
                .status,
            200);
  events = EventsSince(cursor);
  ASSERT_EQ(events["events"].Size(), 1u);
  const auto& uninstall = events["events"][0];
  EXPECT_STREQ(uninstall["type"].GetString(), "UNINSTALL");
  EXPECT_STREQ(uninstall["appId"].GetString(), app.app_id.c_str());
  EXPECT_STREQ(uninstall["locationId"].GetString(), Loc().c_str());
  EXPECT_FALSE(uninstall.HasMember("companyId")) << "location-level UNINSTALL: appId, locationId";

  // Agency level: the agency event (no locationId), then one per approved location.
  cursor = EventCursor();
  Authorize(app, true);
  events = EventsSince(cursor);
  ASSERT_EQ(events["events"].Size(), 3u);
  const auto& agency = events["events"][0];
  EXPECT_STREQ(agency["type"].GetString(), "INSTALL");
  EXPECT_STREQ(agency["companyId"].GetString(), Company().c_str());
  EXPECT_FALSE(agency.HasMember("userId"));
  // AppInstall.md's agency example has no locationId. Emulator::Emit always writes one, so
  // until it leaves out an empty one, accept "".
  EXPECT_FALSE(agency.HasMember("locationId")) << "an agency-level install has no locationId";
  for (int i : {1, 2}) {
    EXPECT_STREQ(events["events"][i]["type"].GetString(), "INSTALL");
    EXPECT_STREQ(events["events"][i]["companyId"].GetString(), Company().c_str());
  }

  cursor = EventCursor();
  ASSERT_EQ(emu_->Admin("POST", "/oauth/uninstall",
                        R"({"clientId":")" + app.id + R"(","companyId":")" + Company() + "\"}")
                .status,
            200);
  events = EventsSince(cursor);
  ASSERT_EQ(events["events"].Size(), 3u);
  const auto& last = events["events"][2];
  EXPECT_STREQ(last["type"].GetString(), "UNINSTALL");
  EXPECT_STREQ(last["companyId"].GetString(), Company().c_str());
  EXPECT_EQ(emu_->Admin("POST", "/oauth/uninstall",
                        R"({"clientId":")" + app.id + R"(","companyId":")" + Company() + "\"}")
                .status,
            404)
      << "not installed any more";
}

TEST_F(EmulatorOAuth, UninstallRevokesTheAppsTokensThere) {
  const App app = Register(), bystander = Register();
  auto t = Json(Exchange(app, Authorize(app)).body);
  auto other = Json(Exchange(bystander, Authorize(bystander)).body);
  const std::string unused_code = Authorize(app);
  ASSERT_EQ(ListContacts(t["access_token"].GetString()), 200);
  emu_->Admin("POST", "/oauth/uninstall",
              R"({"clientId":")" + app.id + R"(","locationId":")" + Loc() + "\"}");
  EXPECT_EQ(ListContacts(t["access_token"].GetString()), 401);
  EXPECT_EQ(Refresh(app, t["refresh_token"].GetString()).status, 400);
  EXPECT_EQ(Exchange(app, unused_code).status, 400);
  EXPECT_EQ(ListContacts(other["access_token"].GetString()), 200) << "other apps are untouched";
  EXPECT_EQ(ListContacts(emu_->token()), 200) << "and so is the PIT";

  // Agency uninstall revokes the agency token and the location tokens it minted.
  auto a = Json(Exchange(app, Authorize(app, true)).body);
  const std::string agency = a["access_token"].GetString();
  auto lt = Json(Form("/oauth/locationToken", "companyId=" + Company() + "&locationId=" + Loc(),
                      {"Authorization: Bearer " + agency, "Version: 2021-07-28"})
                     .body);
  const std::string location_token = lt["access_token"].GetString();
  ASSERT_EQ(ListContacts(location_token), 200);
  emu_->Admin("POST", "/oauth/uninstall",
              R"({"clientId":")" + app.id + R"(","companyId":")" + Company() + "\"}");
  EXPECT_EQ(ListContacts(location_token), 401);
  EXPECT_EQ(
      emu_->Api("GET", "/oauth/installedLocations?companyId=" + Company() + "&appId=" + app.app_id,
                "", "2021-07-28", agency)
          .status,
      401);
  EXPECT_EQ(Refresh(app, a["refresh_token"].GetString()).status, 400);
}

TEST_F(EmulatorOAuth, AdminRejectsUnknownAppsAndPlaces) {
  EXPECT_EQ(
      emu_->Admin("POST", "/oauth/authorize",
                  R"({"clientId":"nobody","userType":"Location","locationId":")" + Loc() + "\"}")
          .status,
      404);
  const App app = Register();
  EXPECT_EQ(emu_->Admin("POST", "/oauth/authorize",
                        R"({"clientId":")" + app.id + R"(","userType":"Agency"})")
                .status,
            422);
  EXPECT_EQ(emu_->Admin("POST", "/oauth/authorize",
                        R"({"clientId":")" + app.id +
                            R"(","userType":"Location","locationId":"nowhere"})")
                .status,
            404);
  auto fixed = emu_->Admin("POST", "/oauth/clients", R"({"clientId":"my-app","clientSecret":"s"})");
  ASSERT_EQ(fixed.status, 201) << fixed.body;
  EXPECT_STREQ(Json(fixed.body)["appId"].GetString(), "my");
  EXPECT_EQ(
      emu_->Admin("POST", "/oauth/clients", R"({"clientId":"my-app","clientSecret":"s"})").status,
      400);
  auto redirect = Json(emu_->Admin("POST", "/oauth/authorize",
                                   R"({"clientId":"my-app","userType":"Location","locationId":")" +
                                       Loc() + R"(","redirectUri":"https://app.example/cb"})")
                           .body);
  EXPECT_EQ(std::string(redirect["redirectUrl"].GetString()),
            "https://app.example/cb?code=" + std::string(redirect["code"].GetString()));
}

}  // namespace
}  // namespace ghl
