// ghl-emulator: contacts, the request pipeline (auth, Version, rate limit, faults) and
// the admin API, driven over real HTTP.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>
#include <thread>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::Json;

class EmulatorContacts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
  }
  static void TearDownTestSuite() { delete emu_; }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << emu_->startup_error(); }

  std::string Loc() const { return emu_->location_id(); }
  // Creates a contact and returns its id.
  std::string Create(const std::string& fields) {
    auto r =
        emu_->Api("POST", "/contacts/",
                  R"({"locationId":")" + Loc() + "\"" + (fields.empty() ? "" : ",") + fields + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = Json(r.body);
    return d.HasMember("contact") ? d["contact"]["id"].GetString() : "";
  }

  static EmulatorProcess* emu_;
};
EmulatorProcess* EmulatorContacts::emu_ = nullptr;

TEST_F(EmulatorContacts, CreateGetUpdateDeleteRoundTrip) {
  const std::string id = Create(
      R"("firstName":"Ada","lastName":"Lovelace","email":"Ada@Example.com","phone":"+15550001",)"
      R"("tags":["vip","vip","math"],"customFields":[{"key":"pincode","field_value":"12345"}])");
  ASSERT_FALSE(id.empty());

  auto got = emu_->Api("GET", "/contacts/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  auto c = Json(got.body);
  const auto& contact = c["contact"];
  EXPECT_STREQ(contact["firstName"].GetString(), "Ada");
  EXPECT_STREQ(contact["emailLowerCase"].GetString(), "ada@example.com");
  EXPECT_STREQ(contact["fullNameLowerCase"].GetString(), "ada lovelace");
  ASSERT_EQ(contact["tags"].Size(), 2u) << "tags are de-duplicated";
  // Custom fields go in as {key, field_value} and come out as {id, value}.
  ASSERT_EQ(contact["customFields"].Size(), 1u);
  EXPECT_EQ(contact["customFields"][0].MemberCount(), 2u);
  EXPECT_STREQ(contact["customFields"][0]["value"].GetString(), "12345");
  const std::string added = contact["dateAdded"].GetString();
  EXPECT_EQ(added, contact["dateUpdated"].GetString());

  std::this_thread::sleep_for(5ms);
  auto put = emu_->Api("PUT", "/contacts/" + id, R"({"lastName":"King","dnd":true})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto u = Json(put.body);
  EXPECT_TRUE(u["succeded"].GetBool());
  EXPECT_STREQ(u["contact"]["lastName"].GetString(), "King");
  EXPECT_TRUE(u["contact"]["dnd"].GetBool());
  EXPECT_GT(std::string(u["contact"]["dateUpdated"].GetString()), added);

  // A PUT that changes nothing leaves dateUpdated alone.
  const std::string updated = u["contact"]["dateUpdated"].GetString();
  auto same = Json(emu_->Api("PUT", "/contacts/" + id, R"({"lastName":"King"})").body);
  EXPECT_EQ(updated, same["contact"]["dateUpdated"].GetString());

  auto del = emu_->Api("DELETE", "/contacts/" + id);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, R"({"succeded":true})");
  EXPECT_EQ(emu_->Api("GET", "/contacts/" + id).status, 400) << "gone";
}

TEST_F(EmulatorContacts, ChangesFireTheDocumentedWebhookEvents) {
  const auto next = Json(emu_->Admin("GET", "/webhooks").body)["next"].GetUint64();
  const std::string id = Create(R"("firstName":"Grace","email":"grace@example.com")");
  emu_->Api("PUT", "/contacts/" + id, R"({"firstName":"Grace B."})");
  emu_->Api("POST", "/contacts/" + id + "/tags", R"({"tags":["navy"]})");
  emu_->Api("DELETE", "/contacts/" + id);
  auto events = Json(emu_->Admin("GET", "/webhooks?since=" + std::to_string(next)).body);
  std::vector<std::string> types;
  for (const auto& e : events["events"].GetArray()) {
    types.emplace_back(e["type"].GetString());
    EXPECT_STREQ(e["locationId"].GetString(), Loc().c_str());
    EXPECT_STREQ(e["id"].GetString(), id.c_str());
    EXPECT_FALSE(e.HasMember("dateUpdated")) << "contact webhooks carry no dateUpdated";
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ContactCreate", "ContactUpdate", "ContactUpdate",
                                             "ContactTagUpdate", "ContactDelete"}));
}

