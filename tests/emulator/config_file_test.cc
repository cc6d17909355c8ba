// ghl-emulator --config: a strict YAML file, with flags overriding it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/emulator_process.h"

namespace ghl {
namespace {

using testing::EmulatorProcess;
using testing::Json;

const char* kConfig = R"(seed: 7
search_lag: 0s
rate_limit:
  burst: 5
  interval: 1s
  daily: 1000
webhooks:
  retry_schedule: [50ms, 50ms]
locations:
  - id: shop-eu
    name: Shop EU
    token: pit-eu-secret
    allow_duplicate_contact: true
  - id: shop-us
    token: pit-us-secret
    duplicate_priority: [phone, email]
)";

TEST(EmulatorConfigFile, LocationsLimitsAndSettingsComeFromTheFile) {
  testing::TempDir dir;
  const auto path = dir.Write("emulator.yaml", kConfig);
  EmulatorProcess emu({"--config", path.string(), "--webhook-retry-ms", "20,30"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  EXPECT_EQ(emu.location_id(), "shop-eu");
  EXPECT_EQ(emu.token(), "pit-eu-secret");
  auto us = emu.Api("GET", "/contacts/?locationId=shop-us", "", "2021-07-28", "pit-us-secret");
  EXPECT_EQ(us.status, 200) << us.body;
  EXPECT_EQ(us.Header("x-ratelimit-max"), "5");
  EXPECT_EQ(us.Header("x-ratelimit-interval-milliseconds"), "1000");
  EXPECT_EQ(us.Header("x-ratelimit-limit-daily"), "1000");

  auto info = Json(emu.Admin("GET", "/info").body);
  bool dup = false;
  for (const auto& l : info["locations"].GetArray()) {
    if (std::string(l["id"].GetString()) == "shop-eu") dup = l["allowDuplicateContact"].GetBool();
  }
  EXPECT_TRUE(dup);
  auto hooks = Json(emu.Admin("GET", "/webhooks/config").body);
  ASSERT_TRUE(hooks["retryScheduleMs"].IsArray()) << "flag given as 20,30";
  ASSERT_EQ(hooks["retryScheduleMs"].Size(), 2u);
  EXPECT_EQ(hooks["retryScheduleMs"][0].GetInt(), 20);
  EXPECT_EQ(hooks["retryScheduleMs"][1].GetInt(), 30);
}

TEST(EmulatorConfigFile, FlagsOverrideTheFile) {
  testing::TempDir dir;
  const auto path = dir.Write("emulator.yaml", kConfig);
  EmulatorProcess emu({"--config", path.string(), "--rate-burst", "7"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  EXPECT_EQ(emu.Api("GET", "/contacts/?locationId=shop-eu").Header("x-ratelimit-max"), "7");
}

TEST(EmulatorConfigFile, MistakesAreAllReportedWithTheirPlace) {
  testing::TempDir dir;
  const auto path = dir.Write("bad.yaml", R"(rate_limit:
  burst: lots
  intervall: 1s
locations:
  - id: a
)");
  auto [code, out] =
      testing::RunToEnd({std::string(GHL_BINARY_DIR) + "/ghl-emulator", "--config", path.string()},
                        {}, dir / "out.log");
  EXPECT_EQ(code, 2);
  const std::string f = path.string();
  EXPECT_NE(out.find(f + ":2:10: rate_limit.burst: expected a whole number, got 'lots'"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(f + ":3:3: rate_limit.intervall: unknown key 'intervall'; did you mean "
                         "'interval'?"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("locations[0]: missing required key 'token'"), std::string::npos) << out;
}

}  // namespace
}  // namespace ghl

namespace ghl {
namespace {

TEST(EmulatorConfigFile, TheShippedDemoConfigStartsAndMatchesTheDaemonDemo) {
  // EmulatorProcess adds --listen 127.0.0.1:0, which overrides the file's port.
  EmulatorProcess emu({"--config", std::string(GHL_SOURCE_DIR) + "/config/examples/emulator.yaml"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  EXPECT_EQ(emu.location_id(), "demo-location") << "config/examples/demo.yaml's default";
  EXPECT_EQ(emu.token(), "demo-private-integration-token");
}

TEST(EmulatorConfigFile, ReadmeCarriesTheGeneratedReference) {
  testing::TempDir dir;
  auto [code, reference] = testing::RunToEnd(
      {std::string(GHL_BINARY_DIR) + "/ghl-emulator", "--config-reference"}, {}, dir / "ref");
  ASSERT_EQ(code, 0);
  std::ifstream in(std::string(GHL_SOURCE_DIR) + "/README.md");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string readme = buf.str();
  const std::string begin =
      "<!-- BEGIN EMULATOR CONFIG REFERENCE (generated: ghl-emulator --config-reference) -->\n";
  const std::string end = "<!-- END EMULATOR CONFIG REFERENCE -->";
  const size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), reference)
      << "run scripts/update-readme-reference.sh";
}

}  // namespace
}  // namespace ghl
