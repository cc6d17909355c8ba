// The shipped unit: verified by systemd-analyze where it exists, and checked for the
// settings the daemon's lifecycle relies on.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl {
namespace {

std::string UnitText() {
  std::ifstream in(std::string(GHL_SOURCE_DIR) + "/systemd/ghl-syncd.service");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

TEST(SystemdUnit, HasTheSettingsTheDaemonReliesOn) {
  const std::string unit = UnitText();
  for (const char* line : {"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID",
                           "Restart=on-failure", "RestartPreventExitStatus=78", "WatchdogSec=",
                           "StateDirectory=ghl-syncd", "ConfigurationDirectory=ghl-syncd",
                           "DynamicUser=yes", "LoadCredential=ghl-token:/etc/ghl-syncd/ghl-token",
                           "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                           "PrivateTmp=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                           "SystemCallFilter=@system-service", "UMask=0077"}) {
    EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << "missing: " << line;
  }
  // The stop timeout must exceed the example's drain timeout (30s), or systemd kills a
  // drain half-way.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(unit, m, std::regex(R"(\nTimeoutStopSec=(\d+)s)")));
  EXPECT_GT(std::stoi(m[1].str()), 30);
}

TEST(SystemdUnit, SystemdAnalyzeVerifyIsClean) {
  if (system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "systemd-analyze not installed";
  }
  testing::TempDir dir;
  std::string unit = UnitText();
  // verify checks that ExecStart= binaries exist: point them at the one we built.
  const std::string binary = std::string(GHL_BINARY_DIR) + "/ghl-syncd";
  unit = std::regex_replace(unit, std::regex("/usr/bin/ghl-syncd"), binary);
  const auto path = dir.Write("ghl-syncd.service", unit);
  auto [code, out] = testing::RunToEnd(
      {"/usr/bin/systemd-analyze", "verify", "--man=no", path.string()}, {}, dir / "verify.log");
  EXPECT_EQ(code, 0) << out;
  // verify exits 0 on many complaints; any line naming the unit file is one.
  EXPECT_EQ(out.find(path.string()), std::string::npos) << out;
  EXPECT_EQ(out.find("ghl-syncd.service:"), std::string::npos) << out;
}

}  // namespace
}  // namespace ghl