TEST_F(EmulatorContacts, DuplicatesAreRefusedAndUpsertMatchesByPriority) {
  const std::string id = Create(R"("firstName":"Alan","email":"alan@example.com")");
  auto dup = emu_->Api("POST", "/contacts/",
                       R"({"locationId":")" + Loc() + R"(","email":"ALAN@example.com"})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_NE(dup.body.find(R"("matchingField":"email")"), std::string::npos) << dup.body;
  EXPECT_NE(dup.body.find(id), std::string::npos);

  auto up = emu_->Api(
      "POST", "/contacts/upsert",
      R"({"locationId":")" + Loc() + R"(","email":"alan@example.com","lastName":"Turing"})");
  ASSERT_EQ(up.status, 200) << up.body;
  auto u = Json(up.body);
  EXPECT_FALSE(u["new"].GetBool());
  EXPECT_STREQ(u["contact"]["id"].GetString(), id.c_str());
  EXPECT_STREQ(u["contact"]["lastName"].GetString(), "Turing");
  EXPECT_TRUE(u.HasMember("traceId"));

  auto fresh = Json(emu_->Api("POST", "/contacts/upsert",
                              R"({"locationId":")" + Loc() + R"(","email":"new@example.com"})")
                        .body);
  EXPECT_TRUE(fresh["new"].GetBool());

  auto found = Json(emu_->Api("GET", "/contacts/search/duplicate?locationId=" + Loc() +
                                         "&email=alan%40example.com")
                        .body);
  ASSERT_TRUE(found["contact"].IsObject());
  EXPECT_STREQ(found["contact"]["id"].GetString(), id.c_str());
  auto none = Json(emu_->Api("GET", "/contacts/search/duplicate?locationId=" + Loc() +
                                        "&email=nobody%40example.com")
                       .body);
  EXPECT_TRUE(none["contact"].IsNull());
}

TEST_F(EmulatorContacts, TagsAddAndRemoveWithABodyOnDelete) {
  const std::string id = Create(R"("firstName":"Tag","tags":["a"])");
  auto add = emu_->Api("POST", "/contacts/" + id + "/tags", R"({"tags":["b","c"]})");
  EXPECT_EQ(add.status, 201);
  EXPECT_EQ(add.body, R"({"tags":["a","b","c"]})");
  auto rm = emu_->Api("DELETE", "/contacts/" + id + "/tags", R"({"tags":["a","c"]})");
  EXPECT_EQ(rm.status, 200);
  EXPECT_EQ(rm.body, R"({"tags":["b"]})");
}

TEST_F(EmulatorContacts, SearchFiltersSortsAndPagesWithSearchAfter) {
  // A location of its own, so other tests' contacts do not interfere.
  auto loc = Json(emu_->Admin("POST", "/locations", R"({"name":"search"})").body);
  const std::string lid = loc["location"]["id"].GetString();
  const std::string tok = loc["location"]["token"].GetString();
  for (int i = 0; i < 25; ++i) {
    const std::string tag = i % 2 ? "odd" : "even";
    auto r = emu_->Api("POST", "/contacts/",
                       R"({"locationId":")" + lid + R"(","firstName":"P)" + std::to_string(i) +
                           R"(","email":"p)" + std::to_string(i) + R"(@example.com","tags":[")" +
                           tag + R"("]})",
                       "2021-07-28", tok);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  auto search = [&](const std::string& extra) {
    return emu_->Api("POST", "/contacts/search",
                     R"({"locationId":")" + lid + R"(","pageLimit":10)" + extra + "}", "2021-07-28",
                     tok);
  };
  auto odd = Json(search(R"(,"filters":[{"field":"tags","operator":"eq","value":"odd"}])").body);
  EXPECT_EQ(odd["total"].GetInt(), 12);
  auto either = Json(search(R"(,"filters":[{"group":"OR","filters":[)"
                            R"({"field":"email","operator":"eq","value":"P3@example.com"},)"
                            R"({"field":"email","operator":"eq","value":"p4@example.com"}]}])")
                         .body);
  EXPECT_EQ(either["total"].GetInt(), 2);
  auto range = Json(search(R"(,"filters":[{"field":"dateAdded","operator":"range",)"
                           R"("value":{"gte":0}}])")
                        .body);
  EXPECT_EQ(range["total"].GetInt(), 25);

  // Walk everything with searchAfter, oldest first: 25 distinct contacts, in
  // (dateAdded, id) order (contacts made in the same millisecond tie on dateAdded).
  std::vector<std::pair<std::string, std::string>> seen;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    auto r = Json(search(R"(,"sort":[{"field":"dateAdded","direction":"asc"}])" +
                         (after.empty() ? "" : R"(,"searchAfter":)" + after))
                      .body);
    const auto& list = r["contacts"];
    if (list.Empty()) break;
    for (const auto& c : list.GetArray()) {
      seen.emplace_back(c["dateAdded"].GetString(), c["id"].GetString());
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    list[list.Size() - 1]["searchAfter"].Accept(w);
    after = buf.GetString();
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  const std::set<std::pair<std::string, std::string>> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), 25u);

  auto stale = search(R"(,"searchAfter":["x"])");
  EXPECT_EQ(stale.status, 422) << "a cursor of another sort is refused, not ignored";
  auto too_big = emu_->Api("POST", "/contacts/search",
                           R"({"locationId":")" + lid + R"(","pageLimit":501})", "2021-07-28", tok);
  EXPECT_EQ(too_big.status, 422);
  auto too_deep = search(R"(,"page":1001)");
  EXPECT_EQ(too_deep.status, 400) << "page * pageLimit beyond 10,000";
}

