#include "daemon/work_tracker.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

namespace ghl::daemon {
namespace {

using namespace std::chrono_literals;

TEST(WorkTracker, DrainWaitsForInFlightWorkThenReportsDrained) {
  boost::asio::io_context io;
  WorkTracker work(io);
  auto token = work.Begin();
  ASSERT_TRUE(token);
  EXPECT_EQ(work.in_flight(), 1u);

  std::optional<std::pair<bool, size_t>> outcome;
  work.Drain(10s, [&](bool drained, size_t left) { outcome.emplace(drained, left); });
  EXPECT_FALSE(work.Begin()) << "no new work once draining";
  io.poll();
  EXPECT_FALSE(outcome) << "must wait while work is in flight";

  boost::asio::post(io, [&] { token.reset(); });
  io.run_for(1s);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->first);
  EXPECT_EQ(outcome->second, 0u);
}

TEST(WorkTracker, DrainGivesUpAfterTheTimeout) {
  boost::asio::io_context io;
  WorkTracker work(io);
  auto stuck = work.Begin();
  std::optional<std::pair<bool, size_t>> outcome;
  const auto t0 = std::chrono::steady_clock::now();
  work.Drain(50ms, [&](bool drained, size_t left) { outcome.emplace(drained, left); });
  io.run_for(5s);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->first);
  EXPECT_EQ(outcome->second, 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
}

TEST(WorkTracker, DrainWithNothingInFlightCompletesAtOnceAndOnlyOnce) {
  boost::asio::io_context io;
  WorkTracker work(io);
  int calls = 0;
  work.Drain(10s, [&](bool drained, size_t) { calls += drained ? 1 : 100; });
  io.run_for(1s);
  EXPECT_EQ(calls, 1);
}

TEST(WorkTracker, ObserverSeesTheCountAndTokensMayOutliveTheTracker) {
  boost::asio::io_context io;
  std::vector<size_t> seen;
  std::optional<WorkTracker::Token> survivor;
  {
    WorkTracker work(io);
    work.on_change = [&](size_t n) { seen.push_back(n); };
    auto a = work.Begin();
    survivor.emplace(std::move(*work.Begin()));
    a.reset();
  }
  survivor.reset();  // must not touch the destroyed tracker
  EXPECT_EQ(seen, (std::vector<size_t>{1, 2, 1}));
}

}  // namespace
}  // namespace ghl::daemon
