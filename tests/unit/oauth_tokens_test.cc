// OAuthTokenStore on a real SQLite state file.
#include "state/oauth_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "state/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace ghl::state {
namespace {

constexpr const char* kAccess = "oat-SECRET-access-1f2e";
constexpr const char* kRefresh = "ort-SECRET-refresh-9c8b";

OAuthTokens Company() {
  OAuthTokens t;
  t.resource = "comp-1";
  t.user_type = OAuthUserType::kCompany;
  t.company_id = "comp-1";
  t.client_id = "app-1";
  t.access_token = Secret(kAccess);
  t.refresh_token = Secret(kRefresh);
  t.expires_at_ms = 1'700'000'086'399'000;
  t.scopes = "contacts.readonly oauth.write";
  return t;
}

class OAuthTokensTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStateStore> Open() {
    auto store = OpenSqlite({.path = dir_ / "state.db"});
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return std::move(store).value();
  }
  testing::TempDir dir_;
};

TEST_F(OAuthTokensTest, ARowSurvivesReopeningTheFileWithEveryField) {
  {
    auto store = Open();
    OAuthTokenStore tokens(store->db());
    EXPECT_FALSE(tokens.Load("comp-1").value().has_value());
    EXPECT_EQ(tokens.Put(Company(), 1'700'000'000'000).value(), 1);
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open();
  OAuthTokenStore tokens(store->db());
  auto row = tokens.Load("comp-1").value();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->resource, "comp-1");
  EXPECT_EQ(row->user_type, OAuthUserType::kCompany);
  EXPECT_EQ(row->company_id, "comp-1");
  EXPECT_EQ(row->client_id, "app-1");
  EXPECT_EQ(row->access_token.Reveal(), kAccess);
  EXPECT_EQ(row->refresh_token.Reveal(), kRefresh);
  EXPECT_EQ(row->expires_at_ms, 1'700'000'086'399'000);
  EXPECT_EQ(row->scopes, "contacts.readonly oauth.write");
  EXPECT_EQ(row->generation, 1);
  EXPECT_EQ(row->updated_at_ms, 1'700'000'000'000);
  EXPECT_FALSE(row->refresh_started_at_ms.has_value());
}

TEST_F(OAuthTokensTest, EveryPutReplacesThePairAndBumpsTheGeneration) {
  auto store = Open();
  OAuthTokenStore tokens(store->db());
  ASSERT_EQ(tokens.Put(Company(), 1).value(), 1);
  OAuthTokens rotated = Company();
  rotated.access_token = Secret("oat-2");
  rotated.refresh_token = Secret("ort-2");
  rotated.expires_at_ms = 99;
  EXPECT_EQ(tokens.Put(rotated, 2).value(), 2);
  EXPECT_EQ(tokens.Put(rotated, 3).value(), 3);
  auto row = tokens.Load("comp-1").value();
  EXPECT_EQ(row->refresh_token.Reveal(), "ort-2");
  EXPECT_EQ(row->access_token.Reveal(), "oat-2");
  EXPECT_EQ(row->expires_at_ms, 99);
  EXPECT_EQ(row->updated_at_ms, 3);
  EXPECT_EQ(row->generation, 3);
}

TEST_F(OAuthTokensTest, TheRefreshMarkIsDurableAndClearedByTheNewPairOrByHand) {
  {
    auto store = Open();
    OAuthTokenStore tokens(store->db());
    ASSERT_TRUE(tokens.Put(Company(), 1).ok());
    ASSERT_TRUE(tokens.MarkRefreshStarted("comp-1", 1234).ok());
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open();
  OAuthTokenStore tokens(store->db());
  auto row = tokens.Load("comp-1").value();
  ASSERT_TRUE(row->refresh_started_at_ms.has_value()) << "the mark survives a restart";
  EXPECT_EQ(*row->refresh_started_at_ms, 1234);
  EXPECT_EQ(row->generation, 1) << "marking is not a new pair";

  ASSERT_TRUE(tokens.Put(Company(), 2).ok());
  EXPECT_FALSE(tokens.Load("comp-1").value()->refresh_started_at_ms.has_value());

  ASSERT_TRUE(tokens.MarkRefreshStarted("comp-1", 5).ok());
  ASSERT_TRUE(tokens.ClearRefreshMark("comp-1").ok());
  EXPECT_FALSE(tokens.Load("comp-1").value()->refresh_started_at_ms.has_value());

  auto missing = tokens.MarkRefreshStarted("nobody", 5);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no OAuth tokens of nobody"), std::string::npos);
  EXPECT_NE(missing.error().message.find("ghl-syncd auth"), std::string::npos);
}

TEST_F(OAuthTokensTest, RemoveForgetsOneResourceAndLoadAllListsTheRestInOrder) {
  auto store = Open();
  OAuthTokenStore tokens(store->db());
  OAuthTokens loc = Company();
  loc.resource = "loc-b";
  loc.user_type = OAuthUserType::kLocation;
  ASSERT_TRUE(tokens.Put(loc, 1).ok());
  loc.resource = "loc-a";
  ASSERT_TRUE(tokens.Put(loc, 1).ok());
  ASSERT_TRUE(tokens.Put(Company(), 1).ok());

  auto all = tokens.LoadAll().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].resource, "comp-1");
  EXPECT_EQ(all[1].resource, "loc-a");
  EXPECT_EQ(all[2].resource, "loc-b");
  EXPECT_EQ(all[1].user_type, OAuthUserType::kLocation);

  EXPECT_TRUE(tokens.Remove("loc-a").value());
  EXPECT_FALSE(tokens.Remove("loc-a").value()) << "already gone";
  EXPECT_FALSE(tokens.Load("loc-a").value().has_value());
  EXPECT_EQ(tokens.LoadAll().value().size(), 2u);
  ASSERT_TRUE(tokens.Put(loc, 1).ok());
  EXPECT_EQ(tokens.Load("loc-a").value()->generation, 1) << "a new install starts over";
}

