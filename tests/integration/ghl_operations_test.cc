// Every typed operation once through a real GhlClient against a real ghl-emulator,
// asserting on what comes back.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <ctime>
#include <set>

#include "connectors/ghl/client.h"
#include "connectors/ghl/operations.h"
#include "connectors/ghl/responses.h"
#include "tests/support/emulator_process.h"

namespace ghl::ghl_client {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::Json;

rapidjson::Document Doc(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  return d;
}

class Operations : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
  }
  static void TearDownTestSuite() { delete emu_; }

  void SetUp() override {
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error();
    ClientOptions o;
    o.base_url = emu_->base_url();
    o.timeout = 5s;
    client_ = std::make_unique<GhlClient>(io_, curl_, clock_, o);
    client_->AddLocation(Loc(), std::make_shared<StaticToken>(emu_->token()));
  }

  static std::string Loc() { return emu_->location_id(); }

  // Sends `request` (which must have built) for `location` and waits for its answer.
  ApiResult Run(Result<ApiRequest> request, std::string location = "") {
    EXPECT_TRUE(request.ok()) << request.error().message;
    if (!request.ok()) return {Outcome::kFatal};
    std::optional<ApiResult> result;
    client_->Call(location.empty() ? Loc() : location, Lane::kRealtime, std::move(request.value()),
                  [&](ApiResult r) { result = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!result && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    EXPECT_TRUE(result.has_value()) << "no answer within 10 s";
    return result.value_or(ApiResult{Outcome::kRetry});
  }

  // Runs a request that must succeed and returns its body.
  std::string Ok(Result<ApiRequest> request, std::string location = "") {
    const std::string what = request.ok() ? request->method + " " + request->path : "";
    ApiResult r = Run(std::move(request), std::move(location));
    EXPECT_EQ(r.outcome, Outcome::kOk) << what << " → " << r.status << " " << r.body;
    return r.body;
  }

  // Creates a contact with these fields and returns its id.
  std::string NewContact(const std::string& fields_json, std::string location = "") {
    auto contact = ParseRecord(
        Ok(contacts::Create(location.empty() ? Loc() : location, Doc(fields_json)), location),
        "contact");
    EXPECT_TRUE(contact.ok()) << contact.error().message;
    return contact.ok() ? (*contact)["id"].GetString() : "";
  }

  CustomFieldIndex Fields() {
    auto index = CustomFieldIndex::Parse(Ok(custom_fields::List(Loc(), "all")));
    EXPECT_TRUE(index.ok()) << index.error().message;
    return index.ok() ? std::move(index.value()) : CustomFieldIndex{};
  }

  Pipeline SalesPipeline() {
    auto pipelines = ParsePipelines(Ok(opportunities::ListPipelines(Loc())));
    EXPECT_TRUE(pipelines.ok() && pipelines->size() == 1u);
    return pipelines.ok() && !pipelines->empty() ? (*pipelines)[0] : Pipeline{};
  }

  // A second location with its own token, for tests that need an exact record count.
  std::string NewLocation() {
    auto created = Json(emu_->Admin("POST", "/locations", R"({"name":"paging"})").body);
    const std::string id = created["location"]["id"].GetString();
    client_->AddLocation(id,
                         std::make_shared<StaticToken>(created["location"]["token"].GetString()));
    return id;
  }

  static EmulatorProcess* emu_;
  boost::asio::io_context io_;
  CurlMulti curl_{io_, {}};
  SystemClock clock_;
  std::unique_ptr<GhlClient> client_;
};
EmulatorProcess* Operations::emu_ = nullptr;

TEST_F(Operations, ContactLifecycleRoundTripsFieldsTagsAndCustomFields) {
  const CustomFieldIndex fields = Fields();
  const auto pincode = fields.IdOf("contact", "pincode");
  const auto level = fields.IdOf("contact", "contact.membership_level");
  ASSERT_TRUE(pincode && level);

  // Create with custom field values in the input shape built from a map.
  const FieldValues written = {{*pincode, R"("12345")"}, {*level, R"("Gold")"}};
  rapidjson::Document create = Doc(R"({"firstName":"Ada","email":"ada@example.com",)"
                                   R"("tags":["vip"]})");
  create.AddMember("customFields", FieldValuesInput(written, create.GetAllocator()).value(),
                   create.GetAllocator());
  ApiResult created = Run(contacts::Create(Loc(), create));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = (*ParseRecord(created.body, "contact"))["id"].GetString();

  // Read back: the output shape {id, value} normalises to the map that was written.
  auto got = ParseRecord(Ok(contacts::Get(id)), "contact");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_STREQ((*got)["firstName"].GetString(), "Ada");
  EXPECT_EQ(*ParseFieldValues(*got), written);

  // Update (companyName is accepted on PUT), then tags.
  auto updated = ParseRecord(
      Ok(contacts::Update(id, Doc(R"({"lastName":"Lovelace","companyName":"Engines"})"))),
      "contact");
  ASSERT_TRUE(updated.ok());
  EXPECT_STREQ((*updated)["lastName"].GetString(), "Lovelace");
  EXPECT_STREQ((*updated)["companyName"].GetString(), "Engines");
  EXPECT_EQ(Json(Ok(contacts::AddTags(id, {"math", "poet"})))["tags"].Size(), 3u);
  const auto removed = Json(Ok(contacts::RemoveTags(id, {"vip"})));
  ASSERT_EQ(removed["tags"].Size(), 2u);
  EXPECT_STREQ(removed["tags"][0].GetString(), "math");

  // Duplicate lookups (the + of a number must arrive URL-decoded) and upserts.
  auto dup = ParseRecord(Ok(contacts::FindDuplicate(Loc(), "ADA@example.com", "")), "contact");
  ASSERT_TRUE(dup.ok()) << dup.error().message;
  EXPECT_EQ((*dup)["id"].GetString(), id);
  const std::string plus = NewContact(R"({"email":"ada+test@example.com","phone":"+15550001"})");
  EXPECT_EQ((*ParseRecord(Ok(contacts::FindDuplicate(Loc(), "", "+15550001")), "contact"))["id"]
                .GetString(),
            plus);
  auto same = ParseUpsert(
      Ok(contacts::Upsert(Loc(), Doc(R"({"email":"ada@example.com","city":"London"})"))),
      "contact");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->created);
  EXPECT_EQ(same->record["id"].GetString(), id);
  auto fresh =
      ParseUpsert(Ok(contacts::Upsert(Loc(), Doc(R"({"email":"new@example.com"})"))), "contact");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->created);

  // Delete; the contact is gone and the refusal is a kFatal for the dead-letter queue.
  Ok(contacts::Delete(id));
  ApiResult gone = Run(contacts::Get(id));
  EXPECT_EQ(gone.outcome, Outcome::kFatal);
  EXPECT_EQ(gone.status, 400);
  auto none = ParseObject(Ok(contacts::FindDuplicate(Loc(), "ada@example.com", "")));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["contact"].IsNull());
}

