// OAuth token sources against a real ghl-emulator and a real SQLite state file: code
// exchange, refresh ahead of expiry, one refresh per resource, the rotated pair committed
// before use, agency → location tokens, 401 → refresh → retry, recovery after a refresh
// whose answer was lost, and a process killed -9 around its refreshes.
#include "connectors/ghl/oauth.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "state/sqlite_state_store.h"
#include "tests/integration/oauth_emulator.h"

namespace ghl::ghl_client {
namespace {

using namespace std::chrono_literals;
using state::OAuthTokens;
using state::OAuthTokenStore;
using testing::EmulatorProcess;
using testing::Json;

class OAuthTest : public testing::OAuthSuite {
 protected:
  void SetUp() override {
    OAuthSuite::SetUp();
    if (HasFatalFailure()) return;
    store_ = Open();
  }

  std::unique_ptr<state::SqliteStateStore> Open() {
    auto store = state::OpenSqlite({.path = dir_ / "state.db"});
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return std::move(store).value();
  }
  OAuthOptions Options() const {
    OAuthOptions o;
    o.client_id = app_.id;
    o.client_secret = Secret(app_.secret);
    o.token_url = emu_->base_url() + "/oauth/token";
    o.location_token_url = emu_->base_url() + "/oauth/locationToken";
    o.timeout = 5s;
    o.retry_delay = 200ms;
    o.on_refresh = [this](const char* outcome) { refreshes_.emplace_back(outcome); };
    return o;
  }
  // How refreshes ended, in order (OAuthOptions::on_refresh; the daemon's metric).
  mutable std::vector<std::string> refreshes_;
  std::shared_ptr<OAuthSessions> Sessions(const Clock& clock) {
    return OAuthSessions::Create(io_, curl_, store_->db(), clock, Options());
  }

  static std::string Loc() { return emu_->location_id(); }
  static std::string Company() { return emu_->company_id(); }

  // A user consents on the chooselocation page: a one-time code.
  std::string Authorize(bool company = false) {
    const std::string where = company ? R"("userType":"Company","companyId":")" + Company() + "\""
                                      : R"("userType":"Location","locationId":")" + Loc() + "\"";
    auto r =
        emu_->Admin("POST", "/oauth/authorize", R"({"clientId":")" + app_.id + "\"," + where + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r.body)["code"].GetString();
  }
  Installed Exchange(OAuthSessions& sessions, const std::string& code) {
    std::optional<Result<Installed>> got;
    sessions.ExchangeCode(code, "", [&](Result<Installed> r) { got = std::move(r); });
    RunUntil([&] { return got.has_value(); });
    EXPECT_TRUE(got && got->ok()) << (got && !got->ok() ? got->error().message : "no answer");
    return got && got->ok() ? got->value() : Installed{};
  }
  OAuthTokens Mint(OAuthSessions& sessions, const std::string& location) {
    std::optional<Result<OAuthTokens>> got;
    sessions.MintLocationToken(Company(), location,
                               [&](Result<OAuthTokens> r) { got = std::move(r); });
    RunUntil([&] { return got.has_value(); });
    EXPECT_TRUE(got && got->ok()) << (got && !got->ok() ? got->error().message : "no answer");
    return got && got->ok() ? got->value() : OAuthTokens{};
  }
  bool RefreshNow(TokenSource& source) {
    std::optional<bool> ok;
    source.Refresh([&](bool r) { ok = r; });
    RunUntil([&] { return ok.has_value(); });
    return ok.value_or(false);
  }
  template <typename Done>
  void RunUntil(Done done, std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(5ms);
      io_.restart();
    }
  }
  OAuthTokens Row(const std::string& resource) {
    auto row = OAuthTokenStore(store_->db()).Load(resource);
    EXPECT_TRUE(row.ok() && row->has_value()) << "no row for " << resource;
    return row.ok() && row->has_value() ? **row : OAuthTokens{};
  }
  // Requests the emulator has seen on `path`.
  static int Calls(const std::string& path) {
    int n = 0;
    const auto log = Json(emu_->Admin("GET", "/requests").body);
    for (const auto& e : log["requests"].GetArray()) {
      n += e["path"].GetString() == path;
    }
    return n;
  }
  static long ListContacts(const std::string& token, const std::string& location = Loc()) {
    return emu_->Api("GET", "/contacts/?locationId=" + location, "", "2021-07-28", token).status;
  }
  // Uses `refresh` at GHL and throws the answer away: what a crash after GHL answered does.
  long SpendRefreshToken(const std::string& refresh) {
    return testing::HttpCall("POST", emu_->base_url() + "/oauth/token",
                             "client_id=" + app_.id + "&client_secret=" + app_.secret +
                                 "&grant_type=refresh_token&refresh_token=" + refresh,
                             {"Content-Type: application/x-www-form-urlencoded"})
        .status;
  }

  testing::TempDir dir_;
  boost::asio::io_context io_;
  CurlMulti curl_{io_, {}};
  SystemClock system_clock_;
  std::unique_ptr<state::SqliteStateStore> store_;
};

