// OAuthEmulator: the ghl-emulator an OAuth test suite shares: its seeded location, a second
// location of the same company (for agency installs), and new Marketplace apps on demand.
// OAuthSuite: a fixture with one emulator per suite and a fresh app per test, so that tests
// do not see each other's installs.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/support/emulator_process.h"

namespace ghl::testing {

struct OAuthApp {
  std::string id, secret;
};

class OAuthEmulator {
 public:
  OAuthEmulator() {
    if (!emu_.ok()) return;
    auto r = emu_.Admin("POST", "/locations",
                        R"({"name":"Branch 2","companyId":")" + emu_.company_id() + "\"}");
    sibling_ = Json(r.body)["location"]["id"].GetString();
  }

  EmulatorProcess& emu() { return emu_; }
  const std::string& sibling() const { return sibling_; }

  // Registers a new app (client id and secret).
  OAuthApp Register() {
    auto r = emu_.Admin("POST", "/oauth/clients", "{}");
    EXPECT_EQ(r.status, 201) << r.body;
    auto d = Json(r.body);
    if (!d.IsObject() || !d.HasMember("clientId")) return {};
    return {d["clientId"].GetString(), d["clientSecret"].GetString()};
  }

 private:
  EmulatorProcess emu_{{"--search-lag-ms", "0", "--no-rate-limit"}};
  std::string sibling_;
};

class OAuthSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new OAuthEmulator;
    emu_ = &world_->emu();
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
    emu_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(emu_->ok()) << emu_->startup_error();
    sibling_ = world_->sibling();
    app_ = world_->Register();
  }

  static inline OAuthEmulator* world_ = nullptr;
  static inline EmulatorProcess* emu_ = nullptr;
  std::string sibling_;  // a second location of the seeded company
  OAuthApp app_;
};

}  // namespace ghl::testing