TEST_F(Operations, ContactSearchCursorYieldsEveryContactExactlyOnce) {
  const std::string location = NewLocation();
  ASSERT_EQ(emu_->Admin("POST", "/locations/" + location + "/contacts/generate", R"({"count":27})")
                .status,
            201);
  const auto sort = Doc(R"([{"field":"firstNameLowerCase","direction":"asc"}])");
  struct Case {
    int limit;
    bool sorted;
    int want_requests;
  };
  // 27 = 10 + 10 + 7; 9 + 9 + 9 and an empty fourth page; all at once.
  for (auto [limit, sorted, want_requests] :
       std::vector<Case>{{10, false, 3}, {9, false, 4}, {10, true, 3}, {500, false, 1}}) {
    SCOPED_TRACE("pageLimit " + std::to_string(limit) + (sorted ? " sorted by first name" : ""));
    contacts::SearchParams params{.location_id = location, .page_limit = limit};
    if (sorted) params.sort = &sort;
    std::vector<std::string> ids;
    std::vector<std::string> names;
    int requests = 0;
    std::optional<contacts::SearchParams> next = params;
    while (next && requests < 10) {
      ++requests;
      auto page = ParseContactSearch(Ok(contacts::Search(*next), location), limit);
      ASSERT_TRUE(page.ok()) << page.error().message;
      EXPECT_EQ(page->total, 27);
      for (size_t i = 0; i < page->contacts.size(); ++i) {
        ids.push_back(page->contacts[i]["id"].GetString());
        names.push_back(page->contacts[i]["firstNameLowerCase"].GetString());
      }
      next = NextPage(*next, *page);
    }
    EXPECT_EQ(requests, want_requests);
    EXPECT_EQ(ids.size(), 27u);
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 27u) << "each exactly once";
    if (sorted) {
      EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    }
  }
}

