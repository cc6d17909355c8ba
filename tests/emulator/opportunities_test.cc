// ghl-emulator: opportunities and pipelines (apps/opportunities.json), driven over real HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::HttpReply;
using testing::Json;

std::string Str(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : ""; }

std::vector<std::string> Messages(const HttpReply& r) { return testing::Messages(r.body); }
using testing::Has;

class EmulatorOpportunities : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
    if (!emu_->ok()) return;
    emu_->SkipWindowCheck();  // the suite sends more than 100 requests in 10 s on purpose
    auto p =
        Json(emu_->Api("GET", "/opportunities/pipelines?locationId=" + emu_->location_id()).body);
    if (!p.IsObject() || !p.HasMember("pipelines") || p["pipelines"].Empty()) return;
    pipeline_ = p["pipelines"][0]["id"].GetString();
    for (const auto& s : p["pipelines"][0]["stages"].GetArray()) {
      stages_.emplace_back(s["id"].GetString());
    }
  }
  static void TearDownTestSuite() {
    delete emu_;
    emu_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error();
    ASSERT_EQ(stages_.size(), 4u) << "the seeded pipeline has four stages";
  }

  static std::string Loc() { return emu_->location_id(); }

  // A fresh contact: each contact may have one opportunity per pipeline.
  static std::string NewContact(const std::string& first_name, const std::string& location = "",
                                const std::string& token = "") {
    static int n = 0;
    auto r =
        emu_->Api("POST", "/contacts/",
                  R"({"locationId":")" + (location.empty() ? Loc() : location) +
                      R"(","firstName":")" + first_name + R"(","lastName":"Opp","email":"opp)" +
                      std::to_string(n++) + R"(@example.com","companyName":"Acme"})",
                  "2021-07-28", token);
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = Json(r.body);
    return d.IsObject() && d.HasMember("contact") ? d["contact"]["id"].GetString() : "";
  }

  static HttpReply CreateOpp(const std::string& contact, const std::string& name,
                             const std::string& extra = "") {
    return emu_->Api("POST", "/opportunities/",
                     R"({"locationId":")" + Loc() + R"(","pipelineId":")" + pipeline_ +
                         R"(","contactId":")" + contact + R"(","name":")" + name +
                         R"(","status":"open")" + extra + "}");
  }

  // Creates an opportunity for a new contact and returns its id.
  static std::string NewOpp(const std::string& name, const std::string& extra = "") {
    auto r = CreateOpp(NewContact(name), name, extra);
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = Json(r.body);
    return d.IsObject() && d.HasMember("opportunity") ? d["opportunity"]["id"].GetString() : "";
  }

  static uint64_t NextEvent() {
    return Json(emu_->Admin("GET", "/webhooks").body)["next"].GetUint64();
  }

  // The types of the webhook events about `id` fired since `since`.
  static std::vector<std::string> EventTypes(uint64_t since, const std::string& id) {
    auto d = Json(emu_->Admin("GET", "/webhooks?since=" + std::to_string(since)).body);
    std::vector<std::string> types;
    for (const auto& e : d["events"].GetArray()) {
      if (e.HasMember("id") && Str(e["id"]) == id) types.emplace_back(e["type"].GetString());
    }
    return types;
  }

  static EmulatorProcess* emu_;
  static std::string pipeline_;
  static std::vector<std::string> stages_;
};
EmulatorProcess* EmulatorOpportunities::emu_ = nullptr;
std::string EmulatorOpportunities::pipeline_;
std::vector<std::string> EmulatorOpportunities::stages_;

TEST_F(EmulatorOpportunities, PipelinesListTheSeededPipelineWithItsStages) {
  auto r = emu_->Api("GET", "/opportunities/pipelines?locationId=" + Loc());
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r.body);
  ASSERT_EQ(d["pipelines"].Size(), 1u);
  const auto& p = d["pipelines"][0];
  EXPECT_EQ(Str(p["name"]), "Sales Pipeline");
  EXPECT_EQ(Str(p["locationId"]), Loc());
  ASSERT_EQ(p["stages"].Size(), 4u);
  EXPECT_EQ(Str(p["stages"][0]["name"]), "New Lead");
  EXPECT_TRUE(p["stages"][3]["id"].IsString());

  EXPECT_EQ(emu_->Api("GET", "/opportunities/pipelines").status, 400) << "locationId is required";
  EXPECT_EQ(emu_->Api("GET", "/opportunities/pipelines?locationId=nope").status, 400);
  EXPECT_EQ(
      emu_->Api("GET", "/opportunities/pipelines?locationId=" + Loc(), "", "2021-04-15").status,
      400)
      << "opportunities want Version 2021-07-28";
}

