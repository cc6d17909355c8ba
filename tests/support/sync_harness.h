// SyncHarness: a real two-way sync as a user runs it: ghl-emulator (signing and delivering
// webhooks), ghl-syncd with a CSV connector (or another one, UseExternal) and a contacts
// mapping, all on loopback, in a temp dir. Helpers read both sides so tests can compare
// them field by field.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/registry.h"
#include "tests/support/emulator_process.h"
#include "tests/support/free_port.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl::testing {

using namespace std::chrono_literals;

// One row of the CSV file (column -> text).
using CsvRow = std::map<std::string, std::string>;
// One GHL contact as the tests look at it (field -> text; tags joined by ";").
using GhlContact = std::map<std::string, std::string>;

class SyncHarness {
 public:
  static constexpr const char* kToken = "pit-sync-test-token";
  static constexpr const char* kLocation = "loc-sync";

  // `emulator_args`: e.g. {"--search-lag-ms", "500"}. The emulator announces the limits the
  // daemon's config has (5000 per window; `--no-rate-limit` alone still announces GHL's 100
  // per 10 s, which the daemon would obey): sync tests are about sync, the limiter has its
  // own tests and benchmarks.
  explicit SyncHarness(std::vector<std::string> emulator_args = {"--no-rate-limit"})
      : emu_(WithLimits(std::move(emulator_args))) {
    if (!emu_.ok()) {
      ADD_FAILURE() << emu_.startup_error();
      return;
    }
    auto r = emu_.Admin(
        "POST", "/locations",
        std::string(R"({"id":")") + kLocation + R"(","token":")" + kToken + R"(","seed":true})");
    if (r.status != 201) ADD_FAILURE() << r.body;
    auto info = Json(emu_.Admin("GET", "/info").body);
    if (info.IsObject() && info.HasMember("webhookPublicKeys")) {
      const auto& keys = info["webhookPublicKeys"];
      dir_.Write("keys/ed25519.pem", keys["ed25519"].GetString());
      dir_.Write("keys/rsa.pem", keys["rsa"].GetString());
    } else {
      ADD_FAILURE() << "emulator info has no webhook keys";
    }
    webhook_port_ = FreePort();
    std::filesystem::create_directories(dir_ / "mappings");
    SetWebhookUrl(true);
  }

  EmulatorProcess& emu() { return emu_; }
  const TempDir& dir() const { return dir_; }
  std::filesystem::path csv_path() const { return dir_ / "data/contacts.csv"; }
  std::filesystem::path state_path() const { return dir_ / "state/state.db"; }

  void SetWebhookUrl(bool on) {
    const std::string urls =
        on ? R"(["http://127.0.0.1:)" + std::to_string(webhook_port_) + R"(/webhooks/ghl"])" : "[]";
    auto r = emu_.Admin("PUT", "/webhooks/config", R"({"urls":)" + urls + "}");
    if (r.status != 200) ADD_FAILURE() << r.body;
  }
  // Emulator faults ({"webhookDelayMs": 2000, "webhookReorder": true, ...}).
  void Faults(const std::string& json) {
    auto r = emu_.Admin("PUT", "/faults", json);
    if (r.status != 200) ADD_FAILURE() << "faults: " << r.status << " " << r.body;
  }

  // The external side of the sync WriteConfig writes: `connectors` is the body of the
  // `connectors:` section of ghl-syncd.yaml and `external` the body of the mapping's
  // `external:` block, both indented by two spaces. The default is the CSV connector `crm`
  // on data/contacts.csv (what csv_path() and Csv() read).
  // More keys for the `webhooks:` section (each line indented by two spaces).
  void SetWebhooksExtra(std::string lines) { webhooks_extra_ = std::move(lines); }
  std::string webhook_url() const {
    return "http://127.0.0.1:" + std::to_string(webhook_port_) + "/webhooks/ghl";
  }

  void UseExternal(std::string connectors, std::string external) {
    connectors_ = std::move(connectors);
    external_ = std::move(external);
  }

  // ghl-syncd.yaml and mappings/contacts.yaml. `mapping_extra` is appended to the mapping.
  void WriteConfig(const std::string& mapping_extra = "", const std::string& fields = "") {
    dir_.Write("ghl-syncd.yaml", "ghl:\n  base_url: " + emu_.base_url() + R"(
  # The emulator runs without limits here; the limiter has its own tests.
  rate_limit: {burst: 5000, daily: 10000000}
  locations:
    - id: )" + kLocation + R"(
      token: )" + kToken + R"(
state:
  path: state/state.db
http:
  listen: 127.0.0.1:0
webhooks:
  enabled: true
  listen: 127.0.0.1:)" + std::to_string(webhook_port_) +
                                     R"(
  builtin_keys: false
  public_key_files: [keys/ed25519.pem, keys/rsa.pem]
)" + webhooks_extra_ + R"(logging:
  level: debug
  format: text
daemon:
  drain_timeout: 5s
connectors:
)" + connectors_ + R"(mappings_dir: mappings
)");
    std::filesystem::create_directories(dir_ / "data");
    dir_.Write("mappings/contacts.yaml", "object: contacts\nexternal:\n" + external_ + R"(key: id
match: [email]
conflict: newest
poll_interval: 1s
)" + mapping_extra + "fields:\n" + (fields.empty() ? kDefaultFields : fields));
  }