TEST_F(OAuthTest, ACodeExchangeStoresTheInstallAndItsSourceServesTheToken) {
  auto sessions = Sessions(system_clock_);
  const Installed installed = Exchange(*sessions, Authorize());
  EXPECT_EQ(installed.tokens.resource, Loc());
  EXPECT_EQ(installed.tokens.user_type, state::OAuthUserType::kLocation);
  EXPECT_EQ(installed.tokens.company_id, Company());
  EXPECT_NE(installed.tokens.scopes.find("contacts.readonly"), std::string::npos);

  const OAuthTokens row = Row(Loc());
  EXPECT_EQ(row.generation, 1);
  EXPECT_EQ(row.client_id, app_.id);
  EXPECT_FALSE(row.refresh_token.empty());
  EXPECT_NEAR(static_cast<double>(row.expires_at_ms - row.updated_at_ms), 86'399'000.0, 2000.0);
  auto source = sessions->Source(Loc());
  EXPECT_EQ(source->Token(), row.access_token.Reveal());
  EXPECT_EQ(ListContacts(source->Token()), 200);
  EXPECT_EQ(sessions->Source(Loc()), source) << "one source per resource";

  std::optional<Result<Installed>> again;
  sessions->ExchangeCode("not-a-code", "", [&](Result<Installed> r) { again = r; });
  RunUntil([&] { return again.has_value(); });
  ASSERT_FALSE(again->ok()) << "a made-up code is refused";
  EXPECT_NE(again->error().message.find("authorize again"), std::string::npos);
  EXPECT_EQ(again->error().message.find(app_.secret), std::string::npos);
}

TEST_F(OAuthTest, RefreshesAheadOfExpiryOnlyInsideTheMargin) {
  FakeClock clock(std::chrono::time_point_cast<Clock::Duration>(std::chrono::system_clock::now()));
  auto sessions = Sessions(clock);  // margin 10 min
  Exchange(*sessions, Authorize());
  const OAuthTokens first = Row(Loc());
  auto source = sessions->Source(Loc());
  source->Start();
  const int calls = Calls("/oauth/token");

  const auto expires = Clock::TimePoint(std::chrono::milliseconds(first.expires_at_ms));
  clock.Advance(expires - 10min - 1s - clock.Now());
  source->RefreshIfDue();
  EXPECT_FALSE(source->refreshing());
  EXPECT_EQ(Calls("/oauth/token"), calls) << "not due yet";

  clock.Advance(2s);
  source->RefreshIfDue();
  EXPECT_TRUE(source->refreshing());
  EXPECT_EQ(source->Token(), first.access_token.Reveal()) << "the old token serves meanwhile";
  RunUntil([&] { return !source->refreshing(); });
  EXPECT_EQ(Calls("/oauth/token"), calls + 1);
  const OAuthTokens second = Row(Loc());
  EXPECT_EQ(second.generation, 2);
  EXPECT_EQ(source->Token(), second.access_token.Reveal());
  EXPECT_NE(second.refresh_token, first.refresh_token) << "rotated";
  EXPECT_FALSE(second.refresh_started_at_ms.has_value());
  EXPECT_EQ(ListContacts(source->Token()), 200);
  EXPECT_EQ(SpendRefreshToken(first.refresh_token.Reveal()), 400) << "GHL spent the old one";
}

TEST_F(OAuthTest, TheTimerRefreshesWithoutBeingAsked) {
  // 2 s tokens: the margin is capped at half the lifetime, so the refresh comes after ~1 s.
  ASSERT_EQ(emu_->Admin("PUT", "/config", R"({"accessTokenTtlS":2})").status, 200);
  auto sessions = Sessions(system_clock_);
  Exchange(*sessions, Authorize());
  emu_->Admin("PUT", "/config", R"({"accessTokenTtlS":86399})");
  auto source = sessions->Source(Loc());
  source->Start();
  RunUntil([&] { return source->generation() >= 2; }, 5s);
  EXPECT_EQ(source->generation(), 2);
  EXPECT_EQ(ListContacts(source->Token()), 200);
}