TEST_F(EmulatorOpportunities, CreateGetUpdateDeleteRoundTrip) {
  const std::string contact = NewContact("Ada");
  auto created = CreateOpp(contact, "Website redesign", R"(,"monetaryValue":500)");
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = Json(created.body);
  const auto& o = c["opportunity"];
  const std::string id = Str(o["id"]);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(Str(o["name"]), "Website redesign");
  EXPECT_EQ(o["monetaryValue"].GetInt(), 500);
  EXPECT_EQ(Str(o["pipelineId"]), pipeline_);
  EXPECT_EQ(Str(o["pipelineStageId"]), stages_[0]) << "no stage given: the first stage";
  EXPECT_EQ(Str(o["status"]), "open");
  EXPECT_EQ(Str(o["contactId"]), contact);
  EXPECT_EQ(Str(o["locationId"]), Loc());
  const std::string created_at = Str(o["createdAt"]);
  EXPECT_EQ(created_at.size(), 24u) << "ISO time with milliseconds";
  EXPECT_EQ(Str(o["updatedAt"]), created_at);
  EXPECT_EQ(Str(o["lastStatusChangeAt"]), created_at);
  EXPECT_EQ(Str(o["lastStageChangeAt"]), created_at);
  EXPECT_EQ(Str(o["contact"]["id"]), contact);
  EXPECT_EQ(Str(o["contact"]["name"]), "Ada Opp");
  EXPECT_EQ(Str(o["contact"]["companyName"]), "Acme");
  EXPECT_TRUE(o["contact"]["tags"].IsArray());
  EXPECT_TRUE(o["customFields"].IsArray() && o["customFields"].Empty());

  auto got = emu_->Api("GET", "/opportunities/" + id);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Json(got.body)["opportunity"], o) << "GET returns what create returned";

  std::this_thread::sleep_for(5ms);
  auto put = emu_->Api("PUT", "/opportunities/" + id, R"({"name":"Website rebuild"})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto u = Json(put.body);
  EXPECT_EQ(Str(u["opportunity"]["name"]), "Website rebuild");
  const std::string updated_at = Str(u["opportunity"]["updatedAt"]);
  EXPECT_GT(updated_at, created_at);
  EXPECT_EQ(Str(u["opportunity"]["lastStageChangeAt"]), created_at) << "the stage did not move";

  std::this_thread::sleep_for(5ms);
  auto same = Json(emu_->Api("PUT", "/opportunities/" + id,
                             R"({"name":"Website rebuild","monetaryValue":500.0})")
                       .body);
  EXPECT_EQ(Str(same["opportunity"]["updatedAt"]), updated_at) << "nothing changed";

  auto del = emu_->Api("DELETE", "/opportunities/" + id);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, R"({"succeded":true})");
  auto gone = emu_->Api("GET", "/opportunities/" + id);
  EXPECT_EQ(gone.status, 400) << "the spec declares 400, not 404";
  EXPECT_NE(gone.body.find(R"("statusCode":400)"), std::string::npos) << gone.body;
  EXPECT_EQ(emu_->Api("DELETE", "/opportunities/" + id).status, 400);
  EXPECT_EQ(emu_->Api("PUT", "/opportunities/" + id, R"({"name":"x"})").status, 400);
}