// A search sorted on dateUpdated alone (how a poll reads) walks an index instead of
// sorting the whole view; it must page exactly like the full sort, in both directions, with
// filters, and its total must follow changes.
// It pages many times: an emulator of its own, which does not count its requests against
// the client-discipline check of the shared one.
TEST(EmulatorSearchIndex, SearchOnDateUpdatedAloneMatchesTheFullSort) {
  EmulatorProcess emu({"--search-lag-ms", "0", "--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  emu.SkipWindowCheck();
  auto loc = Json(emu.Admin("POST", "/locations", R"({"name":"by-updated"})").body);
  const std::string lid = loc["location"]["id"].GetString();
  const std::string tok = loc["location"]["token"].GetString();
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    auto r = emu.Api("POST", "/contacts/",
                     R"({"locationId":")" + lid + R"(","firstName":"U)" + std::to_string(i) +
                         R"(","tags":[")" + (i % 3 ? "some" : "third") + R"("]})",
                     "2021-07-28", tok);
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(Json(r.body)["contact"]["id"].GetString());
  }
  // Reorder: later updates move contacts to the end; one is deleted.
  for (int i : {4, 0, 17, 9}) {
    ASSERT_EQ(emu.Api("PUT", "/contacts/" + ids[static_cast<size_t>(i)], R"({"lastName":"Moved"})",
                      "2021-07-28", tok)
                  .status,
              200);
    std::this_thread::sleep_for(2ms);
  }
  ASSERT_EQ(emu.Api("DELETE", "/contacts/" + ids[5], "", "2021-07-28", tok).status, 200);

  // Pages through a search; returns the ids in order and checks every page's total.
  auto walk = [&](const std::string& sort, const std::string& filters, int64_t* total) {
    std::vector<std::string> out;
    std::string after;
    for (int page = 0; page < 20; ++page) {
      auto r = Json(emu.Api("POST", "/contacts/search",
                            R"({"locationId":")" + lid + R"(","pageLimit":7,"sort":)" + sort +
                                filters + (after.empty() ? "" : R"(,"searchAfter":)" + after) + "}",
                            "2021-07-28", tok)
                        .body);
      *total = r["total"].GetInt64();
      const auto& list = r["contacts"];
      if (list.Empty()) break;
      for (const auto& c : list.GetArray()) out.push_back(c["id"].GetString());
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      list[list.Size() - 1]["searchAfter"].Accept(w);
      after = buf.GetString();
    }
    return out;
  };
  // A poll's filter: changed since the first move (an ISO time); and a bound in epoch ms.
  const std::string moved_at = Json(emu.Api("GET", "/contacts/" + ids[4], "", "2021-07-28", tok)
                                        .body)["contact"]["dateUpdated"]
                                   .GetString();
  const std::string third = R"(,"filters":[{"field":"tags","operator":"eq","value":"third"}])";
  const std::string since =
      R"(,"filters":[{"field":"dateUpdated","operator":"range","value":{"gte":")" + moved_at +
      R"("}}])";
  for (const char* dir : {"asc", "desc"}) {
    const std::string one =
        std::string(R"([{"field":"dateUpdated","direction":")") + dir + R"("}])";
    // Two keys: the general path, which sorts the whole view.
    const std::string two = std::string(R"([{"field":"dateUpdated","direction":")") + dir +
                            R"("},{"field":"dateUpdated","direction":")" + dir + R"("}])";
    for (const std::string& filters :
         {std::string(), third, since,
          std::string(R"(,"filters":[{"field":"dateUpdated",)"
                      R"("operator":"range","value":{"gt":1000}}])")}) {
      int64_t fast_total = 0, full_total = 0;
      const auto fast = walk(one, filters, &fast_total);
      const auto full = walk(two, filters, &full_total);
      EXPECT_EQ(fast, full) << dir << filters;
      EXPECT_EQ(fast_total, full_total) << dir << filters;
      EXPECT_EQ(fast_total, static_cast<int64_t>(fast.size())) << dir << filters;
      if (filters.empty()) {
        EXPECT_EQ(fast.size(), 29u);
      } else if (filters == third) {
        EXPECT_EQ(fast.size(), 10u);
      } else if (filters == since) {
        EXPECT_GE(fast.size(), 4u) << "the four moved ones at least";
      }
    }
  }
  const std::string asc = R"([{"field":"dateUpdated","direction":"asc"}])";
  int64_t total = 0;
  auto before = walk(asc, "", &total);
  ASSERT_EQ(
      emu.Api("PUT", "/contacts/" + ids[1], R"({"lastName":"Last"})", "2021-07-28", tok).status,
      200);
  auto after = walk(asc, "", &total);
  EXPECT_EQ(total, 29) << "the total is counted again after a change";
  EXPECT_EQ(after.back(), ids[1]) << "an updated contact moves to the end";
  EXPECT_NE(before, after);
}

