#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace ghl::config {
namespace {

using ghl::testing::TempDir;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const char* kMinimal = R"(ghl:
  locations:
    - id: loc1
      token: t0ken
mappings_dir: maps
)";

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { std::filesystem::create_directories(dir_ / "maps"); }

  LoadResult LoadText(const std::string& text, std::map<std::string, std::string> env = {}) {
    const auto path = dir_.Write("ghl-syncd.yaml", text);
    return Load(path, FakeEnv(std::move(env)));
  }

  static std::string Messages(const LoadResult& r) { return Join(r.errors); }

  TempDir dir_;
};

TEST_F(ConfigTest, MinimalConfigGetsDocumentedDefaults) {
  auto r = LoadText(kMinimal);
  ASSERT_TRUE(r.config) << Messages(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.ghl.base_url, "https://services.leadconnectorhq.com");
  EXPECT_EQ(c.ghl.request_timeout, std::chrono::seconds(30));
  ASSERT_EQ(c.ghl.locations.size(), 1u);
  EXPECT_EQ(c.ghl.locations[0].id, "loc1");
  EXPECT_EQ(c.ghl.locations[0].name, "loc1") << "name defaults to the id";
  EXPECT_EQ(c.ghl.locations[0].token.Reveal(), "t0ken");
  EXPECT_EQ(c.http.listen.ToString(), "127.0.0.1:9464");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.daemon.drain_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.mappings_dir, dir_.path() / "maps") << "relative paths resolve from the file";
}

TEST_F(ConfigTest, ThreeMistakesAreAllReportedWithFileLineColumnAndPath) {
  auto r = LoadText(R"(ghl:
  locations:
    - id: loc1
      token: ${MISSING_TOKEN}
state:
  busy_timeout: soon
htpp:
  listen: 127.0.0.1:1
mappings_dir: maps
)");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 3u) << Messages(r);
  const std::string file = (dir_ / "ghl-syncd.yaml").string();
  EXPECT_EQ(r.errors[0].ToString(),
            file +
                ":4:14: ghl.locations[0].token: environment variable MISSING_TOKEN is not set; "
                "export it or use ${MISSING_TOKEN:-default}");
  EXPECT_EQ(r.errors[1].ToString(),
            file +
                ":6:17: state.busy_timeout: expected a duration such as 250ms, 30s, 5m, 1h or "
                "1m30s, got 'soon'");
  EXPECT_EQ(r.errors[2].ToString(), file + ":7:1: htpp: unknown key 'htpp'; did you mean 'http'?");
}

TEST_F(ConfigTest, InvalidYamlNamesLineAndColumn) {
  auto r = LoadText("ghl:\n  locations: [a, b\nstate: {}\n");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_GT(r.errors[0].line, 1);
  EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos) << Messages(r);
}

TEST_F(ConfigTest, MissingFileIsOneClearError) {
  auto r = Load(dir_ / "nope.yaml", FakeEnv({}));
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            (dir_ / "nope.yaml").string() + ": cannot read file: No such file or directory");
}

TEST_F(ConfigTest, EmptyFileAndNonMappingTopLevelAreErrors) {
  EXPECT_NE(Messages(LoadText("")).find("file is empty"), std::string::npos);
  EXPECT_NE(Messages(LoadText("- a\n- b\n")).find("expected a mapping of sections"),
            std::string::npos);
}

