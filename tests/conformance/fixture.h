// The connector conformance suite's seam: every connector type supplies one
// ConnectorFixture, and every case in conformance_test.cc runs against it.
//
// Adding a connector to the suite is one new file, tests/conformance/<type>_fixture.cc,
// which defines its fixture and ends with the one line that enrols it:
//
//   INSTANTIATE_TEST_SUITE_P(Csv, ConnectorConformance,
//                            ::testing::Values(FixtureFactory{"csv", &MakeCsvFixture}),
//                            FixtureName);
//
// (tests/CMakeLists.txt builds every .cc in this folder into connector_conformance_test.)
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "connectors/registry.h"

namespace ghl::conformance {

// A configuration the connector must refuse, and a fragment of the message it must give.
struct BadConfig {
  std::string what;  // shown when the case fails
  connectors::ConnectorSpec spec;
  std::string expected;
};

class ConnectorFixture {
 public:
  virtual ~ConnectorFixture() = default;

  // A connector, made through connectors::Create, on a fresh and empty source whose key
  // column is "id" and whose other columns are the text columns "name", "email" and
  // "notes". Called once per case; the fixture removes the source when destroyed.
  virtual std::unique_ptr<connectors::Connector> Make() = 0;

  // Sets `column` of the existing row `key` to `value` behind the connector's back, as
  // another program would (an editor saving the CSV file, an UPDATE, a PATCH).
  virtual void ExternalEdit(const std::string& key, const std::string& column,
                            const std::string& value) = 0;

  // Configurations the connector must reject, each with the message fragment expected.
  virtual std::vector<BadConfig> BadConfigs() = 0;

  // Whether a scan from the start (cursor "") is `complete`: it reports every live row, so
  // that a key it did not see was deleted. True for full scans and for an incremental REST
  // scan from the start (the API is asked for everything); false for an SQL source with
  // `updated_at`, whose scans are never complete (a row whose updated_at is NULL is not
  // read, and a deleted row is simply absent).
  virtual bool ScanFromStartIsComplete() const { return true; }

  // Whether two keys that differ only in case are two rows. True where keys compare
  // exactly (CSV compares bytes; SQLite's default BINARY collation; PostgreSQL's text
  // equality; the test JSON API's ids). A fixture on a source that folds case (SQLite's
  // COLLATE NOCASE, a case-insensitive collation) returns false: the second spelling then
  // writes the first one's row, and there is one row.
  virtual bool CaseSensitiveKeys() const { return true; }
};

struct FixtureFactory {
  std::string name;
  std::unique_ptr<ConnectorFixture> (*make)();
};

inline void PrintTo(const FixtureFactory& f, std::ostream* os) { *os << f.name; }

// Names instantiated cases after the fixture ("csv").
inline std::string FixtureName(const ::testing::TestParamInfo<FixtureFactory>& info) {
  return info.param.name;
}

class ConnectorConformance : public ::testing::TestWithParam<FixtureFactory> {
 protected:
  void SetUp() override {
    fixture_ = GetParam().make();
    connector_ = fixture_->Make();
    ASSERT_NE(connector_, nullptr) << "the fixture's connector could not be created";
  }

  std::unique_ptr<ConnectorFixture> fixture_;
  std::unique_ptr<connectors::Connector> connector_;
};

// A spec from YAML texts, for fixtures' BadConfigs and Make: the options under
// connectors.under_test in <dir>/ghl-syncd.yaml, the resource as the `external:` block of
// <dir>/mappings/conformance.yaml, key column "id".
inline connectors::ConnectorSpec SpecFromYaml(const std::string& type,
                                              const std::string& options_yaml,
                                              const std::string& resource_yaml,
                                              const std::filesystem::path& dir) {
  connectors::ConnectorSpec spec;
  spec.name = "under_test";
  spec.type = type;
  spec.options = YAML::Load(options_yaml);
  spec.options_file = (dir / "ghl-syncd.yaml").string();
  spec.options_dir = dir;
  spec.options_path = "connectors.under_test";
  spec.resource = YAML::Load(resource_yaml);
  spec.resource_file = (dir / "mappings" / "conformance.yaml").string();
  spec.resource_dir = dir / "mappings";
  spec.resource_path = "external";
  spec.key_columns = {"id"};
  spec.env = [](const std::string&) { return std::optional<std::string>(); };
  spec.sync_name = "conformance";
  return spec;
}

}  // namespace ghl::conformance