TEST_F(EmulatorOpportunities, ChangesFireTheDocumentedWebhookEvents) {
  const uint64_t since = NextEvent();
  const std::string id = NewOpp("Grace");
  auto put = [&](const std::string& path, const std::string& body) {
    auto r = emu_->Api("PUT", "/opportunities/" + id + path, body);
    EXPECT_EQ(r.status, 200) << body << " -> " << r.body;
    return r;
  };
  std::this_thread::sleep_for(5ms);
  auto staged = Json(put("", R"({"pipelineStageId":")" + stages_[1] + R"("})").body);
  EXPECT_GT(Str(staged["opportunity"]["lastStageChangeAt"]),
            Str(staged["opportunity"]["createdAt"]));
  EXPECT_EQ(Str(staged["opportunity"]["lastStatusChangeAt"]),
            Str(staged["opportunity"]["createdAt"]));
  put("", R"({"monetaryValue":1200})");
  put("", R"({"assignedTo":"user-1"})");
  put("", R"({"status":"won"})");
  put("", R"({"status":"won","monetaryValue":1200,"assignedTo":"user-1"})");      // no change
  EXPECT_EQ(put("/status", R"({"status":"won"})").body, R"({"succeded":true})");  // no change
  put("/status", R"({"status":"lost","lostReasonId":"too-expensive"})");
  put("", R"({"name":"Grace deal"})");
  ASSERT_EQ(emu_->Api("DELETE", "/opportunities/" + id).status, 200);

  EXPECT_EQ(
      EventTypes(since, id),
      (std::vector<std::string>{
          "OpportunityCreate", "OpportunityUpdate", "OpportunityStageUpdate", "OpportunityUpdate",
          "OpportunityMonetaryValueUpdate", "OpportunityUpdate", "OpportunityAssignedToUpdate",
          "OpportunityUpdate", "OpportunityStatusUpdate", "OpportunityUpdate",
          "OpportunityStatusUpdate", "OpportunityUpdate", "OpportunityDelete"}));

  // Every Opportunity* event has the same flat payload.
  auto events = Json(emu_->Admin("GET", "/webhooks?since=" + std::to_string(since)).body);
  const rapidjson::Value* stage_event = nullptr;
  for (const auto& e : events["events"].GetArray()) {
    if (e.HasMember("id") && Str(e["id"]) == id && Str(e["type"]) == "OpportunityStageUpdate") {
      stage_event = &e;
    }
  }
  ASSERT_NE(stage_event, nullptr);
  std::set<std::string> keys;
  for (const auto& m : stage_event->GetObject()) keys.insert(m.name.GetString());
  EXPECT_EQ(keys, (std::set<std::string>{"type", "locationId", "id", "contactId", "monetaryValue",
                                         "name", "pipelineId", "pipelineStageId", "source",
                                         "status", "dateAdded"}))
      << "assignedTo only once assigned; no updatedAt";
  EXPECT_EQ(Str((*stage_event)["pipelineStageId"]), stages_[1]);
  EXPECT_EQ(Str((*stage_event)["locationId"]), Loc());
  EXPECT_EQ(Str((*stage_event)["dateAdded"]), Str(staged["opportunity"]["createdAt"]));
}

TEST_F(EmulatorOpportunities, StatusEndpointSetsStatusAndLostReason) {
  const std::string id = NewOpp("Alan");
  std::this_thread::sleep_for(5ms);
  auto r = emu_->Api("PUT", "/opportunities/" + id + "/status",
                     R"({"status":"lost","lostReasonId":"r-1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"succeded":true})");
  auto o = Json(emu_->Api("GET", "/opportunities/" + id).body);
  EXPECT_EQ(Str(o["opportunity"]["status"]), "lost");
  EXPECT_EQ(Str(o["opportunity"]["lostReasonId"]), "r-1");
  EXPECT_GT(Str(o["opportunity"]["lastStatusChangeAt"]), Str(o["opportunity"]["createdAt"]));
  EXPECT_EQ(Str(o["opportunity"]["updatedAt"]), Str(o["opportunity"]["lastStatusChangeAt"]));

  auto bogus = emu_->Api("PUT", "/opportunities/" + id + "/status", R"({"status":"closed"})");
  EXPECT_EQ(bogus.status, 422);
  EXPECT_TRUE(Has(Messages(bogus),
                  "status must be one of the following values: open, won, lost, abandoned, all"))
      << bogus.body;
  EXPECT_EQ(emu_->Api("PUT", "/opportunities/" + id + "/status", "{}").status, 422)
      << "status is required";
  auto extra =
      emu_->Api("PUT", "/opportunities/" + id + "/status", R"({"status":"won","reason":"x"})");
  EXPECT_EQ(extra.status, 422);
  EXPECT_TRUE(Has(Messages(extra), "property reason should not exist")) << extra.body;
  EXPECT_EQ(emu_->Api("PUT", "/opportunities/nope/status", R"({"status":"won"})").status, 400);
}

