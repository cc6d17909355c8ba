// Progress: the outbox's pace over the last minute and the time left at that pace.
#include "sync/progress.h"

#include <gtest/gtest.h>

namespace ghl::sync {
namespace {

TEST(ProgressTest, NoPaceUntilTwoSamplesSpanASecond) {
  Progress p;
  EXPECT_FALSE(p.Rate());
  p.Add(10'000, 0);
  EXPECT_FALSE(p.Rate());
  p.Add(10'500, 50);
  EXPECT_FALSE(p.Rate()) << "half a second says little";
  EXPECT_FALSE(p.EtaSeconds(100));
  EXPECT_EQ(p.EtaSeconds(0), 0.0) << "nothing waiting: done now";
}

TEST(ProgressTest, RateIsWritesPerSecondOverTheWindowAndEtaFollowsIt) {
  Progress p(60'000);
  for (int s = 0; s <= 10; ++s) p.Add(s * 1000, s * 40);  // 40 per second
  ASSERT_TRUE(p.Rate());
  EXPECT_DOUBLE_EQ(*p.Rate(), 40.0);
  ASSERT_TRUE(p.EtaSeconds(1200));
  EXPECT_DOUBLE_EQ(*p.EtaSeconds(1200), 30.0);
}

TEST(ProgressTest, OldSamplesLeaveTheWindowSoThePaceFollowsAChange) {
  Progress p(10'000);
  for (int s = 0; s <= 20; ++s) p.Add(s * 1000, s * 100);                // 100/s for 20 s
  for (int s = 21; s <= 40; ++s) p.Add(s * 1000, 2000 + (s - 20) * 10);  // then 10/s
  ASSERT_TRUE(p.Rate());
  EXPECT_NEAR(*p.Rate(), 10.0, 0.01) << "only the last 10 s count";
}

TEST(ProgressTest, NothingCompletingGivesNoEta) {
  Progress p;
  p.Add(0, 5);
  p.Add(5'000, 5);
  ASSERT_TRUE(p.Rate());
  EXPECT_EQ(*p.Rate(), 0.0);
  EXPECT_FALSE(p.EtaSeconds(10));
}

TEST(ProgressTest, DurationsReadAsAPersonWouldSayThem) {
  EXPECT_EQ(Duration(42), "42s");
  EXPECT_EQ(Duration(185), "3m05s");
  EXPECT_EQ(Duration(3720), "1h02m");
}

}  // namespace
}  // namespace ghl::sync
