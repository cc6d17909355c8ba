// CurlMulti against a real ghl-emulator: concurrency on one event loop, keep-alive
// reuse, timeouts, resets and refused connections.
#include "connectors/ghl/curl_multi.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "tests/support/emulator_process.h"

namespace ghl::ghl_client {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorProcess;

HttpRequest Get(const EmulatorProcess& emu, const std::string& path) {
  return {"GET",
          emu.base_url() + path,
          {"Authorization: Bearer " + emu.token(), "Version: 2021-07-28"},
          "",
          5000ms};
}

TEST(CurlMulti, ManyConcurrentRequestsOnOneThreadReuseConnections) {
  EmulatorProcess emu({"--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  emu.SkipWindowCheck();  // the transport below the limiter, on purpose over the burst
  boost::asio::io_context io;
  CurlMulti curl(io, {.max_connections_per_host = 8, .max_connections = 8});
  int done = 0, ok = 0;
  const std::string path = "/contacts/?locationId=" + emu.location_id();
  for (int i = 0; i < 200; ++i) {
    curl.Start(Get(emu, path), [&](HttpResponse r) {
      ++done;
      if (r.status == 200 && r.body.find("\"contacts\"") != std::string::npos &&
          !r.Header("x-ratelimit-max").empty()) {
        ++ok;
      }
    });
  }
  EXPECT_EQ(curl.in_flight(), 200u);
  io.run_for(30s);
  EXPECT_EQ(done, 200);
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(curl.in_flight(), 0u);
  // Kept alive: 200 requests over a handful of connections (curl may replace a few
  // while it juggles the queue, so not exactly 8).
  EXPECT_LE(curl.connections_opened(), 20);
}

TEST(CurlMulti, PostBodiesAndStatusCodesArrive) {
  EmulatorProcess emu({"--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  boost::asio::io_context io;
  CurlMulti curl(io, {});
  HttpResponse created, bad;
  HttpRequest req = Get(emu, "/contacts/");
  req.method = "POST";
  req.headers.push_back("Content-Type: application/json");
  req.body = R"({"locationId":")" + emu.location_id() + R"(","firstName":"Curl"})";
  curl.Start(req, [&](HttpResponse r) { created = std::move(r); });
  req.body = "{not json";
  curl.Start(req, [&](HttpResponse r) { bad = std::move(r); });
  io.run_for(10s);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find("\"firstName\":\"Curl\""), std::string::npos);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.curl_code, CURLE_OK);
}

TEST(CurlMulti, TimeoutsResetsAndRefusalsAreReportedNotThrown) {
  EmulatorProcess emu({"--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  boost::asio::io_context io;
  CurlMulti curl(io, {});
  const std::string path = "/contacts/?locationId=" + emu.location_id();

  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"timeoutRate":1,"timeoutMs":5000})").status, 200);
  HttpResponse timed_out;
  auto req = Get(emu, path);
  req.timeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  curl.Start(req, [&](HttpResponse r) { timed_out = std::move(r); });
  io.run_for(5s);
  io.restart();
  EXPECT_EQ(timed_out.curl_code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(timed_out.status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"resetRate":1})").status, 200);
  HttpResponse reset;
  curl.Start(Get(emu, path), [&](HttpResponse r) { reset = std::move(r); });
  io.run_for(5s);
  io.restart();
  EXPECT_NE(reset.curl_code, CURLE_OK);
  EXPECT_FALSE(reset.error.empty());

  HttpResponse refused;
  HttpRequest nowhere{"GET", "http://127.0.0.1:1/contacts/", {}, "", 2000ms};
  curl.Start(nowhere, [&](HttpResponse r) { refused = std::move(r); });
  io.run_for(5s);
  EXPECT_EQ(refused.curl_code, CURLE_COULDNT_CONNECT);
}

TEST(CurlMulti, DestroyingWithTransfersInFlightIsSafe) {
  EmulatorProcess emu({"--no-rate-limit"});
  ASSERT_TRUE(emu.ok()) << emu.startup_error();
  ASSERT_EQ(emu.Admin("PUT", "/faults", R"({"latencyMs":2000})").status, 200);
  boost::asio::io_context io;
  int called = 0;
  {
    CurlMulti curl(io, {});
    for (int i = 0; i < 5; ++i) {
      curl.Start(Get(emu, "/contacts/?locationId=" + emu.location_id()),
                 [&](HttpResponse) { ++called; });
    }
    io.run_for(200ms);
  }
  io.run_for(100ms);
  EXPECT_EQ(called, 0);
}

}  // namespace
}  // namespace ghl::ghl_client
