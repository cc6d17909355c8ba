// ghl-emulator: custom field definitions of a location (Version 2021-07-28), driven over
// real HTTP, and their use in contact writes.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using testing::EmulatorProcess;
using testing::Json;

using testing::Has;
using testing::Messages;

class EmulatorCustomFields : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    emu_ = new EmulatorProcess({"--search-lag-ms", "0", "--no-rate-limit"});
    if (!emu_->ok()) return;
    auto other = Json(emu_->Admin("POST", "/locations", R"({"name":"x"})").body);
    other_token_ = new std::string(other["location"]["token"].GetString());
  }
  static void TearDownTestSuite() {
    delete emu_;
    delete other_token_;
  }
  void SetUp() override { ASSERT_TRUE(emu_->ok()) << emu_->startup_error(); }

  static std::string Base() { return "/locations/" + emu_->location_id() + "/customFields"; }
  // Creates a field and returns the customField object's JSON text.
  static std::string CreateField(const std::string& body) {
    auto r = emu_->Api("POST", Base(), body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.body;
  }
  static std::set<std::string> Keys(const std::string& query) {
    auto r = emu_->Api("GET", Base() + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> keys;
    auto d = Json(r.body);
    if (!d.IsObject() || !d.HasMember("customFields")) return keys;
    for (const auto& f : d["customFields"].GetArray()) keys.insert(f["fieldKey"].GetString());
    return keys;
  }

  static EmulatorProcess* emu_;
  static std::string* other_token_;
};
EmulatorProcess* EmulatorCustomFields::emu_ = nullptr;
std::string* EmulatorCustomFields::other_token_ = nullptr;

TEST_F(EmulatorCustomFields, ListsByModelWithContactTheDefault) {
  const auto contact = Keys("");
  EXPECT_TRUE(contact.count("contact.pincode"));
  EXPECT_TRUE(contact.count("contact.membership_level"));
  EXPECT_FALSE(contact.count("opportunity.contract_months"));
  EXPECT_EQ(Keys("?model=contact"), contact);
  const auto opportunity = Keys("?model=opportunity");
  EXPECT_TRUE(opportunity.count("opportunity.contract_months"));
  EXPECT_FALSE(opportunity.count("contact.pincode"));
  EXPECT_EQ(Keys("?model=all").size(), contact.size() + opportunity.size());

  auto bad = emu_->Api("GET", Base() + "?model=deal");
  EXPECT_EQ(bad.status, 422);
  EXPECT_TRUE(Has(Messages(bad.body),
                  "model must be one of the following values: contact, opportunity, all"))
      << bad.body;
  // As GHL answers the SDK that sends locationId in the query.
  auto extra = emu_->Api("GET", Base() + "?locationId=" + emu_->location_id());
  EXPECT_EQ(extra.status, 422);
  EXPECT_TRUE(Has(Messages(extra.body), "property locationId should not exist")) << extra.body;

  auto list = Json(emu_->Api("GET", Base()).body);
  const auto& f = list["customFields"][0];
  for (const char* k : {"id", "name", "fieldKey", "placeholder", "dataType", "position",
                        "picklistOptions", "picklistImageOptions", "isAllowedCustomOption",
                        "isMultiFileAllowed", "maxFileLimit", "locationId", "model"}) {
    EXPECT_TRUE(f.HasMember(k)) << k;
  }
}

TEST_F(EmulatorCustomFields, CreateDerivesTheKeyAndGetFindsByIdOrKey) {
  auto d = Json(CreateField(
      R"({"name":"Favourite Colour","dataType":"SINGLE_OPTIONS","options":["Red","Blue"],)"
      R"("placeholder":"Pick one","position":7})"));
  ASSERT_TRUE(d.HasMember("customField"));
  const auto& f = d["customField"];
  const std::string id = f["id"].GetString();
  EXPECT_STREQ(f["name"].GetString(), "Favourite Colour");
  EXPECT_STREQ(f["fieldKey"].GetString(), "contact.favourite_colour");
  EXPECT_STREQ(f["model"].GetString(), "contact") << "the default model";
  EXPECT_STREQ(f["dataType"].GetString(), "SINGLE_OPTIONS");
  EXPECT_STREQ(f["placeholder"].GetString(), "Pick one");
  EXPECT_EQ(f["position"].GetInt(), 7);
  ASSERT_EQ(f["picklistOptions"].Size(), 2u);
  EXPECT_STREQ(f["picklistOptions"][1].GetString(), "Blue");
  EXPECT_STREQ(f["locationId"].GetString(), emu_->location_id().c_str());

  auto by_id = emu_->Api("GET", Base() + "/" + id);
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(Json(by_id.body)["customField"]["id"].GetString(), id);
  auto by_key = emu_->Api("GET", Base() + "/contact.favourite_colour");
  ASSERT_EQ(by_key.status, 200) << by_key.body;
  EXPECT_EQ(Json(by_key.body)["customField"]["id"].GetString(), id);
  EXPECT_EQ(emu_->Api("GET", Base() + "/nope").status, 400);

  auto dup = emu_->Api("POST", Base(), R"({"name":"favourite colour","dataType":"TEXT"})");
  EXPECT_EQ(dup.status, 400) << "same key: " << dup.body;
  auto opp =
      Json(CreateField(R"({"name":"Favourite Colour","dataType":"TEXT","model":"opportunity"})"));
  EXPECT_STREQ(opp["customField"]["fieldKey"].GetString(), "opportunity.favourite_colour");
  EXPECT_TRUE(Keys("?model=opportunity").count("opportunity.favourite_colour"));
  EXPECT_FALSE(Keys("").count("opportunity.favourite_colour"));
}

TEST_F(EmulatorCustomFields, CreateAndUpdateValidateLikeGhl) {
  auto empty = emu_->Api("POST", Base(), "{}");
  ASSERT_EQ(empty.status, 422) << empty.body;
  EXPECT_TRUE(Has(Messages(empty.body), "name should not be empty"));
  EXPECT_TRUE(Has(Messages(empty.body), "dataType should not be empty"));

  auto bad =
      emu_->Api("POST", Base(),
                R"({"name":"X","dataType":"BLOB","model":"deal","position":"1","colour":"red"})");
  ASSERT_EQ(bad.status, 422) << bad.body;
  const auto m = Messages(bad.body);
  EXPECT_TRUE(Has(m, "model must be one of the following values: contact, opportunity"));
  EXPECT_TRUE(Has(m, "property colour should not exist"));
  EXPECT_TRUE(Has(m, "position must be a number conforming to the specified constraints"));
  EXPECT_EQ(std::count_if(m.begin(), m.end(),
                          [](const std::string& s) { return s.rfind("dataType must be", 0) == 0; }),
            1);

  auto f = Json(CreateField(R"({"name":"Referral Code","dataType":"TEXT"})"));
  const std::string id = f["customField"]["id"].GetString();
  auto no_name = emu_->Api("PUT", Base() + "/" + id, R"({"placeholder":"x"})");
  EXPECT_EQ(no_name.status, 422) << "UpdateCustomFieldsDTO requires name";
  auto retype = emu_->Api("PUT", Base() + "/" + id, R"({"name":"R","dataType":"LARGE_TEXT"})");
  EXPECT_EQ(retype.status, 422);
  EXPECT_TRUE(Has(Messages(retype.body), "property dataType should not exist")) << retype.body;
}

TEST_F(EmulatorCustomFields, UpdateKeepsTheKeyAndDeleteRemovesTheField) {
  auto f = Json(CreateField(R"({"name":"Source Campaign","dataType":"TEXT"})"));
  const std::string id = f["customField"]["id"].GetString();
  auto put = emu_->Api("PUT", Base() + "/" + id, R"({"name":"Campaign","placeholder":"utm"})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto u = Json(put.body);
  EXPECT_STREQ(u["customField"]["name"].GetString(), "Campaign");
  EXPECT_STREQ(u["customField"]["placeholder"].GetString(), "utm");
  EXPECT_STREQ(u["customField"]["fieldKey"].GetString(), "contact.source_campaign")
      << "renaming keeps the key";
  EXPECT_EQ(emu_->Api("PUT", Base() + "/" + id, R"({"name":"C","model":"opportunity"})").status,
            400)
      << "not an opportunity field";

  auto del = emu_->Api("DELETE", Base() + "/" + id);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, R"({"succeded":true})");
  EXPECT_EQ(emu_->Api("GET", Base() + "/" + id).status, 400);
  EXPECT_EQ(emu_->Api("DELETE", Base() + "/" + id).status, 400);
  EXPECT_FALSE(Keys("?model=all").count("contact.source_campaign"));
}

TEST_F(EmulatorCustomFields, AnApiFieldIsWrittenOnContactsByKeyAndReadBackById) {
  auto f = Json(CreateField(R"({"name":"Shoe Size","dataType":"NUMERICAL"})"));
  const std::string id = f["customField"]["id"].GetString();
  const std::string loc = emu_->location_id();
  auto c = emu_->Api(
      "POST", "/contacts/",
      R"({"locationId":")" + loc +
          R"(","firstName":"Shoe","customFields":[{"key":"shoe_size","field_value":42}]})");
  ASSERT_EQ(c.status, 201) << c.body;
  auto contact = Json(c.body);
  const std::string contact_id = contact["contact"]["id"].GetString();
  const auto& values = contact["contact"]["customFields"];
  ASSERT_EQ(values.Size(), 1u) << c.body;
  EXPECT_EQ(values[0]["id"].GetString(), id);
  EXPECT_EQ(values[0]["value"].GetInt(), 42);
  EXPECT_FALSE(values[0].HasMember("key"));
  // The prefixed key works too.
  auto put = emu_->Api("PUT", "/contacts/" + contact_id,
                       R"({"customFields":[{"key":"contact.shoe_size","field_value":43}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put.body)["contact"]["customFields"][0]["value"].GetInt(), 43);
  const std::string updated = Json(put.body)["contact"]["dateUpdated"].GetString();

  // Deleting the definition drops its values, without touching dateUpdated.
  ASSERT_EQ(emu_->Api("DELETE", Base() + "/" + id).status, 200);
  auto after = Json(emu_->Api("GET", "/contacts/" + contact_id).body);
  EXPECT_EQ(after["contact"]["customFields"].Size(), 0u);
  EXPECT_EQ(after["contact"]["dateUpdated"].GetString(), updated);
  auto gone = emu_->Api(
      "POST", "/contacts/",
      R"({"locationId":")" + loc + R"(","customFields":[{"key":"shoe_size","field_value":1}]})");
  EXPECT_EQ(gone.status, 422) << "the key is no longer known: " << gone.body;
}