TEST(EmulatorSearchLag, ChangesReachSearchOnlyAfterTheLag) {
  EmulatorProcess emu({"--search-lag-ms", "700", "--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  auto created = emu.Api("POST", "/contacts/",
                         R"({"locationId":")" + emu.location_id() + R"(","firstName":"Lag"})");
  ASSERT_EQ(created.status, 201);
  const std::string body = R"({"locationId":")" + emu.location_id() + R"(","pageLimit":10})";
  EXPECT_EQ(Json(emu.Api("POST", "/contacts/search", body).body)["total"].GetInt(), 0)
      << "not yet visible";
  const std::string id = Json(created.body)["contact"]["id"].GetString();
  EXPECT_EQ(emu.Api("GET", "/contacts/" + id).status, 200) << "but GET by id sees it at once";
  std::this_thread::sleep_for(900ms);
  EXPECT_EQ(Json(emu.Api("POST", "/contacts/search", body).body)["total"].GetInt(), 1);
}

TEST_F(EmulatorContacts, DeprecatedListPagesOldestFirst) {
  auto loc = Json(emu_->Admin("POST", "/locations", R"({"name":"list"})").body);
  const std::string lid = loc["location"]["id"].GetString();
  const std::string tok = loc["location"]["token"].GetString();
  ASSERT_EQ(
      emu_->Admin("POST", "/locations/" + lid + "/contacts/generate", R"({"count":7})").status,
      201);
  std::set<std::string> ids;
  std::string next = "/contacts/?locationId=" + lid + "&limit=3";
  for (int i = 0; i < 5 && !next.empty(); ++i) {
    auto r = Json(emu_->Api("GET", next, "", "2021-07-28", tok).body);
    for (const auto& c : r["contacts"].GetArray()) ids.insert(c["id"].GetString());
    next = r["meta"]["nextPageUrl"].IsString() ? r["meta"]["nextPageUrl"].GetString() : "";
  }
  EXPECT_EQ(ids.size(), 7u);
  for (const char* bad : {"&limit=0", "&limit=abc", "&limit=101", "&startAfter=soon"}) {
    auto r = emu_->Api("GET", "/contacts/?locationId=" + lid + bad, "", "2021-07-28", tok);
    EXPECT_EQ(r.status, 422) << bad;
  }
  auto zero = Json(
      emu_->Api("GET", "/contacts/?locationId=" + lid + "&limit=0", "", "2021-07-28", tok).body);
  EXPECT_STREQ(zero["message"][0].GetString(), "limit must not be less than 1");
}

TEST_F(EmulatorContacts, BadRequestsGetGhlErrorShapes) {
  auto bad_json = emu_->Api("POST", "/contacts/", R"({"locationId": )");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find(R"("statusCode":400)"), std::string::npos) << bad_json.body;
  EXPECT_NE(bad_json.body.find("JSON"), std::string::npos) << bad_json.body;

  auto not_object = emu_->Api("POST", "/contacts/", "[1,2]");
  EXPECT_EQ(not_object.status, 400);

  auto unknown = emu_->Api("POST", "/contacts/",
                           R"({"locationId":")" + Loc() + R"(","favouriteColour":"red"})");
  EXPECT_EQ(unknown.status, 422);
  auto u = Json(unknown.body);
  ASSERT_TRUE(u["message"].IsArray()) << "422 carries message as an array";
  EXPECT_STREQ(u["message"][0].GetString(), "property favouriteColour should not exist");
  EXPECT_STREQ(u["error"].GetString(), "Unprocessable Entity");

  EXPECT_EQ(emu_->Api("POST", "/contacts/", R"({"firstName":"x"})").status, 422)
      << "locationId is required";
  const std::string id = Create(R"("firstName":"Gendered","gender":"female")");
  auto gender = emu_->Api("PUT", "/contacts/" + id, R"({"gender":"male"})");
  EXPECT_EQ(gender.status, 422) << "UpdateContactDto has no gender";
  EXPECT_EQ(emu_->Api("PUT", "/contacts/" + id, R"({"companyName":"Acme"})").status, 200)
      << "companyName is accepted on update although the DTO lacks it";
  auto bad_email = emu_->Api("POST", "/contacts/",
                             R"({"locationId":")" + Loc() + R"(","email":"not an email"})");
  EXPECT_EQ(bad_email.status, 422);

  auto missing = emu_->Api("GET", "/no/such/path");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body,
            R"({"message":"Cannot GET /no/such/path","error":"Not Found","statusCode":404})");

  const std::string huge(11 << 20, 'x');
  EXPECT_EQ(emu_->Api("POST", "/contacts/", huge).status, 413);
}