TEST_F(ConfigTest, TypesAndRangesAreChecked) {
  auto r = LoadText(R"(ghl:
  base_url: ftp://example.com
  request_timeout: 1ms
  locations:
    - id: loc1
      token: t
http:
  listen: localhost
logging:
  level: verbose
  format: jornal
daemon:
  drain_timeout: [1, 2]
mappings_dir: maps
)");
  ASSERT_FALSE(r.config);
  const std::string all = Messages(r);
  EXPECT_EQ(r.errors.size(), 6u) << all;
  EXPECT_NE(all.find(":2:13: ghl.base_url: expected an http:// or https:// URL"), std::string::npos)
      << all;
  EXPECT_NE(all.find("ghl.request_timeout: 1ms is out of range; allowed 100ms..10m"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("http.listen: expected host:port"), std::string::npos) << all;
  EXPECT_NE(all.find("logging.level: 'verbose' is not one of: trace debug info warn error"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("logging.format: 'jornal' is not one of: auto text journal; did you mean "
                     "'journal'?"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("daemon.drain_timeout: expected a single value, got a list"),
            std::string::npos)
      << all;
}

TEST_F(ConfigTest, RequiredKeysAndDuplicatesAreReported) {
  auto r = LoadText(R"(ghl:
  locations:
    - name: no-id
      token: t
    - id: a
      token: t
    - id: a
      token: u
mappings_dir: maps
mappings_dir: maps
)");
  ASSERT_FALSE(r.config);
  const std::string all = Messages(r);
  EXPECT_NE(all.find(":3:7: ghl.locations[0]: missing required key 'id'"), std::string::npos)
      << all;
  EXPECT_NE(all.find("ghl.locations[2].id: location 'a' is listed twice"), std::string::npos)
      << all;
  EXPECT_NE(all.find(":10:1: mappings_dir: key 'mappings_dir' appears more than once"),
            std::string::npos)
      << all;
}

TEST_F(ConfigTest, MissingGhlSectionSaysWhatIsRequired) {
  auto r = LoadText("mappings_dir: maps\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(Messages(r).find("missing required key 'ghl'"), std::string::npos) << Messages(r);
}

TEST_F(ConfigTest, EnvironmentInterpolation) {
  auto r = LoadText(R"(ghl:
  base_url: http://${HOST}:${PORT:-8080}/
  locations:
    - id: ${LOC}
      name: cost $$5
      token: ${TOKEN}
mappings_dir: maps
)",
                    {{"HOST", "127.0.0.1"}, {"LOC", "L9"}, {"TOKEN", "from-env"}});
  ASSERT_TRUE(r.config) << Messages(r);
  EXPECT_EQ(r.config->ghl.base_url, "http://127.0.0.1:8080") << "trailing slash dropped";
  EXPECT_EQ(r.config->ghl.locations[0].id, "L9");
  EXPECT_EQ(r.config->ghl.locations[0].name, "cost $5");
  EXPECT_EQ(r.config->ghl.locations[0].token.Reveal(), "from-env");
}

TEST_F(ConfigTest, SecretFromFileForSystemdCredentials) {
  const auto secret = dir_.Write("creds/ghl-token", "pit-from-file\n");
  auto r = LoadText(R"(ghl:
  locations:
    - id: loc1
      token_file: ${CREDENTIALS_DIRECTORY}/ghl-token
mappings_dir: maps
)",
                    {{"CREDENTIALS_DIRECTORY", secret.parent_path().string()}});
  ASSERT_TRUE(r.config) << Messages(r);
  EXPECT_EQ(r.config->ghl.locations[0].token.Reveal(), "pit-from-file");
}

TEST_F(ConfigTest, SecretFileProblemsAreClear) {
  auto r = LoadText(R"(ghl:
  locations:
    - id: loc1
      token: inline-secret-value
      token_file: x
    - id: loc2
      token_file: does-not-exist
mappings_dir: maps
)");
  ASSERT_FALSE(r.config);
  const std::string all = Messages(r);
  EXPECT_NE(all.find("give either 'token' or 'token_file', not both"), std::string::npos) << all;
  EXPECT_NE(all.find("cannot read secret file " + (dir_ / "does-not-exist").string() +
                     ": No such file or directory"),
            std::string::npos)
      << all;
}

TEST_F(ConfigTest, ErrorsNeverQuoteASecret) {
  auto r = LoadText(R"(ghl:
  locations:
    - id: loc1
      token: [super-secret-value]
      tokn: other
mappings_dir: maps
)");
  ASSERT_FALSE(r.config);
  const std::string all = Messages(r);
  EXPECT_NE(all.find("ghl.locations[0].token: expected a single value"), std::string::npos) << all;
  EXPECT_NE(all.find("did you mean 'token'?"), std::string::npos) << all;
  EXPECT_EQ(all.find("super-secret-value"), std::string::npos) << all;
}

TEST_F(ConfigTest, SecretIsRedactedWhenFormatted) {
  EXPECT_EQ(fmt::format("{}", Secret("abc")), "<redacted>");
  EXPECT_EQ(fmt::format("{}", Secret()), "<empty>");
}

TEST_F(ConfigTest, ConnectorTypesAreCheckedAndOptionsKeptForTheConnector) {
  auto r = LoadText(std::string(kMinimal) + R"(connectors:
  crm:
    type: csvv
  api: {}
)");
  ASSERT_FALSE(r.config);
  const std::string all = Messages(r);
  EXPECT_NE(all.find("connectors.crm.type: 'csvv' is not one of: csv sqlite postgresql rest; did "
                     "you mean 'csv'?"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("connectors.api: missing required key 'type'"), std::string::npos) << all;

  auto ok = LoadText(std::string(kMinimal) + R"(connectors:
  erp:
    type: postgresql
    dsn: host=127.0.0.1
)");
  ASSERT_TRUE(ok.config) << Messages(ok);
  const auto& erp = ok.config->connectors.at("erp");
  EXPECT_EQ(erp.type, "postgresql");
  EXPECT_EQ(erp.node["dsn"].as<std::string>(), "host=127.0.0.1");
  EXPECT_FALSE(erp.file.empty());
}

TEST_F(ConfigTest, MappingFilesAreLoadedSortedAndSyntaxChecked) {
  dir_.Write("maps/b-orders.yml", "object: opportunities\n");
  dir_.Write("maps/a-contacts.yaml", "object: contacts\n");
  dir_.Write("maps/notes.txt", "not a mapping\n");
  auto ok = LoadText(kMinimal);
  ASSERT_TRUE(ok.config) << Messages(ok);
  ASSERT_EQ(ok.config->mappings.size(), 2u);
  EXPECT_EQ(ok.config->mappings[0].name, "a-contacts");
  EXPECT_EQ(ok.config->mappings[1].name, "b-orders");
  EXPECT_EQ(ok.config->mappings[0].root["object"].as<std::string>(), "contacts");

  dir_.Write("maps/c-broken.yaml", "object: contacts\nfields:\n  - a: [1,\n");
  auto bad = LoadText(kMinimal);
  ASSERT_FALSE(bad.config);
  ASSERT_EQ(bad.errors.size(), 1u) << Messages(bad);
  EXPECT_EQ(bad.errors[0].file, (dir_ / "maps/c-broken.yaml").string());
  EXPECT_GT(bad.errors[0].line, 2);
}

TEST_F(ConfigTest, ConfigAndMappingErrorsAreReportedTogether) {
  dir_.Write("maps/broken.yaml", "{");
  auto r = LoadText(std::string(kMinimal) + "logging: {level: loud}\n");
  ASSERT_FALSE(r.config);
  EXPECT_EQ(r.errors.size(), 2u) << Messages(r);
}

TEST_F(ConfigTest, MissingMappingsDirectoryIsAnError) {
  auto r = LoadText(R"(ghl:
  locations: [{id: a, token: t}]
mappings_dir: nowhere
)");
  ASSERT_FALSE(r.config);
  EXPECT_NE(
      Messages(r).find("mappings directory " + (dir_ / "nowhere").string() + " does not exist"),
      std::string::npos)
      << Messages(r);
}

TEST(ConfigExamples, ShippedExamplesLoad) {
  TempDir creds;
  creds.Write("ghl-token", "pit-example\n");
  auto prod = Load(std::filesystem::path(GHL_SOURCE_DIR) / "config/examples/ghl-syncd.yaml",
                   FakeEnv({{"GHL_LOCATION_ID", "abc"},
                            {"CREDENTIALS_DIRECTORY", creds.path().string()},
                            {"STATE_DIRECTORY", "/var/lib/ghl-syncd"}}));
  ASSERT_TRUE(prod.config) << Join(prod.errors);
  EXPECT_EQ(prod.config->state.path, "/var/lib/ghl-syncd/state.db");
  EXPECT_EQ(prod.config->ghl.locations[0].token.Reveal(), "pit-example");

  auto demo =
      Load(std::filesystem::path(GHL_SOURCE_DIR) / "config/examples/demo.yaml", FakeEnv({}));
  ASSERT_TRUE(demo.config) << Join(demo.errors);
  EXPECT_EQ(demo.config->state.path, std::filesystem::path(GHL_SOURCE_DIR) / "var/demo/state.db");
}

TEST(ConfigReference, CoversEveryKeyWithItsDefault) {
  const std::string ref = ReferenceMarkdown();
  for (const char* row :
       {"| `ghl.base_url` | URL | `https://services.leadconnectorhq.com` |",
        "| `ghl.locations[].token` / `ghl.locations[].token_file` | secret |",
        "| `state.busy_timeout` | duration 0s..10m | `5s` |",
        "| `http.listen` | host:port | `127.0.0.1:9464` |",
        "| `daemon.drain_timeout` | duration 0s..10m | `30s` |", "| `connectors.<name>.type` |",
        "| `mappings_dir` | path | `mappings` |"}) {
    EXPECT_NE(ref.find(row), std::string::npos) << row << "\n" << ref;
  }
}

TEST(ConfigReference, ReadmeCarriesTheGeneratedReference) {
  std::ifstream in(std::filesystem::path(GHL_SOURCE_DIR) / "README.md");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string readme = buf.str();
  const std::string begin = "<!-- BEGIN CONFIG REFERENCE (generated: ghl-syncd reference) -->\n";
  const std::string end = "<!-- END CONFIG REFERENCE -->";
  const size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos) << "README lacks the reference markers";
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), ReferenceMarkdown())
      << "README's configuration reference is stale: run scripts/update-readme-reference.sh";
}

}  // namespace
}  // namespace ghl::config