TEST_F(Operations, ContactSearchByPageAndFilters) {
  const std::string location = NewLocation();
  ASSERT_EQ(emu_->Admin("POST", "/locations/" + location + "/contacts/generate", R"({"count":12})")
                .status,
            201);
  NewContact(R"({"firstName":"Zed","lastName":"One"})", location);
  NewContact(R"({"firstName":"zed","lastName":"Two"})", location);
  const auto filters = Doc(R"([{"field":"firstNameLowerCase","operator":"eq","value":"zed"}])");
  auto page = ParseContactSearch(
      Ok(contacts::Search(
             {.location_id = location, .page_limit = 100, .page = 1, .filters = &filters}),
         location),
      100);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->contacts.size(), 2u);
  EXPECT_FALSE(page->next_search_after.has_value());
  auto third = ParseContactSearch(
      Ok(contacts::Search({.location_id = location, .page_limit = 5, .page = 3}), location), 5);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->total, 14);
  EXPECT_EQ(third->contacts.size(), 4u) << "14 contacts: pages of 5, 5, 4";
}

TEST_F(Operations, DeprecatedContactListPagesByStartAfter) {
  const std::string location = NewLocation();
  ASSERT_EQ(emu_->Admin("POST", "/locations/" + location + "/contacts/generate", R"({"count":25})")
                .status,
            201);
  std::optional<contacts::ListParams> next =
      contacts::ListParams{.location_id = location, .limit = 10};
  std::set<std::string> ids;
  int requests = 0;
  while (next && requests < 10) {
    ++requests;
    auto page = ParseContactList(Ok(contacts::List(*next), location), next->limit);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_EQ(page->total, 25);
    for (size_t i = 0; i < page->records.size(); ++i) {
      EXPECT_TRUE(ids.insert(page->records[i]["id"].GetString()).second) << "seen twice";
    }
    next = NextPage(*next, *page);
  }
  EXPECT_EQ(ids.size(), 25u);
  EXPECT_EQ(requests, 3);
}

TEST_F(Operations, CustomFieldDefinitionsCreateListUpdateDelete) {
  auto created = ParseRecord(
      Ok(custom_fields::Create(
          Loc(), Doc(R"({"name":"Renewal Date","dataType":"DATE","model":"opportunity"})"))),
      "customField");
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = (*created)["id"].GetString();
  EXPECT_STREQ((*created)["fieldKey"].GetString(), "opportunity.renewal_date");

  CustomFieldIndex index = Fields();
  EXPECT_EQ(index.IdOf("opportunity", "renewal_date"), id);
  EXPECT_EQ(index.IdOf("opportunity", "opportunity.renewal_date"), id);
  EXPECT_EQ(index.IdOf("contact", "renewal_date"), std::nullopt);
  auto only_contacts = CustomFieldIndex::Parse(Ok(custom_fields::List(Loc(), "contact")));
  ASSERT_TRUE(only_contacts.ok());
  EXPECT_EQ(only_contacts->FindById(id), nullptr) << "model=contact leaves it out";

  auto updated = ParseRecord(
      Ok(custom_fields::Update(Loc(), id, Doc(R"({"name":"Renewal","model":"opportunity"})"))),
      "customField");
  ASSERT_TRUE(updated.ok());
  EXPECT_STREQ((*updated)["name"].GetString(), "Renewal");

  Ok(custom_fields::Delete(Loc(), id));
  EXPECT_EQ(Fields().FindById(id), nullptr);
}