TEST_F(EmulatorOpportunities, CustomFieldsGoInAsFieldValueAndComeOutAsFieldValue) {
  auto defs = Json(emu_->Admin("GET", "/state?object=customFields&locationId=" + Loc()).body);
  std::string field_id;
  for (const auto& f : defs["customFields"].GetArray()) {
    if (Str(f["fieldKey"]) == "opportunity.contract_months") field_id = Str(f["id"]);
  }
  ASSERT_FALSE(field_id.empty());

  auto created = CreateOpp(NewContact("Barbara"), "Support contract",
                           R"(,"customFields":[{"key":"contract_months","field_value":"12"}])");
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = Json(created.body);
  const std::string id = Str(c["opportunity"]["id"]);
  const auto& cfs = c["opportunity"]["customFields"];
  ASSERT_EQ(cfs.Size(), 1u);
  EXPECT_EQ(cfs[0].MemberCount(), 2u) << "out: {id, fieldValue}";
  EXPECT_EQ(Str(cfs[0]["id"]), field_id);
  EXPECT_EQ(Str(cfs[0]["fieldValue"]), "12");

  auto by_prefixed_key = Json(emu_->Api("PUT", "/opportunities/" + id,
                                        R"({"customFields":[{"key":"opportunity.contract_months",)"
                                        R"("field_value":24}]})")
                                  .body);
  ASSERT_EQ(by_prefixed_key["opportunity"]["customFields"].Size(), 1u);
  EXPECT_EQ(Str(by_prefixed_key["opportunity"]["customFields"][0]["fieldValue"]), "24")
      << "fieldValue is a string, an object or an array in the spec, never a number";

  auto cleared =
      Json(emu_->Api("PUT", "/opportunities/" + id,
                     R"({"customFields":[{"id":")" + field_id + R"(","field_value":""}]})")
               .body);
  EXPECT_TRUE(cleared["opportunity"]["customFields"].Empty()) << "an empty value removes it";

  auto unknown = emu_->Api("PUT", "/opportunities/" + id,
                           R"({"customFields":[{"key":"favourite_colour","field_value":"red"}]})");
  EXPECT_EQ(unknown.status, 422);
  ASSERT_EQ(Messages(unknown).size(), 1u) << unknown.body;
  EXPECT_NE(Messages(unknown)[0].find("favourite_colour"), std::string::npos);
  auto contact_field = emu_->Api("PUT", "/opportunities/" + id,
                                 R"({"customFields":[{"key":"pincode","field_value":"1"}]})");
  EXPECT_EQ(contact_field.status, 422) << "a contact field is not an opportunity field";
}

TEST_F(EmulatorOpportunities, UpsertMatchesByIdThenByContactAndPipeline) {
  const std::string contact = NewContact("Edsger");
  auto upsert = [&](const std::string& fields) {
    return emu_->Api(
        "POST", "/opportunities/upsert",
        R"({"locationId":")" + Loc() + R"(","pipelineId":")" + pipeline_ + "\"" + fields + "}");
  };
  auto first = upsert(R"(,"contactId":")" + contact + R"(","status":"open")");
  ASSERT_EQ(first.status, 200) << first.body;
  auto f = Json(first.body);
  EXPECT_TRUE(f["new"].GetBool());
  const std::string id = Str(f["opportunity"]["id"]);
  EXPECT_EQ(Str(f["opportunity"]["name"]), "Edsger Opp") << "named after the contact";

  const uint64_t since = NextEvent();
  auto again = Json(upsert(R"(,"contactId":")" + contact + R"(","monetaryValue":99)").body);
  EXPECT_FALSE(again["new"].GetBool());
  EXPECT_EQ(Str(again["opportunity"]["id"]), id) << "same contact and pipeline: same record";
  EXPECT_EQ(again["opportunity"]["monetaryValue"].GetInt(), 99);
  EXPECT_EQ(Str(again["opportunity"]["name"]), "Edsger Opp");

  auto by_id = Json(upsert(R"(,"id":")" + id + R"(","status":"won","followers":["u1","u2"])").body);
  EXPECT_FALSE(by_id["new"].GetBool());
  EXPECT_EQ(Str(by_id["opportunity"]["status"]), "won");
  EXPECT_EQ(by_id["opportunity"]["followers"].Size(), 2u);
  auto unfollow = Json(
      upsert(R"(,"id":")" + id + R"(","followers":["u1"],"followersActionType":"remove")").body);
  EXPECT_EQ(unfollow["opportunity"]["followers"].Size(), 1u);
  EXPECT_EQ(EventTypes(since, id),
            (std::vector<std::string>{"OpportunityUpdate", "OpportunityMonetaryValueUpdate",
                                      "OpportunityUpdate", "OpportunityStatusUpdate",
                                      "OpportunityUpdate"}));

  EXPECT_EQ(upsert(R"(,"id":"no-such-opportunity")").status, 400);
  auto no_contact = upsert(R"(,"name":"x")");
  EXPECT_EQ(no_contact.status, 422);
  EXPECT_TRUE(Has(Messages(no_contact), "contactId should not be empty")) << no_contact.body;
  auto no_pipeline =
      emu_->Api("POST", "/opportunities/upsert",
                R"({"locationId":")" + Loc() + R"(","contactId":")" + contact + "\"}");
  EXPECT_EQ(no_pipeline.status, 422);
  EXPECT_TRUE(Has(Messages(no_pipeline), "pipelineId should not be empty")) << no_pipeline.body;
}

