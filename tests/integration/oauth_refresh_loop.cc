// oauth_refresh_loop: refreshes one resource's OAuth tokens over and over, as fast as GHL
// answers with a short random pause between refreshes, for the kill test in
// oauth_test.cc. It prints "refreshed N" after each refresh and exits 3 when one fails.
//
//   OAUTH_CLIENT_SECRET=... oauth_refresh_loop STATE_DB BASE_URL CLIENT_ID RESOURCE
//
// SPDLOG_LEVEL=debug logs each step of each refresh with its time.
#include <spdlog/cfg/env.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "connectors/ghl/oauth.h"
#include "state/sqlite_state_store.h"

namespace {

using namespace ghl;

struct Loop {
  std::shared_ptr<ghl_client::OAuthTokenSource> source;
  boost::asio::steady_timer pause;
  std::mt19937 rng{std::random_device{}()};
  int count = 0;

  void Next() {
    source->Refresh([this](bool ok) {
      if (!ok) {
        std::printf("refresh failed\n");
        std::fflush(stdout);
        std::exit(3);
      }
      std::printf("refreshed %d\n", ++count);
      std::fflush(stdout);
      pause.expires_after(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 10'000)(rng)));
      pause.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) Next();
      });
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  spdlog::cfg::load_env_levels();                           // SPDLOG_LEVEL=debug shows each refresh
  const char* secret = std::getenv("OAUTH_CLIENT_SECRET");  // NOLINT(concurrency-mt-unsafe)
  if (argc != 5 || secret == nullptr) {
    std::fprintf(stderr, "usage: OAUTH_CLIENT_SECRET=... %s STATE_DB BASE_URL CLIENT_ID RESOURCE\n",
                 argv[0]);
    return 2;
  }
  auto store = state::OpenSqlite({.path = argv[1]});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  boost::asio::io_context io;
  ghl_client::CurlMulti curl(io, {});
  SystemClock clock;
  ghl_client::OAuthOptions options;
  options.client_id = argv[3];
  options.client_secret = Secret(secret);
  options.token_url = std::string(argv[2]) + "/oauth/token";
  options.location_token_url = std::string(argv[2]) + "/oauth/locationToken";
  auto sessions = ghl_client::OAuthSessions::Create(io, curl, (*store)->db(), clock, options);
  Loop loop{sessions->Source(argv[4]), boost::asio::steady_timer(io)};
  loop.Next();
  io.run();
  return 0;
}