TEST_F(OAuthTest, ConcurrentCallersShareOneRefresh) {
  auto sessions = Sessions(system_clock_);
  Exchange(*sessions, Authorize());
  const int calls = Calls("/oauth/token");
  std::vector<bool> answers;
  for (int i = 0; i < 10; ++i) {
    sessions->Source(Loc())->Refresh([&](bool ok) { answers.push_back(ok); });
  }
  RunUntil([&] { return answers.size() == 10; });
  EXPECT_EQ(answers, std::vector<bool>(10, true));
  EXPECT_EQ(Calls("/oauth/token"), calls + 1) << "one refresh for ten callers";
  EXPECT_EQ(Row(Loc()).generation, 2);
}

TEST_F(OAuthTest, TheNewPairIsCommittedBeforeItsAccessTokenIsUsed) {
  auto sessions = Sessions(system_clock_);
  Exchange(*sessions, Authorize());
  auto source = sessions->Source(Loc());
  const OAuthTokens first = Row(Loc());
  // The state file refuses new pairs (a full disk, say); marking a refresh still works.
  ASSERT_TRUE(store_->db()
                  .Exec("CREATE TRIGGER refuse BEFORE UPDATE ON oauth_tokens WHEN "
                        "NEW.generation > OLD.generation BEGIN SELECT RAISE(ABORT, 'disk full'); "
                        "END")
                  .ok());
  EXPECT_FALSE(RefreshNow(*source));
  EXPECT_EQ(source->Token(), first.access_token.Reveal()) << "an uncommitted token is not used";
  EXPECT_EQ(Row(Loc()).generation, 1);
  EXPECT_EQ(SpendRefreshToken(first.refresh_token.Reveal()), 400) << "GHL did rotate";

  const int calls = Calls("/oauth/token");
  ASSERT_TRUE(store_->db().Exec("DROP TRIGGER refuse").ok());
  std::optional<OAuthTokens> seen_by_waiter;
  source->Refresh([&](bool ok) {
    EXPECT_TRUE(ok);
    // What another process (a restart) would read when the waiter runs.
    auto other = Open();
    seen_by_waiter = **OAuthTokenStore(other->db()).Load(Loc());
  });
  RunUntil([&] { return seen_by_waiter.has_value(); });
  ASSERT_TRUE(seen_by_waiter);
  EXPECT_EQ(Calls("/oauth/token"), calls) << "the pair kept in memory was stored, not re-fetched";
  EXPECT_EQ(seen_by_waiter->generation, 2);
  EXPECT_EQ(seen_by_waiter->access_token.Reveal(), source->Token());
  EXPECT_NE(seen_by_waiter->refresh_token, first.refresh_token);
  EXPECT_EQ(ListContacts(source->Token()), 200);
  EXPECT_TRUE(RefreshNow(*source)) << "and the stored refresh token is the live one";
}