TEST_F(EmulatorOpportunities, ASecondOpportunityForAContactInAPipelineIsRefused) {
  const std::string contact = NewContact("Ken");
  auto first = CreateOpp(contact, "First");
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id = Str(Json(first.body)["opportunity"]["id"]);
  auto second = CreateOpp(contact, "Second");
  EXPECT_EQ(second.status, 400);
  auto d = Json(second.body);
  EXPECT_EQ(Str(d["message"]), "Can not create duplicate opportunity for the contact.");
  EXPECT_EQ(Str(d["code"]), "OPPORTUNITY_NO_DUPLICATE");
  EXPECT_EQ(Str(d["meta"]["existingId"]), id);
}

TEST_F(EmulatorOpportunities, InvalidWritesGetGhlErrorShapes) {
  auto empty = emu_->Api("POST", "/opportunities/", "{}");
  EXPECT_EQ(empty.status, 422);
  auto m = Messages(empty);
  for (const char* want :
       {"pipelineId should not be empty", "locationId should not be empty",
        "name should not be empty", "contactId should not be empty",
        "status must be one of the following values: open, won, lost, abandoned, all"}) {
    EXPECT_TRUE(Has(m, want)) << want << " in " << empty.body;
  }
  EXPECT_EQ(Str(Json(empty.body)["error"]), "Unprocessable Entity");

  const std::string contact = NewContact("Frances");
  auto unknown = CreateOpp(contact, "x", R"(,"title":"x")");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_TRUE(Has(Messages(unknown), "property title should not exist")) << unknown.body;
  auto text_value = CreateOpp(contact, "x", R"(,"monetaryValue":"100")");
  EXPECT_TRUE(Has(Messages(text_value),
                  "monetaryValue must be a number conforming to the specified constraints"))
      << text_value.body;
  auto all_status =
      emu_->Api("POST", "/opportunities/",
                R"({"locationId":")" + Loc() + R"(","pipelineId":")" + pipeline_ +
                    R"(","contactId":")" + contact + R"(","name":"x","status":"all"})");
  EXPECT_EQ(all_status.status, 422) << "all is a search filter, not a state";

  auto no_contact = CreateOpp("no-such-contact", "x");
  EXPECT_EQ(no_contact.status, 400);
  EXPECT_EQ(Str(Json(no_contact.body)["message"]), "Contact not found");
  const std::string bad_pipeline = R"({"locationId":")" + Loc() + R"(","pipelineId":"nope",)" +
                                   R"("contactId":")" + contact +
                                   R"(","name":"x","status":"open"})";
  auto no_pipeline = emu_->Api("POST", "/opportunities/", bad_pipeline);
  EXPECT_EQ(no_pipeline.status, 400);
  EXPECT_EQ(Str(Json(no_pipeline.body)["message"]), "Pipeline not found");
  EXPECT_EQ(CreateOpp(contact, "x", R"(,"pipelineStageId":"not-a-stage")").status, 400);
  EXPECT_EQ(emu_->Api("POST", "/opportunities/", R"({"name": )").status, 400) << "bad JSON";

  const std::string id = NewOpp("Donald");
  auto location = emu_->Api("PUT", "/opportunities/" + id, R"({"locationId":")" + Loc() + "\"}");
  EXPECT_EQ(location.status, 422);
  EXPECT_TRUE(Has(Messages(location), "property locationId should not exist")) << location.body;
  auto contact_move = emu_->Api("PUT", "/opportunities/" + id, R"({"contactId":"x"})");
  EXPECT_TRUE(Has(Messages(contact_move), "property contactId should not exist"));
  EXPECT_EQ(emu_->Api("PUT", "/opportunities/" + id, R"({"name":""})").status, 422);
  EXPECT_EQ(emu_->Api("PUT", "/opportunities/" + id, R"({"pipelineStageId":"zzz"})").status, 400);
}

