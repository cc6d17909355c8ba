#include "state/rate_budget.h"

#include <gtest/gtest.h>

#include "state/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace ghl::state {
namespace {

class RateBudgetTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStateStore> Open() {
    auto store = OpenSqlite({.path = dir_ / "state.db"});
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return std::move(store).value();
  }
  testing::TempDir dir_;
};

TEST_F(RateBudgetTest, SurvivesReopeningTheFile) {
  {
    auto store = Open();
    RateBudgetStore budgets(store->db());
    EXPECT_FALSE(budgets.Load("pit/location/A").value().has_value());
    ASSERT_TRUE(budgets.Save("pit/location/A", {20'000, 1234}, "2024-10-04T10:00:00Z").ok());
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = Open();
  RateBudgetStore budgets(store->db());
  auto loaded = budgets.Load("pit/location/A").value();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->day, 20'000);
  EXPECT_EQ(loaded->used, 1234);
}

TEST_F(RateBudgetTest, SameDayNeverGoesDownANewDayStartsOverAnOldDayIsIgnored) {
  auto store = Open();
  RateBudgetStore budgets(store->db());
  ASSERT_TRUE(budgets.Save("r", {100, 50}, "t1").ok());
  ASSERT_TRUE(budgets.Save("r", {100, 40}, "t2").ok());
  EXPECT_EQ(budgets.Load("r").value()->used, 50) << "a stale writer does not lower it";
  ASSERT_TRUE(budgets.Save("r", {101, 3}, "t3").ok());
  EXPECT_EQ(budgets.Load("r").value()->day, 101);
  EXPECT_EQ(budgets.Load("r").value()->used, 3);
  ASSERT_TRUE(budgets.Save("r", {100, 99}, "t4").ok());
  EXPECT_EQ(budgets.Load("r").value()->day, 101) << "yesterday's count does not come back";
  EXPECT_EQ(budgets.Load("r").value()->used, 3);
}

}  // namespace
}  // namespace ghl::state