TEST_F(OAuthTest, AgencyTokensMintLocationTokensAndShareOneRefreshWhenDue) {
  FakeClock clock(std::chrono::time_point_cast<Clock::Duration>(std::chrono::system_clock::now()));
  auto sessions = Sessions(clock);
  const Installed agency = Exchange(*sessions, Authorize(/*company=*/true));
  EXPECT_EQ(agency.tokens.resource, Company());
  EXPECT_EQ(agency.tokens.user_type, state::OAuthUserType::kCompany);
  EXPECT_NE(std::find(agency.approved_locations.begin(), agency.approved_locations.end(), Loc()),
            agency.approved_locations.end());

  clock.Advance(86'399s - 5min);  // the agency token is due: both mints wait for one refresh
  const int refreshes = Calls("/oauth/token"), mints = Calls("/oauth/locationToken");
  std::vector<Result<OAuthTokens>> got;
  for (const auto& location : {Loc(), sibling_}) {
    sessions->MintLocationToken(Company(), location,
                                [&](Result<OAuthTokens> r) { got.push_back(std::move(r)); });
  }
  RunUntil([&] { return got.size() == 2; });
  ASSERT_EQ(got.size(), 2u);
  for (const auto& r : got) ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(Calls("/oauth/token"), refreshes + 1);
  EXPECT_EQ(Calls("/oauth/locationToken"), mints + 2);
  const OAuthTokens loc = Row(Loc());
  EXPECT_EQ(loc.user_type, state::OAuthUserType::kLocation);
  EXPECT_EQ(loc.company_id, Company());
  EXPECT_EQ(ListContacts(loc.access_token.Reveal()), 200);
  EXPECT_EQ(ListContacts(Row(sibling_).access_token.Reveal(), sibling_), 200);
  EXPECT_EQ(ListContacts(loc.access_token.Reveal(), sibling_), 403) << "each its own location";

  // An INSTALL webhook for the sibling hands out a started source; UNINSTALL forgets it.
  std::optional<Result<std::shared_ptr<TokenSource>>> installed;
  sessions->OnInstall(sibling_, Company(), [&](auto r) { installed = std::move(r); });
  RunUntil([&] { return installed.has_value(); });
  ASSERT_TRUE(installed->ok()) << installed->error().message;
  EXPECT_EQ(ListContacts(installed->value()->Token(), sibling_), 200);
  EXPECT_TRUE(sessions->OnUninstall(sibling_).value());
  EXPECT_EQ(installed->value()->Token(), "");
  EXPECT_FALSE(OAuthTokenStore(store_->db()).Load(sibling_).value().has_value());
}

TEST_F(OAuthTest, A401RefreshesOnceAndTheCallIsRetried) {
  auto sessions = Sessions(system_clock_);
  Exchange(*sessions, Authorize());
  auto source = sessions->Source(Loc());
  ASSERT_EQ(
      emu_->Admin("POST", "/oauth/expire", R"({"accessToken":")" + source->Token() + "\"}").status,
      200);
  ClientOptions o;
  o.base_url = emu_->base_url();
  o.timeout = 5s;
  GhlClient client(io_, curl_, system_clock_, o);
  client.AddLocation(Loc(), source);
  const int calls = Calls("/oauth/token");
  std::optional<ApiResult> result;
  client.Call(Loc(), Lane::kRealtime, {"contacts.list", "GET", "/contacts/?locationId=" + Loc()},
              [&](ApiResult r) { result = std::move(r); });
  RunUntil([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, Outcome::kOk) << result->status << " " << result->message;
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(Calls("/oauth/token"), calls + 1);
  EXPECT_FALSE(client.Status(Loc()).paused);
  EXPECT_EQ(refreshes_, std::vector<std::string>{"ok"});
}

TEST_F(OAuthTest, ALostLocationTokenIsMintedAgainFromTheAgencyAtStart) {
  auto sessions = Sessions(system_clock_);
  Exchange(*sessions, Authorize(/*company=*/true));
  const OAuthTokens minted = Mint(*sessions, Loc());
  // The crash in the window: the refresh was marked, GHL answered, nothing was stored.
  ASSERT_TRUE(OAuthTokenStore(store_->db()).MarkRefreshStarted(Loc(), 1).ok());
  ASSERT_EQ(SpendRefreshToken(minted.refresh_token.Reveal()), 200);
  sessions.reset();

  auto restarted = Sessions(system_clock_);
  const int mints = Calls("/oauth/locationToken");
  auto source = restarted->Source(Loc());
  source->Start();  // sees the mark: refreshes at once, is refused, mints anew
  RunUntil([&] { return source->generation() > minted.generation; });
  EXPECT_EQ(Calls("/oauth/locationToken"), mints + 1);
  EXPECT_EQ(ListContacts(source->Token()), 200);
  EXPECT_FALSE(Row(Loc()).refresh_started_at_ms.has_value());
  EXPECT_TRUE(RefreshNow(*source));
  EXPECT_EQ(refreshes_, (std::vector<std::string>{"minted", "ok"}));
}

TEST_F(OAuthTest, ALostStandaloneTokenWaitsForAuthAndIsAdoptedWithoutARestart) {
  auto sessions = Sessions(system_clock_);
  const Installed installed = Exchange(*sessions, Authorize());
  ASSERT_TRUE(OAuthTokenStore(store_->db()).MarkRefreshStarted(Loc(), 1).ok());
  ASSERT_EQ(SpendRefreshToken(installed.tokens.refresh_token.Reveal()), 200);
  sessions.reset();

  auto restarted = Sessions(system_clock_);
  auto source = restarted->Source(Loc());
  EXPECT_FALSE(RefreshNow(*source)) << "no agency token to fall back on";
  const int calls = Calls("/oauth/token");
  EXPECT_FALSE(RefreshNow(*source));
  EXPECT_EQ(Calls("/oauth/token"), calls) << "a refused refresh token is not sent again";

  // `ghl-syncd auth` in another process: a new consent, a new pair in the state file.
  auto other_store = Open();
  auto auth = OAuthSessions::Create(io_, curl_, other_store->db(), system_clock_, Options());
  Exchange(*auth, Authorize());
  EXPECT_TRUE(RefreshNow(*source)) << "the running source adopts the new pair";
  EXPECT_EQ(ListContacts(source->Token()), 200);
  EXPECT_EQ(refreshes_, (std::vector<std::string>{"refused", "refused", "adopted"}));
  EXPECT_TRUE(RefreshNow(*source));
}

// The kill test: a process that refreshes the location's token in a loop is killed -9 at
// random moments, `kKills` times, and each time a restarted source must refresh with what
// the state file holds. The only way that may fail is a kill between GHL's answer and the
// commit (the window no client can close); the refresh mark must then say so, and the
// location recovers: minted again from the agency token, or by `ghl-syncd auth`.
struct KillTally {
  int accepted = 0;        // the stored refresh token still worked
  int lost_in_window = 0;  // it was spent, with the refresh mark set
  int reminted = 0;        // ... and the agency token minted a new location token
  int marked = 0;          // kills that found a refresh in flight
  int refreshes = 0;       // refreshes the loops completed
};

class OAuthKillTest : public OAuthTest {
 protected:
  static constexpr int kKills = 25;

  KillTally KillAroundRefreshes(bool agency) {
    auto sessions = Sessions(system_clock_);
    if (agency) {
      Exchange(*sessions, Authorize(/*company=*/true));
      Mint(*sessions, Loc());
    } else {
      Exchange(*sessions, Authorize());
    }
    sessions.reset();
    const unsigned seed = std::random_device{}();
    std::mt19937 rng(seed);
    RecordProperty("seed", static_cast<int>(seed));
    KillTally tally;
    for (int kill = 0; kill < kKills; ++kill) {
      tally.refreshes += RunAndKill(rng);
      const OAuthTokens stored = Row(Loc());
      tally.marked += stored.refresh_started_at_ms.has_value();
      // The restart: a new process's source refreshes with what the state file holds.
      auto restarted = Sessions(system_clock_);
      const int mints = Calls("/oauth/locationToken"), token_calls = Calls("/oauth/token");
      const bool ok = RefreshNow(*restarted->Source(Loc()));
      if (ok && Calls("/oauth/locationToken") == mints) {
        ++tally.accepted;
        continue;
      }
      EXPECT_TRUE(stored.refresh_started_at_ms.has_value())
          << "kill " << kill << " (seed " << seed
          << "): the stored refresh token was spent with no refresh in flight";
      EXPECT_EQ(Calls("/oauth/token"), token_calls + 1) << "one refused refresh, no more";
      ++tally.lost_in_window;
      if (ok) {
        ++tally.reminted;
      } else {
        EXPECT_FALSE(agency) << "an agency token should have minted a new location token";
        Exchange(*restarted, Authorize());  // what `ghl-syncd auth` does
      }
    }
    std::printf(
        "%s: %d kills over %d refreshes: %d restarts refreshed with the stored token "
        "(%d of them after an interrupted refresh); %d kills fell between GHL's answer "
        "and the commit, %d of them recovered by the agency token\n",
        agency ? "agency" : "standalone", kKills, tally.refreshes, tally.accepted,
        tally.marked - tally.lost_in_window, tally.lost_in_window, tally.reminted);
    EXPECT_EQ(tally.accepted + tally.lost_in_window, kKills);
    EXPECT_GE(tally.refreshes, kKills);
    EXPECT_GE(tally.accepted, 1);
    return tally;
  }

  // Starts the refresh loop, waits for its first refresh, lets it run 0-30 ms more and
  // kills it. Returns the refreshes it completed.
  int RunAndKill(std::mt19937& rng) {
    testing::Process loop(
        {OAUTH_REFRESH_LOOP, (dir_ / "state.db").string(), emu_->base_url(), app_.id, Loc()},
        {{"OAUTH_CLIENT_SECRET", app_.secret}}, dir_ / "loop.log");
    EXPECT_TRUE(loop.WaitForLog("refreshed 1\n", 10s)) << loop.Log();
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30'000)(rng)));
    loop.Signal(SIGKILL);
    EXPECT_EQ(loop.Wait(5s), 128 + SIGKILL) << loop.Log();
    EXPECT_EQ(loop.Log().find(app_.secret), std::string::npos);
    return static_cast<int>(loop.CountInLog("refreshed"));
  }
};

TEST_F(OAuthKillTest, AStandaloneTokenIsOnlyEverLostInsideTheMarkedWindow) {
  KillAroundRefreshes(/*agency=*/false);
}

TEST_F(OAuthKillTest, ALocationOfAnAgencyAlwaysRefreshesAfterAKill) {
  const KillTally tally = KillAroundRefreshes(/*agency=*/true);
  EXPECT_EQ(tally.reminted, tally.lost_in_window) << "every lost pair was minted again";
}

}  // namespace
}  // namespace ghl::ghl_client