TEST_F(EmulatorOpportunities, SearchFiltersAndPagesWithStartAfterThroughSeveralPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(NewOpp("Pager" + std::to_string(i), ",\"monetaryValue\":" + std::to_string(i)));
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(emu_->Api("PUT", "/opportunities/" + ids[i],
                        R"({"status":"won","pipelineStageId":")" + stages_[2] + R"("})")
                  .status,
              200);
  }
  const std::string base = "/opportunities/search?location_id=" + Loc() + "&q=PAGER";
  auto search = [&](const std::string& extra) {
    auto r = emu_->Api("GET", base + extra);
    EXPECT_EQ(r.status, 200) << extra << " -> " << r.body;
    return Json(r.body);
  };
  auto all = search("");
  EXPECT_EQ(all["meta"]["total"].GetInt(), 25);
  EXPECT_EQ(all["opportunities"].Size(), 20u) << "limit defaults to 20";
  EXPECT_TRUE(all["aggregations"].IsObject());
  EXPECT_EQ(Str(all["opportunities"][0]["contact"]["companyName"]), "Acme");

  // Newest first, following meta.startAfter/startAfterId.
  std::vector<std::string> seen;
  std::vector<std::string> created;
  std::string cursor;
  for (int page = 1; page <= 4; ++page) {
    auto r = search("&limit=10" + cursor);
    const auto& list = r["opportunities"];
    for (const auto& o : list.GetArray()) {
      seen.push_back(Str(o["id"]));
      created.push_back(Str(o["createdAt"]));
    }
    const auto& meta = r["meta"];
    EXPECT_EQ(meta["total"].GetInt(), 25);
    if (meta["nextPageUrl"].IsNull()) {
      EXPECT_EQ(page, 3);
      EXPECT_EQ(list.Size(), 5u);
      EXPECT_TRUE(meta["nextPage"].IsNull());
      break;
    }
    EXPECT_EQ(list.Size(), 10u);
    EXPECT_EQ(Str(meta["startAfterId"]), Str(list[9]["id"]));
    ASSERT_TRUE(meta["startAfter"].IsInt64());
    cursor = "&startAfter=" + std::to_string(meta["startAfter"].GetInt64()) +
             "&startAfterId=" + Str(meta["startAfterId"]);
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u) << "no repeats";
  EXPECT_TRUE(std::is_sorted(created.rbegin(), created.rend())) << "newest first";

  // Oldest first, following meta.nextPageUrl as given (an absolute URL).
  std::vector<std::string> asc;
  std::string next = base + "&limit=10&order=added_asc";
  for (int page = 1; page <= 4 && !next.empty(); ++page) {
    auto reply = emu_->Api("GET", next);
    ASSERT_EQ(reply.status, 200) << next << " -> " << reply.body;
    auto r = Json(reply.body);
    EXPECT_EQ(r["meta"]["currentPage"].GetInt(), page);
    EXPECT_EQ(r["meta"]["prevPage"].IsNull(), page == 1);
    for (const auto& o : r["opportunities"].GetArray()) asc.push_back(Str(o["id"]));
    next.clear();
    if (r["meta"]["nextPageUrl"].IsString()) {
      const std::string url = Str(r["meta"]["nextPageUrl"]);
      ASSERT_EQ(url.rfind(emu_->base_url() + "/opportunities/search?", 0), 0u) << url;
      next = url.substr(emu_->base_url().size());
    }
  }
  EXPECT_EQ(asc, std::vector<std::string>(seen.rbegin(), seen.rend())) << "the reverse order";

  auto third = search("&limit=10&page=3");
  EXPECT_EQ(third["opportunities"].Size(), 5u);
  EXPECT_EQ(third["meta"]["prevPage"].GetInt(), 2);
  EXPECT_TRUE(third["meta"]["nextPage"].IsNull());

  EXPECT_EQ(search("&status=won")["meta"]["total"].GetInt(), 5);
  EXPECT_EQ(search("&status=open")["meta"]["total"].GetInt(), 20);
  EXPECT_EQ(search("&status=all")["meta"]["total"].GetInt(), 25);
  EXPECT_EQ(search("&pipeline_stage_id=" + stages_[2])["meta"]["total"].GetInt(), 5);
  EXPECT_EQ(search("&pipeline_id=" + pipeline_)["meta"]["total"].GetInt(), 25);
  auto one = search("&contact_id=" + Str(all["opportunities"][0]["contactId"]));
  EXPECT_EQ(one["meta"]["total"].GetInt(), 1);
  EXPECT_EQ(search("&q=pager7")["meta"]["total"].GetInt(), 1) << "q matches the name";

  // date/endDate are mm-dd-yyyy days of createdAt.
  const std::string iso = created.front();  // yyyy-mm-ddT...
  const std::string day = iso.substr(5, 2) + "-" + iso.substr(8, 2) + "-" + iso.substr(0, 4);
  EXPECT_EQ(search("&date=" + day + "&endDate=" + day)["meta"]["total"].GetInt(), 25);
  EXPECT_EQ(search("&endDate=01-01-2001")["meta"]["total"].GetInt(), 0);

  auto with_notes = search("&limit=1&getNotes=true");
  EXPECT_TRUE(with_notes["opportunities"][0]["notes"].IsArray());

  auto past_end = search("&order=added_asc&startAfter=" + std::to_string(INT64_MAX / 2));
  EXPECT_TRUE(past_end["opportunities"].Empty());
  EXPECT_TRUE(past_end["meta"]["startAfterId"].IsNull());
  EXPECT_TRUE(past_end["meta"]["nextPageUrl"].IsNull());
  EXPECT_EQ(emu_->Api("GET", base + "&limit=100&page=101").status, 400)
      << "offset paging stops at 10,000 results";

  EXPECT_EQ(emu_->Api("GET", base + "&limit=101").status, 422);
  EXPECT_EQ(emu_->Api("GET", base + "&status=closed").status, 422);
  EXPECT_EQ(emu_->Api("GET", base + "&date=2024-01-01").status, 422);
  auto no_location = emu_->Api("GET", "/opportunities/search?q=x");
  EXPECT_EQ(no_location.status, 422);
  EXPECT_TRUE(Has(Messages(no_location), "location_id should not be empty")) << no_location.body;
}

