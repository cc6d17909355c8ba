// Response parsers of connectors/ghl, without a network.
#include <gtest/gtest.h>

#include "connectors/ghl/responses.h"

namespace ghl::ghl_client {
namespace {

rapidjson::Document Doc(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

// ---- ParseObject ----

struct BadBody {
  const char* name;
  std::string body;
  const char* message;
};

class RefusesBody : public ::testing::TestWithParam<BadBody> {};

TEST_P(RefusesBody, WithAClearError) {
  auto r = ParseObject(GetParam().body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(GetParam().message), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Parse, RefusesBody,
    ::testing::Values(BadBody{"empty", "", "empty body"},
                      BadBody{"html", "<html>502 Bad Gateway</html>", "malformed JSON at byte 0"},
                      BadBody{"garbage_after", R"({"a":1} x)", "malformed JSON at byte 8"},
                      BadBody{"bad_value", R"({"a":x})", "malformed JSON at byte 5: Invalid value"},
                      BadBody{"array", "[1,2]", "expected a JSON object, got an array"},
                      BadBody{"string", R"("ok")", "expected a JSON object, got a string"},
                      BadBody{"cut_number", R"({"total":12)", "truncated JSON"},
                      BadBody{"cut_string", R"({"id":"ab)", "truncated JSON"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ParseObject, EveryPrefixOfABodyIsReportedAsTruncated) {
  const std::string body =
      R"({"contacts":[{"id":"a1","name":"Ada \"A\" \u00e9","n":-1.5e3,"ok":true,"no":false,)"
      R"("z":null,"tags":["x",[]],"o":{},"e":"\uD83D\uDE00"}],"total":1})";
  ASSERT_TRUE(ParseObject(body).ok());
  for (size_t n = 1; n < body.size(); ++n) {
    auto r = ParseObject(std::string_view(body).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_NE(r.error().message.find("truncated JSON"), std::string::npos)
        << n << ": " << body.substr(0, n) << " → " << r.error().message;
  }
}

TEST(ParseObject, KeepsLargeIdsAndExactDecimals) {
  auto r = ParseObject(R"({"startAfter":1625203104328,"value":100.1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["startAfter"].GetInt64(), 1625203104328);
  EXPECT_EQ((*r)["value"].GetDouble(), 100.1);
}

// ---- records ----

TEST(ParseRecord, HoistsTheWrappedObject) {
  auto r = ParseRecord(R"({"contact":{"id":"c1","tags":["a"]},"traceId":"t"})", "contact");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_STREQ((*r)["id"].GetString(), "c1");
  EXPECT_EQ((*r)["tags"].Size(), 1u);
  EXPECT_FALSE(r->HasMember("traceId"));

  EXPECT_EQ(ParseRecord(R"({"contact":null})", "contact").error().message,
            R"(expected {"contact": {...}}, but contact is null)");
  EXPECT_EQ(ParseRecord(R"({"event":{}})", "contact").error().message,
            R"(expected {"contact": {...}}, but contact is missing)");
}

TEST(ParseUpsert, TellsCreatedFromUpdated) {
  auto created = ParseUpsert(R"({"new":true,"contact":{"id":"c1"},"traceId":"t"})", "contact");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->created);
  EXPECT_STREQ(created->record["id"].GetString(), "c1");
  auto updated = ParseUpsert(R"({"opportunity":{"id":"o1"},"new":false})", "opportunity");
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->created);
  EXPECT_FALSE(ParseUpsert(R"({"contact":{"id":"c1"}})", "contact").ok()) << "no new flag";
}

TEST(ParseRecords, PointIntoTheBodyTheyOwnEvenAfterAMove) {
  auto r = ParseRecords(R"({"events":[{"id":"e1"},{"id":"e2"}]})", "events");
  ASSERT_TRUE(r.ok());
  Records moved = std::move(r.value());
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_STREQ(moved[1]["id"].GetString(), "e2");
  EXPECT_EQ(ParseRecords(R"({"events":[{"id":"e1"},3]})", "events").error().message,
            "events[1] is a number, not an object");
  EXPECT_EQ(ParseRecords(R"({"events":{}})", "events").error().message,
            R"(expected {"events": [...]}, but events is an object)");
}

// ---- contacts search ----

TEST(ParseContactSearch, AFullPageContinuesFromItsLastCursor) {
  auto page = ParseContactSearch(
      R"({"contacts":[{"id":"a","searchAfter":[3,"a"]},{"id":"b","searchAfter":[2,"b"]}],)"
      R"("total":5})",
      2);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->contacts.size(), 2u);
  EXPECT_EQ(page->total, 5);
  EXPECT_EQ(page->next_search_after, R"([2,"b"])");

  const contacts::SearchParams first{.location_id = "L", .page_limit = 2, .page = 1};
  auto next = NextPage(first, *page);
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->page.has_value()) << "page and searchAfter exclude each other";
  auto request = contacts::Search(*next);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->body, R"({"locationId":"L","pageLimit":2,"searchAfter":[2,"b"]})");
}

TEST(ParseContactSearch, AShortPageIsTheLast) {
  auto page = ParseContactSearch(R"({"contacts":[{"id":"a","searchAfter":[3,"a"]}],"total":1})", 2);
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->next_search_after.has_value());
  EXPECT_FALSE(NextPage(contacts::SearchParams{.location_id = "L"}, *page).has_value());
  auto empty = ParseContactSearch(R"({"contacts":[],"total":0})", 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->contacts.size(), 0u);
}