TEST_F(EmulatorContacts, AuthVersionAndLocationAreEnforced) {
  auto no_token =
      testing::HttpCall("GET", emu_->base_url() + "/contacts/x", "", {"Version: 2021-07-28"});
  EXPECT_EQ(no_token.status, 401);
  EXPECT_EQ(
      no_token.body,
      R"({"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"})");
  EXPECT_EQ(emu_->Api("GET", "/contacts/x", "", "2021-07-28", "wrong").status, 401);
  EXPECT_EQ(emu_->Api("GET", "/contacts/x", "", "").status, 400) << "Version is required";
  EXPECT_EQ(emu_->Api("GET", "/contacts/x", "", "2021-04-15").status, 400)
      << "contacts want 2021-07-28";

  auto other = Json(emu_->Admin("POST", "/locations", R"({"name":"other"})").body);
  const std::string other_token = other["location"]["token"].GetString();
  const std::string id = Create(R"("firstName":"Private")");
  EXPECT_EQ(emu_->Api("GET", "/contacts/" + id, "", "2021-07-28", other_token).status, 403);
}

TEST_F(EmulatorContacts, AdminActsAsAUserAndShowsState) {
  auto r = emu_->Admin("POST", "/user/contacts/",
                       R"({"locationId":")" + Loc() + R"(","firstName":"FromUI"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = Json(r.body)["contact"]["id"].GetString();
  auto state = Json(emu_->Admin("GET", "/state?object=contacts&locationId=" + Loc()).body);
  bool found = false;
  for (const auto& c : state["contacts"].GetArray()) found |= c["id"].GetString() == id;
  EXPECT_TRUE(found);
  // Not in the API request log: that holds only calls made with a token.
  auto log = Json(emu_->Admin("GET", "/requests").body);
  for (const auto& e : log["requests"].GetArray()) {
    EXPECT_EQ(std::string(e["path"].GetString()).find("/_emulator"), std::string::npos);
  }
}

// ---- rate limits: the issue's acceptance test ----

TEST(EmulatorRateLimit, The101stRequestWithin10SecondsGets429WithHeaders) {
  EmulatorProcess emu({"--search-lag-ms", "0"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  const std::string path = "/contacts/?locationId=" + emu.location_id();
  for (int i = 1; i <= 100; ++i) {
    auto r = emu.Api("GET", path);
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    EXPECT_EQ(r.Header("x-ratelimit-remaining"), std::to_string(100 - i));
    EXPECT_EQ(r.Header("x-ratelimit-max"), "100");
    EXPECT_EQ(r.Header("x-ratelimit-interval-milliseconds"), "10000");
    EXPECT_EQ(r.Header("x-ratelimit-limit-daily"), "200000");
    EXPECT_EQ(r.Header("x-ratelimit-daily-remaining"), std::to_string(200000 - i));
  }
  auto refused = emu.Api("GET", path);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(refused.Header("x-ratelimit-max"), "100");
  EXPECT_EQ(refused.Header("x-ratelimit-daily-remaining"), "199900");

  auto window = Json(emu.Admin("GET", "/requests/max-window").body);
  EXPECT_EQ(window["max"].GetInt(), 100);
}

TEST(EmulatorRateLimit, RequestsSpreadOverTheWindowAreNeverRefused) {
  // The same rule at a tenth of the scale: 10 per 1 s. 25 requests about 120 ms apart, then
  // a burst of 15. The judge is the emulator's request log, which records each request at
  // the time the limiter saw it: a request is refused exactly when the 1000 ms window
  // ending at its time, (t - 1000, t], already holds 10 admitted ones. However the requests
  // were scheduled, so no timing of this machine can fail it. (The exact arithmetic, on
  // exact times, is in in_process_test.cc.)
  EmulatorProcess emu({"--rate-burst", "10", "--rate-interval-ms", "1000"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  const std::string path = "/contacts/?locationId=" + emu.location_id();
  std::vector<int> statuses;
  for (int i = 0; i < 25; ++i) {
    statuses.push_back(emu.Api("GET", path).status);
    std::this_thread::sleep_for(120ms);
  }
  for (int i = 0; i < 15; ++i) statuses.push_back(emu.Api("GET", path).status);

  auto log = Json(emu.Admin("GET", "/requests").body);
  ASSERT_TRUE(log.IsObject() && log["requests"].IsArray());
  const auto& entries = log["requests"];
  ASSERT_EQ(entries.Size(), statuses.size());
  std::vector<int64_t> admitted;
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
    const int64_t at = entries[i]["atMs"].GetInt64();
    const int status = entries[i]["status"].GetInt();
    EXPECT_EQ(status, statuses[i]) << "request " << i;
    const auto in_window =
        std::count_if(admitted.begin(), admitted.end(), [&](int64_t t) { return at - t < 1000; });
    EXPECT_EQ(status, in_window < 10 ? 200 : 429)
        << "request " << i << " at +" << at - entries[0]["atMs"].GetInt64() << " ms with "
        << in_window << " admitted in the window before it";
    if (status == 200) admitted.push_back(at);
  }
  EXPECT_LE(Json(emu.Admin("GET", "/requests/max-window").body)["max"].GetInt(), 10);
}

TEST(EmulatorRateLimit, DailyLimitAndPerLocationBudgets) {
  EmulatorProcess emu({"--rate-daily", "3"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  const std::string path = "/contacts/?locationId=" + emu.location_id();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(emu.Api("GET", path).status, 200);
  auto r = emu.Api("GET", path);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("x-ratelimit-daily-remaining"), "0");
  // Another location has its own budget.
  auto other = Json(emu.Admin("POST", "/locations", R"({"name":"b"})").body);
  EXPECT_EQ(
      emu.Api("GET", "/contacts/?locationId=" + std::string(other["location"]["id"].GetString()),
              "", "2021-07-28", other["location"]["token"].GetString())
          .status,
      200);
}

// ---- faults on demand ----

TEST(EmulatorFaults, ServerErrorsResetsLatencyAnd401OnDemand) {
  EmulatorProcess emu({"--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  const std::string path = "/contacts/?locationId=" + emu.location_id();
  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"errorRate":1})").status, 200);
  auto r = emu.Api("GET", path);
  EXPECT_GE(r.status, 500);
  EXPECT_LE(r.status, 504);

  emu.Admin("PUT", "/faults", R"({"resetRate":1})");
  EXPECT_EQ(emu.Api("GET", path).status, 0) << "connection dropped without an answer";

  emu.Admin("PUT", "/faults", R"({"latencyMs":300})");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(emu.Api("GET", path).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);

  emu.Admin("PUT", "/faults", R"({"unauthorizedTokens":[")" + emu.token() + R"("]})");
  EXPECT_EQ(emu.Api("GET", path).status, 401);

  emu.Admin("PUT", "/faults", "{}");
  EXPECT_EQ(emu.Api("GET", path).status, 200);
  EXPECT_EQ(emu.Admin("PUT", "/faults", R"({"errorRate":2})").status, 422);
}

// "GHL applied the write, then the answer was lost": the change is there afterwards, its
// webhook fired, whichever way the answer went missing.
TEST(EmulatorFaults, LostAnswersComeAfterTheWriteIsApplied) {
  EmulatorProcess emu({"--search-lag-ms", "0", "--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  const std::string loc = emu.location_id();
  auto create = [&](const std::string& name) {
    return emu.Api("POST", "/contacts/",
                   R"({"locationId":")" + loc + R"(","firstName":")" + name + R"(","email":")" +
                       name + R"(@example.com"})");
  };
  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"lostAnswerRate":1,"lostAnswer":"5xx"})").status, 200);
  auto lost = create("lost5xx");
  EXPECT_GE(lost.status, 500) << lost.body;
  EXPECT_LE(lost.status, 504);
  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"lostAnswerRate":1,"lostAnswer":"reset"})").status,
            200);
  EXPECT_EQ(create("lostreset").status, 0) << "connection dropped without an answer";
  ASSERT_EQ(
      emu.Admin("PUT", "/faults", R"({"lostAnswerRate":1,"lostAnswer":"timeout","timeoutMs":300})")
          .status,
      200);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(create("losttimeout").status, 0) << "held, then dropped";
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);

  // Reads (the search is a POST, but a read) and refused writes are answered as they are.
  auto search = emu.Api("POST", "/contacts/search",
                        R"({"locationId":")" + loc + R"(","query":"lost","pageLimit":10})");
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(Json(search.body)["total"].GetInt(), 3) << "all three creates were applied";
  EXPECT_EQ(create("lost5xx").status, 400) << "a duplicate is refused, and told so";
  auto state = Json(emu.Admin("GET", "/state?object=contacts&locationId=" + loc).body);
  EXPECT_EQ(state["contacts"].Size(), 3u);

  int creates = 0;
  auto events = Json(emu.Admin("GET", "/webhooks?since=0").body);
  for (const auto& e : events["events"].GetArray()) {
    creates += std::string(e["type"].GetString()) == "ContactCreate" ? 1 : 0;
  }
  EXPECT_EQ(creates, 3) << "each lost answer's ContactCreate fired";

  // The request log keeps what was applied and which fault took the answer.
  std::vector<std::string> faults;
  auto log = Json(emu.Admin("GET", "/requests").body);
  for (const auto& e : log["requests"].GetArray()) {
    if (std::string(e["method"].GetString()) != "POST" || e["status"].GetInt() != 201) continue;
    faults.emplace_back(e.HasMember("lostAnswer") ? e["lostAnswer"].GetString() : "");
  }
  EXPECT_EQ(faults, (std::vector<std::string>{"5xx", "reset", "timeout"}));
  EXPECT_EQ(emu.Admin("PUT", "/faults", R"({"lostAnswer":"later"})").status, 422);
}

TEST(EmulatorSeed, SameSeedSameIds) {
  EmulatorProcess a({"--seed", "42"}), b({"--seed", "42"}), c({"--seed", "43"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a.location_id(), b.location_id());
  EXPECT_EQ(a.token(), b.token());
  EXPECT_NE(a.location_id(), c.location_id());
}

}  // namespace
}  // namespace ghl