TEST_F(EmulatorOpportunities, TokensOfAnotherLocationAreRefused) {
  const std::string id = NewOpp("Radia");
  auto other = Json(emu_->Admin("POST", "/locations", R"({"name":"x"})").body);
  const std::string other_id = Str(other["location"]["id"]);
  const std::string tok = Str(other["location"]["token"]);
  ASSERT_FALSE(tok.empty());
  auto as_other = [&](const std::string& method, const std::string& path,
                      const std::string& body = "") {
    return emu_->Api(method, path, body, "2021-07-28", tok).status;
  };
  EXPECT_EQ(as_other("GET", "/opportunities/" + id), 403);
  EXPECT_EQ(as_other("PUT", "/opportunities/" + id, R"({"name":"mine"})"), 403);
  EXPECT_EQ(as_other("PUT", "/opportunities/" + id + "/status", R"({"status":"won"})"), 403);
  EXPECT_EQ(as_other("DELETE", "/opportunities/" + id), 403);
  EXPECT_EQ(as_other("GET", "/opportunities/search?location_id=" + Loc()), 403);
  EXPECT_EQ(as_other("GET", "/opportunities/pipelines?locationId=" + Loc()), 403);
  EXPECT_EQ(as_other("POST", "/opportunities/",
                     R"({"locationId":")" + Loc() + R"(","pipelineId":")" + pipeline_ +
                         R"(","contactId":"x","name":"x","status":"open"})"),
            403);
  EXPECT_EQ(as_other("POST", "/opportunities/upsert",
                     R"({"locationId":")" + Loc() + R"(","pipelineId":")" + pipeline_ +
                         R"(","contactId":"x"})"),
            403);
  EXPECT_EQ(Str(Json(emu_->Api("GET", "/opportunities/" + id).body)["opportunity"]["name"]),
            "Radia")
      << "unchanged";

  // In its own location the token works, but the other location's pipeline and contacts
  // are not there.
  auto pipelines = Json(
      emu_->Api("GET", "/opportunities/pipelines?locationId=" + other_id, "", "2021-07-28", tok)
          .body);
  EXPECT_TRUE(pipelines["pipelines"].Empty());
  auto search =
      Json(emu_->Api("GET", "/opportunities/search?location_id=" + other_id, "", "2021-07-28", tok)
               .body);
  EXPECT_EQ(search["meta"]["total"].GetInt(), 0);
  const std::string their_contact = NewContact("Niklaus", other_id, tok);
  auto foreign_pipeline =
      emu_->Api("POST", "/opportunities/",
                R"({"locationId":")" + other_id + R"(","pipelineId":")" + pipeline_ +
                    R"(","contactId":")" + their_contact + R"(","name":"x","status":"open"})",
                "2021-07-28", tok);
  EXPECT_EQ(foreign_pipeline.status, 400);
  EXPECT_EQ(Str(Json(foreign_pipeline.body)["message"]), "Pipeline not found");
  EXPECT_EQ(CreateOpp(their_contact, "x").status, 400) << "a contact of another location";
}

