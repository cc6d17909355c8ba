// EmulatorProcess: a real ghl-emulator on a free loopback port, for tests.
//
//   EmulatorProcess emu({"--search-lag-ms", "0"});
//   auto r = emu.Api("POST", "/contacts/", R"({"locationId":"...","firstName":"Ada"})");
//   auto doc = Json(r.body);
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl::testing {

inline rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

// The messages of a 422 answer (`message` as an array of strings); empty otherwise.
inline std::vector<std::string> Messages(const std::string& body) {
  std::vector<std::string> out;
  auto d = Json(body);
  if (d.IsObject() && d.HasMember("message") && d["message"].IsArray()) {
    for (const auto& m : d["message"].GetArray()) {
      if (m.IsString()) out.emplace_back(m.GetString());
    }
  }
  return out;
}

inline bool Has(const std::vector<std::string>& list, const std::string& want) {
  return std::find(list.begin(), list.end(), want) != list.end();
}

class EmulatorProcess {
 public:
  explicit EmulatorProcess(std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {std::string(GHL_BINARY_DIR) + "/ghl-emulator", "--listen",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{},
                                         dir_ / "emulator.log");
    if (!process_->WaitForLog("admin API:", std::chrono::seconds(20))) {
      startup_error_ = "emulator did not start:\n" + process_->Log();
      return;
    }
    const std::string log = process_->Log();
    std::smatch m;
    if (std::regex_search(log, m, std::regex(R"(listening on (http://[0-9.]+:[0-9]+))"))) {
      base_url_ = m[1];
    }
    if (std::regex_search(log, m, std::regex(R"(\nlocation (\S+) \(company (\S+)\))"))) {
      location_id_ = m[1];
      company_id_ = m[2];
    }
    if (std::regex_search(log, m, std::regex(R"(token \(PIT\): (\S+))"))) token_ = m[1];
  }

  // Every test that used this emulator proves the client kept GHL's limit: the most
  // requests admitted in any window must not pass the burst the emulator announced (with
  // `--no-rate-limit` it admits everything, so only the client kept it). Tests that
  // overload the emulator on purpose turn this off.
  ~EmulatorProcess() {
    // Not when the test stopped the emulator itself.
    if (!ok() || !check_windows_ || process_->Wait(std::chrono::milliseconds(0))) return;
    auto config = Json(Admin("GET", "/config").body);
    auto window = Json(Admin("GET", "/requests/max-window").body);
    if (!config.IsObject() || !window.IsObject() || !config.HasMember("rateLimit")) {
      ADD_FAILURE() << "cannot read the emulator's limit or request log";
      return;
    }
    const int64_t burst = config["rateLimit"]["burst"].GetInt64();
    EXPECT_LE(window["max"].GetInt64(), burst)
        << "a " << config["rateLimit"]["intervalMs"].GetInt64()
        << " ms window held more requests than the announced burst";
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;
  void SkipWindowCheck() { check_windows_ = false; }

  bool ok() const { return startup_error_.empty() && !base_url_.empty() && !token_.empty(); }
  const std::string& startup_error() const { return startup_error_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& location_id() const { return location_id_; }
  const std::string& company_id() const { return company_id_; }
  const std::string& token() const { return token_; }
  Process& process() { return *process_; }
  std::string Log() const { return process_->Log(); }

  // An API call with the default PIT and the given Version (empty: none).
  HttpReply Api(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& version = "2021-07-28", const std::string& token = "") {
    std::vector<std::string> headers = {"Authorization: Bearer " +
                                        (token.empty() ? token_ : token)};
    if (!version.empty()) headers.push_back("Version: " + version);
    return HttpCall(method, base_url_ + path, body, headers);
  }
  // An admin API call (/_emulator/...).
  HttpReply Admin(const std::string& method, const std::string& path,
                  const std::string& body = "") {
    return HttpCall(method, base_url_ + "/_emulator" + path, body);
  }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  std::string startup_error_, base_url_, location_id_, company_id_, token_;
  bool check_windows_ = true;
};

}  // namespace ghl::testing