TEST_F(Operations, OpportunityLifecycle) {
  const Pipeline pipeline = SalesPipeline();
  ASSERT_EQ(pipeline.stages.size(), 4u);
  EXPECT_EQ(pipeline.stages[0].name, "New Lead");
  const auto months = Fields().IdOf("opportunity", "contract_months");
  ASSERT_TRUE(months);
  const std::string contact = NewContact(R"({"firstName":"Grace","email":"grace@example.com"})");

  rapidjson::Document fields = Doc(R"({"name":"Compiler","status":"open","monetaryValue":1200})");
  auto& a = fields.GetAllocator();
  fields.AddMember("pipelineId", rapidjson::Value(pipeline.id.c_str(), a), a);
  fields.AddMember("contactId", rapidjson::Value(contact.c_str(), a), a);
  // The opportunity input schemas have no numbers (string | string[] | object).
  fields.AddMember("customFields", FieldValuesInput({{*months, R"("12")"}}, a).value(), a);
  ApiResult created = Run(opportunities::Create(Loc(), fields));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = (*ParseRecord(created.body, "opportunity"))["id"].GetString();

  // The output shape {id, fieldValue} normalises to the map that was written.
  auto got = ParseRecord(Ok(opportunities::Get(id)), "opportunity");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*ParseFieldValues(*got), (FieldValues{{*months, R"("12")"}}));
  EXPECT_EQ((*got)["pipelineStageId"].GetString(), pipeline.stages[0].id);

  rapidjson::Document move(rapidjson::kObjectType);
  move.AddMember("pipelineStageId",
                 rapidjson::Value(pipeline.stages[2].id.c_str(), move.GetAllocator()),
                 move.GetAllocator());
  move.AddMember("monetaryValue", 1500.5, move.GetAllocator());
  auto updated = ParseRecord(Ok(opportunities::Update(id, move)), "opportunity");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)["pipelineStageId"].GetString(), pipeline.stages[2].id);
  EXPECT_EQ((*updated)["monetaryValue"].GetDouble(), 1500.5);

  EXPECT_TRUE(Json(Ok(opportunities::UpdateStatus(id, "won")))["succeded"].GetBool());
  EXPECT_STREQ((*ParseRecord(Ok(opportunities::Get(id)), "opportunity"))["status"].GetString(),
               "won");

  // Upsert by (contactId, pipelineId) finds the same opportunity.
  rapidjson::Document upsert(rapidjson::kObjectType);
  auto& u = upsert.GetAllocator();
  upsert.AddMember("pipelineId", rapidjson::Value(pipeline.id.c_str(), u), u);
  upsert.AddMember("contactId", rapidjson::Value(contact.c_str(), u), u);
  upsert.AddMember("name", "Compiler v2", u);
  auto upserted = ParseUpsert(Ok(opportunities::Upsert(Loc(), upsert)), "opportunity");
  ASSERT_TRUE(upserted.ok()) << upserted.error().message;
  EXPECT_FALSE(upserted->created);
  EXPECT_EQ(upserted->record["id"].GetString(), id);
  EXPECT_STREQ(upserted->record["name"].GetString(), "Compiler v2");

  auto found = ParseOpportunitySearch(
      Ok(opportunities::Search({.location_id = Loc(), .contact_id = contact, .status = "won"})),
      100);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->records.size(), 1u);
  EXPECT_EQ(found->records[0]["id"].GetString(), id);
  EXPECT_FALSE(found->next.has_value());

  Ok(opportunities::Delete(id));
  EXPECT_EQ(Run(opportunities::Get(id)).outcome, Outcome::kFatal);
}