TEST_F(EmulatorOpportunities, ACreateWhoseAnswerIsLostWasApplied) {
  const std::string contact = NewContact("LostAnswer");
  for (const char* kind : {"5xx", "reset"}) {
    ASSERT_EQ(emu_->Admin("PUT", "/faults",
                          std::string(R"({"lostAnswerRate":1,"lostAnswer":")") + kind + "\"}")
                  .status,
              200);
    auto lost = CreateOpp(contact, std::string("Lost ") + kind);
    emu_->Admin("PUT", "/faults", "{}");
    if (std::string(kind) == "5xx") {
      EXPECT_GE(lost.status, 500) << lost.body;
    } else {
      EXPECT_EQ(lost.status, 0) << "connection dropped without an answer";
    }
    // Applied: search finds it, and a retry of the create is refused as a duplicate.
    auto found = Json(
        emu_->Api("GET", "/opportunities/search?location_id=" + Loc() + "&contact_id=" + contact)
            .body);
    ASSERT_TRUE(found.IsObject() && found["opportunities"].IsArray());
    ASSERT_EQ(found["opportunities"].Size(), 1u) << kind;
    const std::string id = found["opportunities"][0]["id"].GetString();
    EXPECT_EQ(Str(found["opportunities"][0]["name"]), std::string("Lost ") + kind);
    EXPECT_EQ(emu_->Api("GET", "/opportunities/" + id).status, 200);
    EXPECT_EQ(CreateOpp(contact, "retry").status, 400) << kind;
    ASSERT_EQ(emu_->Api("DELETE", "/opportunities/" + id).status, 200);
  }
}

TEST(EmulatorOpportunitySearchLag, SearchSeesChangesOnlyAfterTheLag) {
  EmulatorProcess emu({"--search-lag-ms", "600", "--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  auto contact = emu.Api("POST", "/contacts/",
                         R"({"locationId":")" + emu.location_id() + R"(","firstName":"Lag"})");
  ASSERT_EQ(contact.status, 201) << contact.body;
  const std::string contact_id = Json(contact.body)["contact"]["id"].GetString();
  auto pipelines =
      Json(emu.Api("GET", "/opportunities/pipelines?locationId=" + emu.location_id()).body);
  const std::string pipeline = pipelines["pipelines"][0]["id"].GetString();
  auto created =
      emu.Api("POST", "/opportunities/",
              R"({"locationId":")" + emu.location_id() + R"(","pipelineId":")" + pipeline +
                  R"(","contactId":")" + contact_id + R"(","name":"Lagging","status":"open"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Json(created.body)["opportunity"]["id"].GetString();
  const std::string path = "/opportunities/search?location_id=" + emu.location_id();
  EXPECT_EQ(Json(emu.Api("GET", path).body)["meta"]["total"].GetInt(), 0) << "not indexed yet";
  EXPECT_EQ(emu.Api("GET", "/opportunities/" + id).status, 200) << "but GET sees it at once";
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(Json(emu.Api("GET", path).body)["meta"]["total"].GetInt(), 1);
}

}  // namespace
}  // namespace ghl