TEST(ParseContactSearch, AFullPageWithoutACursorIsAnErrorNotASilentStop) {
  auto page = ParseContactSearch(R"({"contacts":[{"id":"a"}],"total":9})", 1);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().message,
            "a full page of 1 contacts whose last contact has no searchAfter cursor");
}

// ---- meta pages ----

struct MetaCase {
  const char* name;
  const char* body;
  int limit;
  std::optional<PageCursor> next;
  int64_t total;
};

class MetaPages : public ::testing::TestWithParam<MetaCase> {};

TEST_P(MetaPages, GiveTheNextCursorOnlyWhenAPageFollows) {
  const MetaCase& c = GetParam();
  auto page = ParseOpportunitySearch(c.body, c.limit);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->total, c.total);
  ASSERT_EQ(page->next.has_value(), c.next.has_value());
  if (c.next) {
    EXPECT_EQ(page->next->start_after, c.next->start_after);
    EXPECT_EQ(page->next->start_after_id, c.next->start_after_id);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Opportunities, MetaPages,
    ::testing::Values(
        MetaCase{"full_page_with_next",
                 R"({"opportunities":[{"id":"o1"},{"id":"o2"}],"meta":{"total":9,)"
                 R"("nextPageUrl":"http://x/opportunities/search?page=2","startAfterId":"o2",)"
                 R"("startAfter":1625203104328,"currentPage":1,"nextPage":2,"prevPage":null}})",
                 2, PageCursor{1625203104328, "o2"}, 9},
        MetaCase{"start_after_as_string",
                 R"({"opportunities":[{"id":"o1"}],"meta":{"total":3,"nextPage":2,)"
                 R"("startAfterId":"o1","startAfter":"1625203104328"}})",
                 1, PageCursor{1625203104328, "o1"}, 3},
        MetaCase{"full_page_meta_says_last",
                 R"({"opportunities":[{"id":"o1"},{"id":"o2"}],"meta":{"total":2,)"
                 R"("nextPageUrl":null,"startAfterId":"o2","startAfter":5,"nextPage":null}})",
                 2, std::nullopt, 2},
        MetaCase{"short_page",
                 R"({"opportunities":[{"id":"o1"}],"meta":{"total":1,"nextPage":7,)"
                 R"("startAfterId":"o1","startAfter":5}})",
                 2, std::nullopt, 1},
        MetaCase{"full_page_meta_silent",
                 R"({"opportunities":[{"id":"o1"}],"meta":{"startAfterId":"o1","startAfter":5}})",
                 1, PageCursor{5, "o1"}, 1}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MetaPages, AFullPageWithoutCursorIsAnError) {
  auto page = ParseOpportunitySearch(R"({"opportunities":[{"id":"o1"}],"meta":{"nextPage":2}})", 1);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().message.find("no startAfter/startAfterId"), std::string::npos);
  EXPECT_FALSE(ParseOpportunitySearch(R"({"opportunities":[]})", 1).ok()) << "no meta";
}

