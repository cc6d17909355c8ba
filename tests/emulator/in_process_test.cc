// ghl-emulator in process, on a clock the test moves (EmulatorOptions::now_ms, HandleNow):
// exactly when search sees a write, and the rate limiter and its requests/max-window
// report drawing the same windows.
#include <gtest/gtest.h>

#include <random>

#include "emulator/emulator.h"
#include "emulator/rate_limiter.h"

namespace ghl::emulator {
namespace {

using std::chrono::milliseconds;
using verb = http::verb;

// One emulator with the default world, whose time is `now`.
class InProcess {
 public:
  explicit InProcess(int64_t lag_ms, RateLimits limits = {}) {
    EmulatorOptions o;
    o.search_lag_ms = lag_ms;
    o.limits = limits;
    o.now_ms = [this] { return now + (slow_handler && reads_++ > 0 ? 5 : 0); };
    emu = std::make_unique<Emulator>(io_, o);
    emu->SeedDefault();
    location = emu->world().locations.begin()->first;
    for (const auto& [bearer, t] : emu->world().tokens) {
      if (t.location_id == location) token = bearer;
    }
    pipeline = emu->world().pipelines.all().begin()->first;
  }

  Reply Api(verb method, const std::string& target, const std::string& body = "") {
    http_server::Request req{method, target, 11};
    req.set(http::field::authorization, "Bearer " + token);
    req.set("Version", "2021-07-28");
    req.body() = body;
    reads_ = 0;
    return emu->HandleNow(req);
  }
  Reply Admin(verb method, const std::string& target, const std::string& body = "") {
    http_server::Request req{method, "/_emulator" + target, 11};
    req.body() = body;
    return emu->HandleNow(req);
  }
  void SetLag(int64_t ms) {
    ASSERT_EQ(Admin(verb::put, "/config", R"({"searchLagMs":)" + std::to_string(ms) + "}").status,
              200);
  }

