// ghl-emulator --config: a strict YAML file, with flags overriding it.
#include <gtest/gtest.h>

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