TEST(MetaPages, NextPageRequestsCarryTheCursor) {
  auto page = ParseContactList(
      R"({"contacts":[{"id":"c1"}],"count":1,"meta":{"total":4,"startAfterId":"c1",)"
      R"("startAfter":1631087949919,"nextPageUrl":"/contacts/?x"}})",
      1);
  ASSERT_TRUE(page.ok()) << page.error().message;
  auto next = NextPage(contacts::ListParams{.location_id = "L", .limit = 1}, *page);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(contacts::List(*next)->path,
            "/contacts/?locationId=L&limit=1&startAfter=1631087949919&startAfterId=c1");

  auto deals = ParseOpportunitySearch(
      R"({"opportunities":[{"id":"o1"}],"meta":{"nextPage":3,"startAfterId":"o1","startAfter":9}})",
      1);
  ASSERT_TRUE(deals.ok());
  auto after =
      NextPage(opportunities::SearchParams{.location_id = "L", .limit = 1, .page = 2}, *deals);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(opportunities::Search(*after)->path,
            "/opportunities/search?location_id=L&limit=1&startAfter=9&startAfterId=o1");
}

// ---- custom field values ----

TEST(FieldValues, TheThreeOutputShapesGiveOneMap) {
  const auto contact =
      Doc(R"({"customFields":[{"id":"f1","value":"Gold"},{"id":"f2","value":["a","b"]},)"
          R"({"id":"f3","value":{"u1":{"url":"x"}}}]})");
  const auto deal = Doc(R"({"customFields":[{"id":"f1","fieldValue":"Gold"},)"
                        R"({"id":"f2","fieldValue":["a","b"]},{"id":"f3","fieldValue":{"u1":)"
                        R"({"url":"x"}}}]})");
  const auto webhook =
      Doc(R"({"type":"ContactUpdate","customFields":[{"id":"f1","value":"Gold"},)"
          R"({"id":"f2","value":["a","b"]},{"id":"f3","value":{"u1":{"url":"x"}}}]})");
  const FieldValues want = {
      {"f1", R"("Gold")"}, {"f2", R"(["a","b"])"}, {"f3", R"({"u1":{"url":"x"}})"}};
  for (const auto* record : {&contact, &deal, &webhook}) {
    auto got = ParseFieldValues(*record);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, want);
  }
}

