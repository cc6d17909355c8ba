// The CSV connector in the conformance suite: a fresh directory with contacts.csv holding
// just the header. External edits rewrite the file in place, as an editor would.
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/conformance/fixture.h"
#include "tests/support/temp_dir.h"

namespace ghl::conformance {
namespace {

class CsvFixture final : public ConnectorFixture {
 public:
  std::unique_ptr<connectors::Connector> Make() override {
    dir_.Write("data/contacts.csv", "id,name,email,notes\n");
    Settle();
    return MakeConnector();
  }

  void ExternalEdit(const std::string& key, const std::string& column,
                    const std::string& value) override {
    // Read the rows through a second connector, then write the whole file with an
    // independent writer that quotes every field.
    Settle();
    auto reader = MakeConnector();
    auto page = reader->Scan("", 0);
    ASSERT_TRUE(page.ok()) << page.error().message;
    const std::vector<std::string> columns = {"id", "name", "email", "notes"};
    std::string out = "id,name,email,notes\n";
    for (const auto& row : page->rows) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        std::string text;
        if (row.key == key && columns[i] == column) {
          text = value;
        } else if (const auto* s = std::get_if<std::string>(&row.fields.at(columns[i]))) {
          text = *s;
        }
        out += (i ? "," : "") + Quoted(text);
      }
      out += "\n";
    }
    std::ofstream(dir_ / "data/contacts.csv", std::ios::binary | std::ios::trunc) << out;
    // As if saved a while ago: the connector reads files that have settled.
    std::filesystem::last_write_time(
        dir_ / "data/contacts.csv",
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  }

  std::vector<BadConfig> BadConfigs() override {
    const std::string ok_options = "{type: csv, dir: data}";
    return {
        {"no dir", Spec("{type: csv}", "{connector: under_test, file: a.csv}"),
         "connectors.under_test: missing required key 'dir'"},
        {"unknown option", Spec("{type: csv, dir: data, dirr: x}", "{file: a.csv}"),
         "unknown key 'dirr'"},
        {"no file", Spec(ok_options, "{connector: under_test}"), "missing required key 'file'"},
        {"misspelt key", Spec(ok_options, "{file: a.csv, delimeter: ';'}"),
         "did you mean 'delimiter'"},
        {"long delimiter", Spec(ok_options, "{file: a.csv, delimiter: ';;'}"),
         "external.delimiter: must be one character"},
        {"quote delimiter", Spec(ok_options, "{file: a.csv, delimiter: '\"'}"),
         "must be one character"},
        {"file outside dir", Spec(ok_options, "{file: ../a.csv}"),
         "external.file: must be a path inside the connector's `dir`"},
        {"absolute file", Spec(ok_options, "{file: /etc/passwd}"), "inside the connector's `dir`"},
        {"encoding", Spec(ok_options, "{file: a.csv, encoding: latin-1}"), "is not one of"},
        {"create without columns", Spec(ok_options, "{file: a.csv, create: true}"),
         "`create: true` needs `columns`"},
        {"columns without key", Spec(ok_options, "{file: a.csv, create: true, columns: [name]}"),
         "external.columns: must include 'id'"},
    };
  }

 private:
  // As if saved a while ago: the connector reads a file only once it has settled.
  void Settle() const {
    std::filesystem::last_write_time(
        dir_ / "data/contacts.csv",
        std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  }

  static std::string Quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }

  connectors::ConnectorSpec Spec(const std::string& options, const std::string& resource) const {
    return SpecFromYaml("csv", options, resource, dir_.path());
  }

  std::unique_ptr<connectors::Connector> MakeConnector() const {
    config::Diagnostics errors;
    auto c = connectors::Create(
        Spec("{type: csv, dir: data}", "{connector: under_test, file: contacts.csv}"), errors);
    EXPECT_TRUE(errors.empty()) << config::Join(errors);
    return c;
  }

  testing::TempDir dir_;
};

std::unique_ptr<ConnectorFixture> MakeCsvFixture() { return std::make_unique<CsvFixture>(); }

}  // namespace

INSTANTIATE_TEST_SUITE_P(Csv, ConnectorConformance,
                         ::testing::Values(FixtureFactory{"csv", &MakeCsvFixture}), FixtureName);

}  // namespace ghl::conformance