TEST_F(OAuthTokensTest, AnotherConnectionSeesTheNewGeneration) {
  auto first = Open();
  auto second = Open();
  OAuthTokenStore a(first->db()), b(second->db());
  ASSERT_TRUE(a.Put(Company(), 1).ok());
  EXPECT_EQ(b.Load("comp-1").value()->generation, 1);
  ASSERT_TRUE(b.Put(Company(), 2).ok());
  EXPECT_EQ(a.Load("comp-1").value()->generation, 2);
}

TEST_F(OAuthTokensTest, TheFileIsPrivateAndErrorsNeverQuoteATokenValue) {
  auto store = Open();
  OAuthTokenStore tokens(store->db());
  ASSERT_TRUE(tokens.Put(Company(), 1).ok());
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "state.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // A failing write names the statement, whose values are bound, not spelled out.
  ASSERT_TRUE(store->db()
                  .Exec("CREATE TRIGGER no_writes BEFORE UPDATE ON oauth_tokens "
                        "BEGIN SELECT RAISE(ABORT, 'read-only for the test'); END")
                  .ok());
  auto failed = tokens.Put(Company(), 2);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("read-only for the test"), std::string::npos)
      << failed.error().message;
  EXPECT_EQ(failed.error().message.find(kAccess), std::string::npos) << failed.error().message;
  EXPECT_EQ(failed.error().message.find(kRefresh), std::string::npos) << failed.error().message;
  EXPECT_EQ(tokens.Load("comp-1").value()->generation, 1) << "the failed write changed nothing";
}

TEST(OAuthUserTypeTest, SpelledAsGhlSpellsIt) {
  EXPECT_STREQ(ToString(OAuthUserType::kCompany), "Company");
  EXPECT_STREQ(ToString(OAuthUserType::kLocation), "Location");
  EXPECT_EQ(ParseOAuthUserType("Company"), OAuthUserType::kCompany);
  EXPECT_EQ(ParseOAuthUserType("Location"), OAuthUserType::kLocation);
  EXPECT_FALSE(ParseOAuthUserType("company").has_value());
  EXPECT_FALSE(ParseOAuthUserType("").has_value());
}

}  // namespace
}  // namespace ghl::state