  static constexpr const char* kDefaultFields = R"(  - {ghl: firstName, external: first_name}
  - {ghl: lastName, external: last_name}
  - {ghl: email, external: email, transforms: [trim, lower]}
  - {ghl: tags, external: tags, transforms: [{split: ";"}]}
)";

  void WriteCsv(const std::string& text) {
    std::filesystem::create_directories(dir_ / "data");
    // Atomic, as an editor or export job that writes a new file and renames it.
    const auto tmp = dir_ / "data/.contacts.csv.tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, csv_path());
  }

  static std::vector<std::string> WithLimits(std::vector<std::string> args) {
    args.insert(args.end(), {"--rate-burst", "5000", "--rate-daily", "10000000"});
    return args;
  }

  std::unique_ptr<Process> StartDaemon() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{std::string(GHL_BINARY_DIR) + "/ghl-syncd", "run", "--config",
                                 (dir_ / "ghl-syncd.yaml").string()},
        std::map<std::string, std::string>{},
        dir_ / ("daemon-" + std::to_string(++starts_) + ".log"));
    if (!p->WaitForLog("ready:", 30s)) ADD_FAILURE() << "daemon not ready:\n" << p->Log();
    return p;
  }
  std::string MetricsUrl(Process& p) const {
    std::smatch m;
    const std::string log = p.Log();
    if (!std::regex_search(log, m, std::regex("http listener on ([0-9.]+):([0-9]+)"))) return "";
    return "http://" + m[1].str() + ":" + m[2].str() + "/metrics";
  }
  static double Metric(const std::string& metrics, const std::string& series) {
    std::istringstream in(metrics);
    std::string line;
    double sum = 0;
    bool found = false;
    while (std::getline(in, line)) {
      if (line.rfind(series, 0) == 0 &&
          (line.size() > series.size() &&
           (line[series.size()] == ' ' || line[series.size()] == '{'))) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
        found = true;
      }
    }
    return found ? sum : 0;
  }

  // ghl-syncd <args...> --config ..., to the end.
  std::pair<int, std::string> Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {std::string(GHL_BINARY_DIR) + "/ghl-syncd"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--config");
    argv.push_back((dir_ / "ghl-syncd.yaml").string());
    return RunToEnd(argv, {}, dir_ / ("cli-" + std::to_string(++clis_) + ".log"));
  }

  // ---- reading both sides ----

  // Rows by key, read through the CSV connector itself (conformance tests cover it).
  std::map<std::string, CsvRow> Csv(const std::string& file = "contacts.csv") {
    std::map<std::string, CsvRow> out;
    connectors::ConnectorSpec spec;
    spec.name = "crm";
    spec.type = "csv";
    spec.options = YAML::Load("{type: csv, dir: " + (dir_ / "data").string() + "}");
    spec.options_file = "test";
    spec.options_path = "connectors.crm";
    // settle 0: the daemon replaces the file atomically, so no read sees half a file.
    spec.resource = YAML::Load("{connector: crm, file: " + file + ", settle: 0s}");
    spec.resource_file = "test";
    spec.resource_path = "external";
    spec.key_columns = {"id"};
    config::Diagnostics errors;
    auto c = connectors::Create(spec, errors);
    if (!c) {
      ADD_FAILURE() << config::Join(errors);
      return out;
    }
    auto page = c->Scan("", 1'000'000);
    if (!page.ok()) {
      ADD_FAILURE() << "reading the CSV: " << page.error().message;
      return out;
    }
    for (auto& row : page->rows) {
      CsvRow r;
      for (auto& [k, v] : row.fields)
        r[k] = mapping::Display(v) == "(empty)" ? "" : mapping::Display(v);
      out[row.key] = std::move(r);
    }
    return out;
  }

  // Every contact of the location, by id (search with paging).
  std::map<std::string, GhlContact> Ghl() {
    std::map<std::string, GhlContact> out;
    std::string after;
    while (true) {
      std::string body = std::string(R"({"locationId":")") + kLocation + R"(","pageLimit":500)";
      if (!after.empty()) body += R"(,"searchAfter":)" + after;
      body += R"(,"sort":[{"field":"dateAdded","direction":"asc"}]})";
      auto r = emu_.Admin("POST", "/user/contacts/search", body);
      auto doc = Json(r.body);
      if (!doc.IsObject() || !doc.HasMember("contacts")) {
        ADD_FAILURE() << r.status << " " << r.body;
        return out;
      }
      const auto& contacts = doc["contacts"];
      for (const auto& c : contacts.GetArray()) {
        GhlContact g;
        for (const char* f : {"firstName", "lastName", "email", "phone"}) {
          g[f] = c.HasMember(f) && c[f].IsString() ? c[f].GetString() : "";
        }
        std::vector<std::string> tags;
        if (c.HasMember("tags") && c["tags"].IsArray()) {
          for (const auto& t : c["tags"].GetArray()) tags.push_back(t.GetString());
        }
        std::sort(tags.begin(), tags.end());
        std::string joined;
        for (const auto& t : tags) joined += (joined.empty() ? "" : ";") + t;
        g["tags"] = joined;
        out[c["id"].GetString()] = g;
      }
      if (contacts.Size() < 500) break;
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      contacts[contacts.Size() - 1]["searchAfter"].Accept(w);
      after = b.GetString();
    }
    return out;
  }

  // Changes and reads "as a GHL user" (/_emulator/user/...): they fire webhooks but do not
  // use the daemon's API budget, as a person in the GHL app or another app would not.
  std::string CreateContact(const std::string& fields) {
    auto r = emu_.Admin("POST", "/user/contacts/",
                        std::string(R"({"locationId":")") + kLocation + "\"," + fields + "}");
    auto doc = Json(r.body);
    if (r.status != 201 || !doc.IsObject()) {
      ADD_FAILURE() << r.status << " " << r.body;
      return "";
    }
    return doc["contact"]["id"].GetString();
  }
  // The seeded "Sales Pipeline": its id and its first stage's id.
  std::pair<std::string, std::string> Pipeline() {
    auto doc =
        Json(emu_.Admin("GET", std::string("/user/opportunities/pipelines?locationId=") + kLocation)
                 .body);
    if (!doc.IsObject() || !doc.HasMember("pipelines") || doc["pipelines"].Empty()) {
      ADD_FAILURE() << "no pipeline in the emulator";
      return {};
    }
    const auto& p = doc["pipelines"][0];
    return {p["id"].GetString(), p["stages"][0]["id"].GetString()};
  }
  // Opportunities of the location: name -> contactId.
  std::map<std::string, std::string> Opportunities() {
    std::map<std::string, std::string> out;
    auto doc =
        Json(emu_.Admin("GET", std::string("/user/opportunities/search?limit=100&location_id=") +
                                   kLocation)
                 .body);
    if (!doc.IsObject() || !doc.HasMember("opportunities")) {
      ADD_FAILURE() << "searching opportunities failed";
      return out;
    }
    for (const auto& o : doc["opportunities"].GetArray()) {
      out[o["name"].GetString()] =
          o.HasMember("contactId") && o["contactId"].IsString() ? o["contactId"].GetString() : "";
    }
    return out;
  }
  std::string CreateOpportunity(const std::string& fields) {
    auto r = emu_.Admin("POST", "/user/opportunities/",
                        std::string(R"({"locationId":")") + kLocation + "\"," + fields + "}");
    auto doc = Json(r.body);
    if ((r.status != 200 && r.status != 201) || !doc.IsObject()) {
      ADD_FAILURE() << r.status << " " << r.body;
      return "";
    }
    return doc["opportunity"]["id"].GetString();
  }
  void CreateCustomField(const std::string& name, const std::string& data_type = "TEXT") {
    auto r = emu_.Admin("POST", std::string("/user/locations/") + kLocation + "/customFields",
                        R"({"name":")" + name + R"(","dataType":")" + data_type + "\"}");
    if (r.status != 200 && r.status != 201) ADD_FAILURE() << r.status << " " << r.body;
  }
  void UpdateContact(const std::string& id, const std::string& fields) {
    auto r = emu_.Admin("PUT", "/user/contacts/" + id, "{" + fields + "}");
    if (r.status != 200) ADD_FAILURE() << r.status << " " << r.body;
  }

  // Polls `done` until true or timeout.
  template <typename F>
  static bool Eventually(F done, std::chrono::milliseconds timeout = 30s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return done();
  }

 private:
  TempDir dir_;
  EmulatorProcess emu_;
  std::string connectors_ = "  crm:\n    type: csv\n    dir: data\n";
  std::string webhooks_extra_;
  std::string external_ = "  connector: crm\n  file: contacts.csv\n";
  uint16_t webhook_port_ = 0;
  int starts_ = 0;
  int clis_ = 0;
};

}  // namespace ghl::testing