TEST_F(EmulatorCustomFields, AnotherLocationsTokenAndTheWrongVersionAreRefused) {
  auto f = Json(CreateField(R"({"name":"Private","dataType":"TEXT"})"));
  const std::string id = f["customField"]["id"].GetString();
  const std::string& t = *other_token_;
  EXPECT_EQ(emu_->Api("GET", Base(), "", "2021-07-28", t).status, 403);
  EXPECT_EQ(emu_->Api("POST", Base(), R"({"name":"Y","dataType":"TEXT"})", "2021-07-28", t).status,
            403);
  EXPECT_EQ(emu_->Api("GET", Base() + "/" + id, "", "2021-07-28", t).status, 403);
  EXPECT_EQ(emu_->Api("PUT", Base() + "/" + id, R"({"name":"Z"})", "2021-07-28", t).status, 403);
  EXPECT_EQ(emu_->Api("DELETE", Base() + "/" + id, "", "2021-07-28", t).status, 403);
  EXPECT_EQ(emu_->Api("GET", "/locations/unknown/customFields").status, 400);
  EXPECT_EQ(emu_->Api("GET", Base(), "", "2021-04-15").status, 400);
  EXPECT_EQ(emu_->Api("GET", Base() + "/" + id).status, 200) << "still there";
}

}  // namespace
}  // namespace ghl