TEST(FieldValues, NumbersAndMissingValues) {
  auto got = ParseFieldValues(Doc(R"({"customFields":[{"id":"n","value":100.5},{"id":"m"}]})"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at("n"), "100.5");
  EXPECT_EQ(got->at("m"), "null");
  EXPECT_TRUE(ParseFieldValues(Doc(R"({"id":"c1"})"))->empty()) << "no customFields";
  EXPECT_EQ(ParseFieldValues(Doc(R"({"customFields":[{"value":1}]})")).error().message,
            "customFields[0] has no id");
  EXPECT_FALSE(ParseFieldValues(Doc(R"({"customFields":{}})")).ok());
}

TEST(FieldValues, InputShapeIsByIdWithFieldValue) {
  const FieldValues values = {{"f1", R"("Gold")"}, {"f2", "12"}, {"f3", R"(["a"])"}};
  rapidjson::Document body(rapidjson::kObjectType);
  auto input = FieldValuesInput(values, body.GetAllocator());
  ASSERT_TRUE(input.ok());
  body.AddMember("customFields", input.value(), body.GetAllocator());
  auto request = contacts::Update("c1", body);
  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_EQ(request->body, R"({"customFields":[{"id":"f1","field_value":"Gold"},)"
                           R"({"id":"f2","field_value":12},{"id":"f3","field_value":["a"]}]})");
  // And back: the input shape parses to the same map.
  EXPECT_EQ(*ParseFieldValues(body), values);
  EXPECT_FALSE(FieldValuesInput({{"f1", "Gold"}}, body.GetAllocator()).ok()) << "not JSON text";
}

// ---- custom field definitions ----

constexpr const char* kDefinitions =
    R"({"customFields":[)"
    R"({"id":"f1","name":"Pincode","fieldKey":"contact.pincode","dataType":"TEXT","model":"contact"},)"
    R"({"id":"f2","name":"Months","fieldKey":"opportunity.months","dataType":"NUMERICAL",)"
    R"("model":"opportunity"},)"
    R"({"id":"f3","name":"Pincode","fieldKey":"opportunity.pincode","dataType":"TEXT",)"
    R"("model":"opportunity"},)"
    R"({"id":"f4","name":"Odd","fieldKey":"pincode2","dataType":"TEXT","model":"contact"}]})";

TEST(CustomFieldIndex, ResolvesShortAndFullKeysPerModel) {
  auto index = CustomFieldIndex::Parse(kDefinitions);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->IdOf("contact", "pincode"), "f1");
  EXPECT_EQ(index->IdOf("contact", "contact.pincode"), "f1");
  EXPECT_EQ(index->IdOf("opportunity", "pincode"), "f3");
  EXPECT_EQ(index->IdOf("opportunity", "opportunity.pincode"), "f3");
  EXPECT_EQ(index->IdOf("opportunity", "months"), "f2");
  EXPECT_EQ(index->IdOf("contact", "months"), std::nullopt) << "another model's field";
  EXPECT_EQ(index->IdOf("contact", "opportunity.pincode"), std::nullopt);
  EXPECT_EQ(index->IdOf("contact", "pincode2"), "f4") << "a key without prefix";
  ASSERT_NE(index->FindById("f2"), nullptr);
  EXPECT_EQ(index->FindById("f2")->data_type, "NUMERICAL");
  EXPECT_EQ(index->FindById("f2")->field_key, "opportunity.months");
  EXPECT_EQ(index->all().size(), 4u);
}

TEST(CustomFieldIndex, RefusesDefinitionsWithoutIdOrKey) {
  EXPECT_EQ(CustomFieldIndex::Parse(R"({"customFields":[{"id":"f1"}]})").error().message,
            "customFields[0] has no id or no fieldKey");
  EXPECT_FALSE(CustomFieldIndex::Parse("{\"customFields\":[").ok());
}

// ---- pipelines ----

TEST(ParsePipelines, StagesInPositionOrder) {
  auto p = ParsePipelines(
      R"({"pipelines":[{"id":"p1","name":"Sales","stages":[{"id":"s2","name":"Won","position":1},)"
      R"({"id":"s1","name":"New","position":0}]},{"id":"p2","name":"Empty"}]})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->size(), 2u);
  ASSERT_EQ((*p)[0].stages.size(), 2u);
  EXPECT_EQ((*p)[0].stages[0].id, "s1");
  EXPECT_EQ((*p)[0].stages[1].name, "Won");
  EXPECT_TRUE((*p)[1].stages.empty());
  EXPECT_FALSE(ParsePipelines(R"({"pipelines":[{"id":"p","stages":[1]}]})").ok());
}

}  // namespace
}  // namespace ghl::ghl_client
