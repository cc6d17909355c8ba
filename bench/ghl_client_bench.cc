// ghl_client_bench: drives GhlClient as hard as its rate limiter allows against a
// ghl-emulator with GHL's limits on, and reports what the server saw.
//
//   ghl_client_bench --url http://127.0.0.1:PORT --locations N --seconds S
//
// It creates N locations through the emulator's admin API (each with its own budget),
// keeps every location's real-time lane full for S seconds, then prints one Markdown
// table row: locations, seconds, requests answered, requests/s, utilisation of the
// limit, 429s, the most requests any location had in one server window, CPU seconds per
// 1,000 requests and peak RSS.
#include <curl/curl.h>
#include <rapidjson/document.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "connectors/ghl/client.h"

namespace {

std::string Fetch(const std::string& method, const std::string& url, const std::string& body) {
  std::string out;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* o) {
        static_cast<std::string*>(o)->append(d, s * n);
        return s * n;
      });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_perform(c);
  curl_easy_cleanup(c);
  return out;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"GhlClient benchmark against ghl-emulator"};
  std::string url;
  int locations = 1, seconds = 60, burst = 100, interval_ms = 10'000;
  cli.add_option("--url", url, "ghl-emulator base URL")->required();
  cli.add_option("--locations", locations, "Locations to create and drive");
  cli.add_option("--seconds", seconds, "Duration");
  cli.add_option("--burst", burst, "The emulator's burst limit");
  cli.add_option("--interval-ms", interval_ms, "The emulator's window");
  CLI11_PARSE(cli, argc, argv);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<std::pair<std::string, std::string>> locs;  // id, token
  for (int i = 0; i < locations; ++i) {
    rapidjson::Document d;
    d.Parse(Fetch("POST", url + "/_emulator/locations", R"({"name":"bench"})").c_str());
    if (!d.IsObject() || !d.HasMember("location")) {
      std::fprintf(stderr, "cannot create a location on %s\n", url.c_str());
      return 1;
    }
    locs.emplace_back(d["location"]["id"].GetString(), d["location"]["token"].GetString());
  }
  Fetch("DELETE", url + "/_emulator/requests", "");

  boost::asio::io_context io;
  // One connection per request in flight: a transfer that waits inside curl for a free
  // connection leaves later than the limiter recorded, and bunched sends can exceed the
  // server's window (measured: 32 429s at 500 locations with a 256-connection cap).
  constexpr int kInFlightPerLocation = 2;
  const long connections = static_cast<long>(locations) * kInFlightPerLocation + 8;
  ghl::ghl_client::CurlMulti curl(
      io, {.max_connections_per_host = connections, .max_connections = connections});
  ghl::SystemClock clock;
  ghl::ghl_client::ClientOptions options;
  options.base_url = url;
  options.limits.burst = burst;
  options.limits.interval = std::chrono::milliseconds(interval_ms);
  options.max_in_flight_per_location = kInFlightPerLocation;
  options.max_in_flight_total = static_cast<int>(connections);
  ghl::ghl_client::GhlClient client(io, curl, clock, options);
  for (const auto& [id, token] : locs) {
    client.AddLocation(id, std::make_shared<ghl::ghl_client::StaticToken>(token));
  }

  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::seconds(seconds);
  const double cpu0 = CpuSeconds();
  int64_t answered = 0, ok = 0;
  std::function<void(const std::string&)> keep_busy = [&](const std::string& id) {
    client.Call(id, ghl::ghl_client::Lane::kRealtime,
                {"contacts.list", "GET", "/contacts/?locationId=" + id + "&limit=1"},
                [&, id](ghl::ghl_client::ApiResult r) {
                  ++answered;
                  ok += r.outcome == ghl::ghl_client::Outcome::kOk;
                  if (std::chrono::steady_clock::now() < end) keep_busy(id);
                });
  };
  for (const auto& [id, token] : locs) {
    for (int i = 0; i < 4; ++i) keep_busy(id);
  }
  io.run_until(end);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;

  rapidjson::Document log, window;
  log.Parse(Fetch("GET", url + "/_emulator/requests", "").c_str());
  window.Parse(Fetch("GET",
                     url + "/_emulator/requests/max-window?windowMs=" + std::to_string(interval_ms),
                     "")
                   .c_str());
  int64_t served = 0, refused = 0;
  for (const auto& e : log["requests"].GetArray()) {
    served += e["status"].GetInt() == 200;
    refused += e["status"].GetInt() == 429;
  }
  const double limit_rate = static_cast<double>(locations) * burst * 1000.0 / interval_ms;
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("| %d | %.0f | %lld | %.1f | %.1f%% | %lld | %d / %d | %.3f | %.1f |\n", locations,
              elapsed, static_cast<long long>(served), static_cast<double>(served) / elapsed,
              100.0 * static_cast<double>(served) / elapsed / limit_rate,
              static_cast<long long>(refused), window["max"].GetInt(), burst,
              answered > 0 ? cpu * 1000.0 / static_cast<double>(answered) : 0.0,
              static_cast<double>(u.ru_maxrss) / 1024.0);
  (void)ok;
  return 0;
}