TEST_F(Operations, OpportunitySearchCursorYieldsEveryOpportunityExactlyOnce) {
  const Pipeline pipeline = SalesPipeline();
  std::set<std::string> created;
  for (int i = 0; i < 25; ++i) {
    const std::string contact = NewContact(R"({"firstName":"Pager )" + std::to_string(i) + "\"}");
    rapidjson::Document f =
        Doc(R"({"name":"Paging deal )" + std::to_string(i) + R"(","status":"open"})");
    f.AddMember("pipelineId", rapidjson::Value(pipeline.id.c_str(), f.GetAllocator()),
                f.GetAllocator());
    f.AddMember("contactId", rapidjson::Value(contact.c_str(), f.GetAllocator()), f.GetAllocator());
    created.insert(
        (*ParseRecord(Ok(opportunities::Create(Loc(), f)), "opportunity"))["id"].GetString());
  }
  std::optional<opportunities::SearchParams> next = opportunities::SearchParams{
      .location_id = Loc(), .pipeline_id = pipeline.id, .q = "paging deal", .limit = 10};
  std::set<std::string> seen;
  int requests = 0;
  while (next && requests < 10) {
    ++requests;
    auto page = ParseOpportunitySearch(Ok(opportunities::Search(*next)), next->limit);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_EQ(page->total, 25);
    for (size_t i = 0; i < page->records.size(); ++i) {
      EXPECT_TRUE(seen.insert(page->records[i]["id"].GetString()).second) << "seen twice";
    }
    next = NextPage(*next, *page);
  }
  EXPECT_EQ(seen, created);
  EXPECT_EQ(requests, 3);
}

TEST_F(Operations, AppointmentLifecycle) {
  auto calendars = ParseRecords(Ok(calendars::ListCalendars(Loc())), "calendars");
  ASSERT_TRUE(calendars.ok() && calendars->size() == 1u);
  const std::string calendar = (*calendars)[0]["id"].GetString();
  auto info = Json(emu_->Admin("GET", "/info").body);
  const std::string user = info["users"][0]["id"].GetString();
  const std::string contact = NewContact(R"({"firstName":"Edsger"})");

  // Tomorrow at 10:00 UTC, on the calendar's 30-minute grid.
  const int64_t day = 86'400'000;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t start = (now / day + 1) * day + 10 * 3'600'000;
  const std::string iso = [&] {
    const std::time_t t = start / 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return std::string(buf);
  }();
  const std::string fields = R"({"calendarId":")" + calendar + R"(","contactId":")" + contact +
                             R"(","startTime":")" + iso + R"(","assignedUserId":")" + user +
                             R"(","title":"Go To considered"})";
  auto created = ParseObject(Ok(calendars::CreateAppointment(Loc(), Doc(fields))));
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = (*created)["id"].GetString();
  EXPECT_EQ((*created)["calendarId"].GetString(), calendar);

  auto got = ParseRecord(Ok(calendars::GetAppointment(id)), "event");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_STREQ((*got)["title"].GetString(), "Go To considered");

  Ok(calendars::UpdateAppointment(id, Doc(R"({"title":"Harmful","appointmentStatus":"showed"})")));
  for (auto params :
       std::vector<calendars::EventsParams>{{.calendar_id = calendar}, {.user_id = user}}) {
    params.location_id = Loc();
    params.start_ms = start - day;
    params.end_ms = start + day;
    auto events = ParseRecords(Ok(calendars::ListEvents(params)), "events");
    ASSERT_TRUE(events.ok()) << events.error().message;
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0]["id"].GetString(), id);
    EXPECT_STREQ((*events)[0]["title"].GetString(), "Harmful");
    EXPECT_STREQ((*events)[0]["appointmentStatus"].GetString(), "showed");
  }

  Ok(calendars::DeleteEvent(id));
  auto after = ParseRecords(Ok(calendars::ListEvents({.location_id = Loc(),
                                                      .calendar_id = calendar,
                                                      .start_ms = start - day,
                                                      .end_ms = start + day})),
                            "events");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 0u);
}

}  // namespace
}  // namespace ghl::ghl_client
