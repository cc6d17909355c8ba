// The README's connector and mapping references are the generated ones (as the config
// reference is, in config_test): a change to a schema table must reach the manual.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/registry.h"
#include "mapping/mapping.h"

namespace ghl {
namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string Block(const std::string& name) {
  std::ifstream in(std::filesystem::path(GHL_SOURCE_DIR) / "README.md");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string readme = buf.str();
  const std::string begin = "<!-- BEGIN " + name + " (generated: ghl-syncd reference ";
  const size_t b = readme.find(begin);
  if (b == std::string::npos) return "(missing)";
  const size_t body = readme.find("-->\n", b) + 4;
  const size_t e = readme.find("<!-- END " + name + " -->");
  if (e == std::string::npos) return "(missing end)";
  return Trimmed(readme.substr(body, e - body));
}

TEST(Reference, ReadmeCarriesTheGeneratedConnectorReference) {
  EXPECT_EQ(Block("CONNECTOR REFERENCE"), Trimmed(connectors::ReferenceMarkdown()))
      << "run scripts/update-readme-reference.sh";
}

TEST(Reference, ReadmeCarriesTheGeneratedMappingReference) {
  EXPECT_EQ(Block("MAPPING REFERENCE"), Trimmed(mapping::ReferenceMarkdown()))
      << "run scripts/update-readme-reference.sh";
}

}  // namespace
}  // namespace ghl
