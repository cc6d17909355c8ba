// The OAuth parts of the configuration: ghl.oauth and a location's `auth:`.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/support/temp_dir.h"

namespace ghl::config {
namespace {

class OAuthConfigTest : public ::testing::Test {
 protected:
  OAuthConfigTest() { std::filesystem::create_directories(dir_ / "maps"); }

  LoadResult LoadText(const std::string& ghl) {
    const auto path = dir_.Write("ghl-syncd.yaml", "ghl:\n" + ghl + "mappings_dir: maps\n");
    return Load(path, [](const std::string&) -> std::optional<std::string> { return "env"; });
  }
  static std::string Messages(const LoadResult& r) { return Join(r.errors); }

  testing::TempDir dir_;
};

TEST_F(OAuthConfigTest, AnOAuthLocationNeedsNoTokenAndTheAppGetsDocumentedDefaults) {
  dir_.Write("secret", "s3cret\n");
  auto r = LoadText(R"(  oauth:
    client_id: app-1
    client_secret_file: secret
  locations:
    - id: loc1
      auth: oauth
    - id: loc2
      token: pit
)");
  ASSERT_TRUE(r.config) << Messages(r);
  const auto& g = r.config->ghl;
  EXPECT_EQ(g.locations[0].auth, "oauth");
  EXPECT_TRUE(g.locations[0].token.empty());
  EXPECT_EQ(g.locations[1].auth, "token") << "Private Integration Tokens stay the default";
  EXPECT_EQ(g.oauth.client_id, "app-1");
  EXPECT_EQ(g.oauth.client_secret.Reveal(), "s3cret");
  EXPECT_EQ(g.oauth.redirect_uri, "http://127.0.0.1:8765/oauth/callback");
  EXPECT_EQ(g.oauth.refresh_margin, std::chrono::minutes(10));
  EXPECT_EQ(g.oauth.authorize_url, "https://marketplace.gohighlevel.com/v2/oauth/chooselocation");
  EXPECT_EQ(g.oauth.token_url, "");
  EXPECT_NE(std::find(g.oauth.scopes.begin(), g.oauth.scopes.end(), "oauth.write"),
            g.oauth.scopes.end());
}

TEST_F(OAuthConfigTest, EachMistakeIsNamedWithItsPlace) {
  struct Case {
    std::string ghl, want;
  };
  const std::vector<Case> cases = {
      {"  locations:\n    - id: a\n      auth: oauth\n",
       ":4:13: ghl.locations[0].auth: 'auth: oauth' needs the app's credentials: set "
       "ghl.oauth.client_id and ghl.oauth.client_secret"},
      {"  locations:\n    - id: a\n",
       "ghl.locations[0]: missing required key 'token' (or 'token_file'), or set 'auth: oauth'"},
      {"  oauth: {client_id: x, client_secret: y}\n  locations:\n    - id: a\n      auth: oauth\n"
       "      token: t\n",
       "ghl.locations[0]: a token is not used with 'auth: oauth'; remove it or set 'auth: token'"},
      {"  oauth: {client_id: x}\n  locations: [{id: a, auth: oauth}]\n",
       "ghl.oauth: missing required key 'client_secret' (or 'client_secret_file')"},
      {"  oauth: {client_id: x, client_secret: y, redirect_uri: 'localhost:80/cb'}\n"
       "  locations: [{id: a, token: t}]\n",
       "ghl.oauth.redirect_uri: expected an http:// or https:// URL, got 'localhost:80/cb'"},
      {"  locations: [{id: a, auth: oath}]\n", "did you mean 'oauth'?"},
  };
  for (const auto& c : cases) {
    auto r = LoadText(c.ghl);
    EXPECT_FALSE(r.config) << c.ghl;
    EXPECT_NE(Messages(r).find(c.want), std::string::npos) << c.ghl << "\n" << Messages(r);
  }
}

TEST_F(OAuthConfigTest, TheReferenceDocumentsTheOAuthKeys) {
  const std::string ref = ReferenceMarkdown();
  for (const char* key : {"`ghl.oauth.client_id`",
                          "`ghl.oauth.client_secret` / "
                          "`ghl.oauth.client_secret_file`",
                          "`ghl.oauth.refresh_margin`", "`ghl.locations[].auth`"}) {
    EXPECT_NE(ref.find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace ghl::config
