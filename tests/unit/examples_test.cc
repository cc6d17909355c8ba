// The shipped examples are what `ghl-syncd check` accepts: configuration, connectors and
// every mapping file, compiled exactly as the daemon does at start.
#include <gtest/gtest.h>

#include "config/config.h"
#include "sync/engine.h"
#include "tests/support/temp_dir.h"

namespace ghl {
namespace {

config::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Examples, ProductionExampleAndItsMappingsCompile) {
  testing::TempDir creds;
  creds.Write("ghl-token", "pit-example\n");
  creds.Write("erp-dsn", "host=127.0.0.1 dbname=crm user=ghl password=secret\n");
  creds.Write("billing-token", "tok-example\n");
  const auto env = Env({{"GHL_LOCATION_ID", "abc"},
                        {"CREDENTIALS_DIRECTORY", creds.path().string()},
                        {"STATE_DIRECTORY", "/var/lib/ghl-syncd"}});
  auto loaded =
      config::Load(std::filesystem::path(GHL_SOURCE_DIR) / "config/examples/ghl-syncd.yaml", env);
  ASSERT_TRUE(loaded.config) << config::Join(loaded.errors);
  config::Diagnostics errors;
  auto syncs = sync::BuildSyncs(*loaded.config, errors, env);
  EXPECT_TRUE(errors.empty()) << config::Join(errors);
  std::vector<std::string> names;
  for (const auto& s : syncs) names.push_back(s.mapping->spec().name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"appointments-csv", "contacts-csv", "contacts-postgres",
                                      "contacts-rest", "opportunities-sqlite"}));
  for (const auto& s : syncs) {
    EXPECT_EQ(s.connector->Describe().find("secret"), std::string::npos) << s.connector->Describe();
  }
}

TEST(Examples, DemoConfigurationCompiles) {
  auto loaded =
      config::Load(std::filesystem::path(GHL_SOURCE_DIR) / "config/examples/demo.yaml", Env({}));
  ASSERT_TRUE(loaded.config) << config::Join(loaded.errors);
  config::Diagnostics errors;
  auto syncs = sync::BuildSyncs(*loaded.config, errors, Env({}));
  EXPECT_TRUE(errors.empty()) << config::Join(errors);
  ASSERT_EQ(syncs.size(), 1u);
  EXPECT_EQ(syncs[0].mapping->spec().name, "contacts");
}

TEST(Examples, MappingErrorsNameTheConnectorAndLocation) {
  testing::TempDir dir;
  dir.Write("ghl-syncd.yaml", R"(ghl:
  locations: [{id: loc-1, token: t}]
connectors:
  crm: {type: csv, dir: .}
mappings_dir: maps
)");
  dir.Write("maps/a.yaml", R"(object: contacts
locations: [loc-9]
external: {connector: crn, file: a.csv}
key: id
fields: [{ghl: email, external: email}]
)");
  auto loaded = config::Load(dir / "ghl-syncd.yaml", Env({}));
  ASSERT_TRUE(loaded.config) << config::Join(loaded.errors);
  config::Diagnostics errors;
  auto syncs = sync::BuildSyncs(*loaded.config, errors, Env({}));
  EXPECT_TRUE(syncs.empty());
  const std::string all = config::Join(errors);
  EXPECT_NE(all.find("a.yaml:3:11: external.connector: connector 'crn' is not defined under "
                     "connectors:"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("did you mean 'crm'?"), std::string::npos) << all;
  EXPECT_NE(all.find("a.yaml:2:12: locations: location 'loc-9' is not configured under "
                     "ghl.locations"),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace ghl