  std::string CreateContact(const std::string& name) {
    auto r = Api(verb::post, "/contacts/",
                 R"({"locationId":")" + location + R"(","firstName":")" + name + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r, "contact");
  }
  std::string CreateOpportunity(const std::string& name) {
    auto r = Api(verb::post, "/opportunities/",
                 R"({"locationId":")" + location + R"(","pipelineId":")" + pipeline +
                     R"(","contactId":")" + CreateContact(name) + R"(","name":")" + name +
                     R"(","status":"open"})");
    EXPECT_EQ(r.status, 201) << r.body;
    return IdOf(r, "opportunity");
  }
  // The first names (contacts) or names (opportunities) search sees now, by id.
  std::map<std::string, std::string> SearchContacts(bool by_updated = false) {
    const std::string sort =
        by_updated ? R"(,"sort":[{"field":"dateUpdated","direction":"asc"}])" : "";
    auto r = Api(verb::post, "/contacts/search",
                 R"({"locationId":")" + location + R"(","pageLimit":100)" + sort + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    return Names(r, "contacts", "firstName");
  }
  std::map<std::string, std::string> SearchOpportunities() {
    auto r = Api(verb::get, "/opportunities/search?location_id=" + location + "&limit=100");
    EXPECT_EQ(r.status, 200) << r.body;
    return Names(r, "opportunities", "name");
  }

  int64_t now = 1'800'000'000'000;
  // While set, every clock read of a request after its first is 5 ms later: a handler
  // that takes 5 ms.
  bool slow_handler = false;
  std::unique_ptr<Emulator> emu;
  std::string location, token, pipeline;

 private:
  static std::string IdOf(const Reply& r, const char* object) {
    JsonDoc d;
    d.Parse(r.body.c_str());
    return d.IsObject() && d.HasMember(object) ? d[object]["id"].GetString() : "";
  }
  static std::map<std::string, std::string> Names(const Reply& r, const char* list,
                                                  const char* field) {
    std::map<std::string, std::string> out;
    JsonDoc d;
    d.Parse(r.body.c_str());
    if (!d.IsObject() || !d.HasMember(list)) return out;
    for (const auto& e : d[list].GetArray()) {
      out[e["id"].GetString()] = e.HasMember(field) ? e[field].GetString() : "";
    }
    return out;
  }

  boost::asio::io_context io_;
  int reads_ = 0;
};

// ---- search lag ----

TEST(EmulatorSearchLagExact, LagZeroIsSeenAtOnceEvenAfterWritesUnderAnOlderLag) {
  InProcess e(2000);  // the default lag, then a test sets 0 (the reported 1.6 s)
  const std::string early = e.CreateContact("Early");
  e.now += 400;
  e.SetLag(0);
  const std::string a = e.CreateContact("A"), b = e.CreateContact("B"), c = e.CreateContact("C");
  for (bool by_updated : {false, true}) {
    auto seen = e.SearchContacts(by_updated);
    EXPECT_EQ(seen.size(), 3u) << "with lag 0 the next search sees the three creates";
    EXPECT_TRUE(seen.count(a) && seen.count(b) && seen.count(c));
    EXPECT_EQ(seen.count(early), 0u) << "the write under lag 2000 waits its own 2000 ms";
  }
  e.now += 1599;
  EXPECT_EQ(e.SearchContacts().count(early), 0u);
  e.now += 1;
  EXPECT_EQ(e.SearchContacts().count(early), 1u);
  EXPECT_EQ(e.SearchContacts(true).size(), 4u);
}

TEST(EmulatorSearchLagExact, AContactIsSeenExactlyLagAfterItsWrite) {
  for (int64_t lag : {0, 1, 300, 2000}) {
    InProcess e(lag);
    const std::string id = e.CreateContact("Lag");
    if (lag > 0) {
      e.now += lag - 1;
      EXPECT_EQ(e.SearchContacts().count(id), 0u) << "lag " << lag << ": not at lag - 1 ms";
      EXPECT_EQ(e.SearchContacts(true).count(id), 0u) << "lag " << lag;
      e.now += 1;
    }
    EXPECT_EQ(e.SearchContacts().count(id), 1u) << "lag " << lag << ": seen at lag";
    EXPECT_EQ(e.SearchContacts(true).count(id), 1u) << "lag " << lag;
  }
}

TEST(EmulatorSearchLagExact, ANewerWriteSeenFirstIsNotUndoneByAnOlderOne) {
  InProcess e(0);
  const std::string id = e.CreateContact("First");
  e.SetLag(1000);
  ASSERT_EQ(e.Api(verb::put, "/contacts/" + id, R"({"firstName":"Slow"})").status, 200);
  e.now += 10;
  e.SetLag(0);
  ASSERT_EQ(e.Api(verb::put, "/contacts/" + id, R"({"firstName":"Fast"})").status, 200);
  EXPECT_EQ(e.SearchContacts()[id], "Fast");
  e.now += 990;  // the "Slow" write's time has come, but it is older than what search shows
  EXPECT_EQ(e.SearchContacts()[id], "Fast");
  EXPECT_EQ(e.SearchContacts(true)[id], "Fast");

  // A delete under a long lag, then nothing: the contact leaves search at its time.
  e.SetLag(700);
  ASSERT_EQ(e.Api(verb::delete_, "/contacts/" + id).status, 200);
  e.now += 699;
  EXPECT_EQ(e.SearchContacts().count(id), 1u);
  e.now += 1;
  EXPECT_EQ(e.SearchContacts().count(id), 0u);
}

TEST(EmulatorSearchLagExact, OpportunitiesFollowTheLagSetThroughTheAdminApi) {
  InProcess e(2000);
  const std::string early = e.CreateOpportunity("Early");
  e.SetLag(0);
  const std::string now = e.CreateOpportunity("Now");
  auto seen = e.SearchOpportunities();
  EXPECT_EQ(seen.count(now), 1u) << "lag 0: seen at once";
  EXPECT_EQ(seen.count(early), 0u);
  e.SetLag(250);
  const std::string later = e.CreateOpportunity("Later");
  e.now += 249;
  EXPECT_EQ(e.SearchOpportunities().count(later), 0u);
  e.now += 1;
  EXPECT_EQ(e.SearchOpportunities().count(later), 1u);
}

// The lag lives in Collection, shared by every object (appointments too, although their
// listing, GET /calendars/events, reads live data).
TEST(EmulatorSearchLagExact, CollectionShowsEachWriteAtItsOwnTime) {
  Collection c;
  auto put = [&](const std::string& id, const char* name, int64_t at, int64_t lag) {
    Record r{id, "loc", JsonDoc(rapidjson::kObjectType), at, at};
    r.doc.AddMember("name", rapidjson::StringRef(name), r.doc.GetAllocator());
    c.Put(std::move(r), at, lag);
  };
  auto name = [&](const std::string& id, int64_t at) -> std::string {
    const auto& v = c.SearchView(at);
    auto it = v.find(id);
    return it == v.end() ? "-" : (*it->second)["name"].GetString();
  };
  put("a", "a1", 1000, 2000);
  put("b", "b1", 1100, 0);
  EXPECT_EQ(name("b", 1100), "b1");
  EXPECT_EQ(name("a", 2999), "-");
  EXPECT_EQ(name("a", 3000), "a1");
  put("a", "a2", 3000, 500);
  put("a", "a3", 3100, 100);
  EXPECT_EQ(name("a", 3199), "a1");
  EXPECT_EQ(name("a", 3200), "a3");
  EXPECT_EQ(name("a", 5000), "a3") << "a2 is older than a3";
  c.Erase("b", 5000, 0);
  EXPECT_EQ(name("b", 5000), "-");
}

// ---- the rate limiter and the max-window report ----

using TimePoint = StrictRateLimiter::TimePoint;
TimePoint At(int64_t ms) { return TimePoint(milliseconds(ms)); }

TEST(EmulatorRateWindow, AWindowIsOpenAtItsStartAndClosedAtItsEnd) {
  const int64_t t = 1'800'000'000'000;
  StrictRateLimiter limiter({.burst = 1, .interval = milliseconds(1000), .daily = 100});
  EXPECT_TRUE(limiter.Admit("k", At(t)).allowed);
  const RateDecision refused = limiter.Admit("k", At(t + 999));
  EXPECT_FALSE(refused.allowed) << "t and t + W - 1 are in one window";
  EXPECT_EQ(refused.retry_after, milliseconds(1));
  EXPECT_TRUE(limiter.Admit("k", At(t + 1000)).allowed) << "t and t + W are not";

  // The report draws the same windows.
  EXPECT_EQ(MaxInAnyWindow({t, t + 999}, milliseconds(1000)), 2);
  EXPECT_EQ(MaxInAnyWindow({t, t + 1000}, milliseconds(1000)), 1);
  EXPECT_EQ(MaxInAnyWindow({t + 1000, t, t + 999, t + 1}, milliseconds(1000)), 3);
  EXPECT_EQ(MaxInAnyWindow({t, t, t}, milliseconds(1000)), 3);
  EXPECT_EQ(MaxInAnyWindow({}, milliseconds(1000)), 0);
  EXPECT_EQ(MaxInAnyWindow({t, t + 1}, milliseconds(0)), 1);
}

// What EmulatorRateLimit.RequestsSpreadOverTheWindowAreNeverRefused checks over HTTP, on
// exact times: 10 per 1 s, one request every 120 ms is never refused, and a burst after it
// fills the window to exactly 10.
TEST(EmulatorRateWindow, RequestsSpreadOverTheWindowAreNeverRefused) {
  StrictRateLimiter limiter({.burst = 10, .interval = milliseconds(1000), .daily = 1000});
  std::vector<int64_t> admitted;
  int64_t t = 1'800'000'000'000;
  for (int i = 0; i < 25; ++i, t += 120) {
    EXPECT_TRUE(limiter.Admit("k", At(t)).allowed) << "request " << i;
    admitted.push_back(t);
  }
  // The window ending at t holds the requests at t - 120 .. t - 960: 8, so 2 more fit.
  int ok = 0;
  for (int i = 0; i < 15; ++i) {
    if (limiter.Admit("k", At(t)).allowed) ++ok, admitted.push_back(t);
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(MaxInAnyWindow(admitted, milliseconds(1000)), 10);
}

// Whatever the times, the limiter refuses a request exactly when the report over what it
// admitted would pass the burst with that request.
TEST(EmulatorRateWindow, TheLimitersDecisionsAreTheReportsWindows) {
  const RateLimits limits{.burst = 10, .interval = milliseconds(1000), .daily = 1'000'000};
  StrictRateLimiter limiter(limits);
  std::mt19937_64 rng(7);
  std::vector<int64_t> admitted;
  int64_t t = 1'800'000'000'000;
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    t += std::uniform_int_distribution<int64_t>(0, 200)(rng);
    const bool allowed = limiter.Admit("k", At(t)).allowed;
    std::vector<int64_t> with = admitted;
    with.push_back(t);
    const bool fits = MaxInAnyWindow(with, limits.interval) <= limits.burst;
    ASSERT_EQ(allowed, fits) << "request " << i << " at +" << t - 1'800'000'000'000;
    if (allowed) admitted.push_back(t);
    refused += allowed ? 0 : 1;
    if (admitted.size() > 64) admitted.erase(admitted.begin());  // far older than a window
  }
  EXPECT_GT(refused, 100) << "the times must also test refusals";
}

// The request log records a request at the time the limiter judged it, not when its
// handler finished: a slow first request must not put 11 into a window of 10.
TEST(EmulatorRateWindow, TheReportCountsRequestsAtTheTimeTheLimiterSawThem) {
  InProcess e(0, {.burst = 10, .interval = milliseconds(1000), .daily = 1000});
  const std::string path = "/contacts/?locationId=" + e.location;
  const int64_t t0 = e.now;
  e.slow_handler = true;
  EXPECT_EQ(e.Api(verb::get, path).status, 200);
  e.slow_handler = false;
  for (int i = 1; i < 10; ++i) {
    e.now = t0 + i;
    EXPECT_EQ(e.Api(verb::get, path).status, 200) << i;
  }
  e.now = t0 + 999;
  EXPECT_EQ(e.Api(verb::get, path).status, 429);
  e.now = t0 + 1000;
  EXPECT_EQ(e.Api(verb::get, path).status, 200) << "the first request left the window";
  ASSERT_FALSE(e.emu->request_log().empty());
  EXPECT_EQ(e.emu->request_log().front().at_ms, t0);

  auto r = e.Admin(verb::get, "/requests/max-window");
  JsonDoc d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("max")) << r.body;
  EXPECT_EQ(d["max"].GetInt(), 10);
}

}  // namespace
}  // namespace ghl::emulator
