// The daemon as a user meets it: a real process, real signals, real HTTP on loopback,
// a real SQLite file.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <regex>

#include "tests/support/emulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ghl {
namespace {

using namespace std::chrono_literals;
using testing::HttpRequest;
using testing::Process;
using testing::RunToEnd;
using testing::TempDir;

const std::string kBinary = std::string(GHL_BINARY_DIR) + "/ghl-syncd";
constexpr const char* kToken = "pit-NEVER-LOG-THIS-7f3a9c";

// One ghl-emulator for the suite, with location loc-1 whose token is kToken.
testing::EmulatorProcess* g_emulator = nullptr;

class EmulatorEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_emulator = new testing::EmulatorProcess({"--no-rate-limit"});
    ASSERT_TRUE(g_emulator->ok()) << g_emulator->startup_error();
    auto r = g_emulator->Admin("POST", "/locations",
                               std::string(R"({"id":"loc-1","token":")") + kToken + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  void TearDown() override { delete g_emulator; }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new EmulatorEnvironment);

constexpr const char* kContactsMapping = R"(object: contacts
external: {connector: crm, file: contacts.csv}
key: id
fields:
  - {ghl: email, external: email}
)";

std::string ConfigText(const std::string& extra = "", const std::string& listen = "127.0.0.1:0") {
  return "ghl:\n  base_url: " + g_emulator->base_url() + R"(
  locations:
    - id: loc-1
      token: ${TEST_GHL_TOKEN}
state:
  path: state/nested/state.db
http:
  listen: )" +
         listen +
         R"(
logging:
  level: debug
  format: text
daemon:
  drain_timeout: 2s
mappings_dir: mappings
)" + extra;
}

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() {
    std::filesystem::create_directories(dir_ / "mappings");
    config_ = dir_.Write("ghl-syncd.yaml", ConfigText());
  }

  std::unique_ptr<Process> Start(const std::map<std::string, std::string>& env = {}) {
    auto all = env;
    all.emplace("TEST_GHL_TOKEN", kToken);
    auto p = std::make_unique<Process>(
        std::vector<std::string>{kBinary, "run", "--config", config_.string()}, all,
        dir_ / ("daemon-" + std::to_string(++starts_) + ".log"));
    return p;
  }

  // Waits for the listener line and returns the base URL.
  std::string BaseUrl(Process& p) {
    if (!p.WaitForLog("ready:", 20s)) {
      ADD_FAILURE() << "daemon did not become ready:\n" << p.Log();
      return "";
    }
    std::smatch m;
    const std::string log = p.Log();
    if (!std::regex_search(log, m, std::regex("http listener on ([0-9.]+):([0-9]+)"))) {
      ADD_FAILURE() << "no listener line in:\n" << log;
      return "";
    }
    return "http://" + m[1].str() + ":" + m[2].str();
  }

  static double Metric(const std::string& metrics, const std::string& series) {
    std::istringstream in(metrics);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }

  TempDir dir_;
  std::filesystem::path config_;
  int starts_ = 0;
};

TEST_F(DaemonTest, ServesHealthReadinessAndMetricsThenStopsCleanlyOnSigterm) {
  auto d = Start();
  const std::string url = BaseUrl(*d);
  ASSERT_FALSE(url.empty());

  ASSERT_TRUE(d->WaitForLog("location loc-1: GHL accepted the token", 10s)) << d->Log();
  auto health = HttpRequest(url + "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  auto ready = HttpRequest(url + "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");

  auto metrics = HttpRequest(url + "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(std::regex_search(
      metrics.body,
      std::regex(R"(ghl_syncd_build_info\{commit="[0-9a-f]+|unknown",version="0\.1\.0"\} 1)")))
      << metrics.body;
  EXPECT_EQ(Metric(metrics.body, "ghl_syncd_ready"), 1);
  EXPECT_GT(Metric(metrics.body, "ghl_syncd_start_time_seconds"), 1.7e9);

  EXPECT_EQ(HttpRequest(url + "/nope").status, 404);
  EXPECT_EQ(HttpRequest(url + "/metrics", "POST").status, 405);

  // The state file exists, private, in the directory the daemon created.
  const auto state = dir_ / "state/nested/state.db";
  struct stat st {};
  ASSERT_EQ(stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const auto t0 = std::chrono::steady_clock::now();
  d->Signal(SIGTERM);
  auto code = d->Wait(10s);
  ASSERT_TRUE(code) << "did not exit after SIGTERM:\n" << d->Log();
  EXPECT_EQ(*code, 0) << d->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s + 1s) << "exceeded the drain timeout";
  EXPECT_NE(d->Log().find("SIGTERM: stopping"), std::string::npos) << d->Log();
  EXPECT_NE(d->Log().find("stopped"), std::string::npos) << d->Log();
  EXPECT_EQ(HttpRequest(url + "/healthz").status, 0) << "listener closed after exit";
}

TEST_F(DaemonTest, NotReadyWhileGhlRejectsTheTokenAndSaysWhy) {
  auto d = Start({{"TEST_GHL_TOKEN", "pit-wrong"}});
  const std::string url = BaseUrl(*d);
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(d->WaitForLog("location loc-1: GHL check failed", 10s)) << d->Log();
  auto ready = HttpRequest(url + "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("location loc-1: GHL check failed"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("GHL rejected the token (401)"), std::string::npos) << ready.body;
  EXPECT_EQ(HttpRequest(url + "/healthz").status, 200) << "alive, just not ready";
  EXPECT_EQ(d->Log().find("pit-wrong"), std::string::npos) << "the token is not logged";
  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(10s), 0) << d->Log();
}

TEST_F(DaemonTest, TheDailyGhlBudgetSurvivesARestart) {
  for (int run = 1; run <= 2; ++run) {
    auto d = Start();
    const std::string url = BaseUrl(*d);
    ASSERT_FALSE(url.empty());
    ASSERT_TRUE(d->WaitForLog("location loc-1: GHL accepted the token", 10s)) << d->Log();
    if (run == 2) {
      // The first run's calls (and other tests' on the shared emulator) still count.
      std::smatch m;
      const std::string log = d->Log();
      ASSERT_TRUE(std::regex_search(
          log, m, std::regex(R"(location loc-1: (\d+) GHL requests left today \(restored\))")))
          << log;
      EXPECT_LT(std::stoll(m[1]), 200000);
    }
    auto metrics = HttpRequest(url + "/metrics").body;
    EXPECT_NE(metrics.find(
                  R"(ghl_syncd_api_requests_total{operation="customFields.list",status="200"} 1)"),
              std::string::npos)
        << metrics;
    d->Signal(SIGTERM);
    ASSERT_EQ(d->Wait(10s), 0) << d->Log();
  }
}

TEST_F(DaemonTest, SighupAppliesAValidConfigAndKeepsTheOldOneWhenBroken) {
  auto d = Start();
  const std::string url = BaseUrl(*d);
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(d->WaitForLog("location loc-1: GHL accepted the token", 10s)) << d->Log();
  EXPECT_EQ(Metric(HttpRequest(url + "/metrics").body, "ghl_syncd_mappings_loaded"), 0);

  // A mapping naming a connector the configuration lacks: refused, nothing changes.
  dir_.Write("mappings/contacts.yaml", kContactsMapping);
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("still running the previous syncs", 10s)) << d->Log();
  EXPECT_NE(d->Log().find("connector 'crm' is not defined under connectors:"), std::string::npos)
      << d->Log();
  EXPECT_EQ(Metric(HttpRequest(url + "/metrics").body, "ghl_syncd_mappings_loaded"), 0);

  // A valid change: the connector and the mapping file.
  dir_.Write("ghl-syncd.yaml", ConfigText("connectors:\n  crm:\n    type: csv\n    dir: data\n"));
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("config reloaded", 10s)) << d->Log();
  auto m = HttpRequest(url + "/metrics").body;
  EXPECT_EQ(Metric(m, "ghl_syncd_mappings_loaded"), 1);
  EXPECT_EQ(Metric(m, R"(ghl_syncd_config_reloads_total{outcome="ok"})"), 1);
  EXPECT_TRUE(d->WaitForLog("sync contacts:", 10s)) << d->Log();

  // A broken change: two mistakes in the file and a broken mapping.
  dir_.Write("ghl-syncd.yaml",
             ConfigText("logging_level: debug\n") + "daemon: {drain_timeout: x}\n");
  dir_.Write("mappings/orders.yaml", "fields: [\n");
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("still running on the previous configuration", 10s)) << d->Log();
  m = HttpRequest(url + "/metrics").body;
  EXPECT_EQ(Metric(m, "ghl_syncd_mappings_loaded"), 1) << "old mappings stay active";
  EXPECT_EQ(Metric(m, R"(ghl_syncd_config_reloads_total{outcome="failed"})"), 2);
  EXPECT_EQ(Metric(m, "ghl_syncd_config_last_reload_successful"), 0);
  const std::string log = d->Log();
  EXPECT_NE(log.find(config_.string() + ":16:1: logging_level: unknown key 'logging_level'"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(config_.string() + ":17:1: daemon: key 'daemon' appears more than once"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("orders.yaml:2:1: invalid YAML"), std::string::npos) << log;
  EXPECT_EQ(HttpRequest(url + "/healthz").status, 200);
  EXPECT_EQ(HttpRequest(url + "/readyz").status, 200);

  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(10s), 0) << d->Log();
}

TEST_F(DaemonTest, SighupAddsAndRemovesLocations) {
  // A second sub-account, with its own token (201, or 409 when this binary made it already).
  const int made =
      g_emulator->Admin("POST", "/locations", R"({"id":"loc-2","token":"pit-two"})").status;
  ASSERT_TRUE(made == 201 || made == 409) << made;
  auto d = Start();
  const std::string url = BaseUrl(*d);
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(d->WaitForLog("location loc-1: GHL accepted the token", 10s)) << d->Log();

  const std::string two = "    - id: loc-2\n      token: pit-two\n";
  std::string text = ConfigText();
  text.insert(text.find("state:\n"), two);
  dir_.Write("ghl-syncd.yaml", text);
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("location loc-2: GHL accepted the token", 10s)) << d->Log();
  EXPECT_NE(d->Log().find("config reload: location loc-2 added"), std::string::npos);
  EXPECT_EQ(HttpRequest(url + "/readyz").status, 200);

  // Dropped again: paused, no longer part of readiness.
  dir_.Write("ghl-syncd.yaml", ConfigText());
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("config reload: location loc-2 removed", 10s)) << d->Log();
  EXPECT_EQ(HttpRequest(url + "/readyz").status, 200);
  const std::string metrics = HttpRequest(url + "/metrics").body;
  EXPECT_EQ(Metric(metrics, R"(ghl_syncd_location_paused{location="loc-2"})"), 1) << metrics;
  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(10s), 0) << d->Log();
  EXPECT_EQ(d->Log().find("pit-two"), std::string::npos);
}

TEST_F(DaemonTest, TalksToSystemdReadyWatchdogStatusStopping) {
  const auto sock_path = dir_ / "notify.sock";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  auto d = Start({{"NOTIFY_SOCKET", sock_path.string()}, {"WATCHDOG_USEC", "200000"}});
  std::vector<std::string> messages;
  auto receive_until = [&](const std::string& needle, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n > 0) {
        messages.emplace_back(buf, static_cast<size_t>(n));
        if (messages.back().find(needle) != std::string::npos) return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(receive_until("READY=1", 20s)) << d->Log();
  EXPECT_NE(messages.back().find("STATUS=running: 1 location(s), 0 mapping(s)"), std::string::npos)
      << messages.back();
  // Pings every 100 ms (half of WATCHDOG_USEC): several arrive within a second.
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    char buf[256];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)) == "WATCHDOG=1") ++pings;
  }
  EXPECT_GE(pings, 5);
  EXPECT_LE(pings, 15);

  d->Signal(SIGTERM);
  EXPECT_TRUE(receive_until("STOPPING=1", 10s));
  EXPECT_EQ(d->Wait(10s), 0) << d->Log();
  close(fd);
}

TEST_F(DaemonTest, JournalFormatHasPriorityPrefixesAndNoTimestamps) {
  dir_.Write("ghl-syncd.yaml", ConfigText() + "");
  std::string text = ConfigText();
  text.replace(text.find("format: text"), 12, "format: journal");
  dir_.Write("ghl-syncd.yaml", text);
  auto d = Start();
  ASSERT_TRUE(d->WaitForLog("ready:", 20s)) << d->Log();
  d->Signal(SIGTERM);
  ASSERT_EQ(d->Wait(10s), 0);
  std::istringstream lines(d->Log());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(<[2-7]>[^0-9].*)"))) << line;
  }
  EXPECT_GT(count, 3);
}

TEST_F(DaemonTest, TokenNeverAppearsInLogsOrErrors) {
  auto d = Start();
  ASSERT_FALSE(BaseUrl(*d).empty());
  d->Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("config reloaded", 10s));
  d->Signal(SIGTERM);
  ASSERT_EQ(d->Wait(10s), 0);
  EXPECT_EQ(d->Log().find(kToken), std::string::npos) << d->Log();
  EXPECT_NE(d->Log().find("[debug] location loc-1 (loc-1): token <redacted>"), std::string::npos)
      << "the run logs locations at debug level, with the token redacted";

  // A config error in the token's own place does not echo it either.
  dir_.Write("bad.yaml", ConfigText().replace(ConfigText().find("${TEST_GHL_TOKEN}"), 17,
                                              std::string("[") + kToken + "]"));
  auto [code, out] =
      RunToEnd({kBinary, "check", "--config", (dir_ / "bad.yaml").string()}, {}, dir_ / "c.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("ghl.locations[0].token: expected a single value"), std::string::npos) << out;
  EXPECT_EQ(out.find(kToken), std::string::npos) << out;
}

TEST_F(DaemonTest, CheckPrintsEveryProblemWithFileLineColumn) {
  const auto bad = dir_.Write("three.yaml", R"(ghl:
  locations:
    - id: loc-1
      token: ${UNSET_VARIABLE_FOR_TEST}
http:
  listen: nowhere
logging:
  levle: debug
mappings_dir: mappings
)");
  auto [code, out] = RunToEnd({kBinary, "check", "--config", bad.string()},
                              {{"UNSET_VARIABLE_FOR_TEST", ""}}, dir_ / "check.log");
  EXPECT_EQ(code, 1);
  const std::string f = bad.string();
  EXPECT_NE(out.find(f + ":4:14: ghl.locations[0].token: environment variable "
                         "UNSET_VARIABLE_FOR_TEST is not set"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(f + ":6:11: http.listen: expected host:port"), std::string::npos) << out;
  EXPECT_NE(out.find(f + ":8:3: logging.levle: unknown key 'levle'; did you mean 'level'?"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("3 problem(s) found"), std::string::npos) << out;

  auto [ok_code, ok_out] = RunToEnd({kBinary, "check", "--config", config_.string()},
                                    {{"TEST_GHL_TOKEN", "x"}}, dir_ / "check-ok.log");
  EXPECT_EQ(ok_code, 0) << ok_out;
  EXPECT_NE(ok_out.find("OK (1 location(s), 0 mapping file(s))"), std::string::npos) << ok_out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state")) << "check must not touch the state";
}

TEST_F(DaemonTest, VersionAndHelp) {
  auto [code, out] = RunToEnd({kBinary, "version"}, {}, dir_ / "v.log");
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(
      std::regex_search(out, std::regex(R"(^ghl-syncd 0\.1\.0 \(commit [0-9a-f]+|unknown\))")))
      << out;
  for (const char* sub : {"run", "check"}) {
    auto [c, help] = RunToEnd({kBinary, sub, "--help"}, {}, dir_ / "h.log");
    EXPECT_EQ(c, 0);
    EXPECT_NE(help.find("--config"), std::string::npos) << help;
  }
  auto [none_code, none] = RunToEnd({kBinary}, {}, dir_ / "n.log");
  EXPECT_NE(none_code, 0);
  EXPECT_NE(none.find("subcommand"), std::string::npos) << none;
}

// ---- bad input at start: one line of cause, non-zero exit, no work done ----

TEST_F(DaemonTest, MissingConfigFileExitsWithConfigError) {
  auto [code, out] =
      RunToEnd({kBinary, "run", "--config", (dir_ / "absent.yaml").string()}, {}, dir_ / "o.log");
  EXPECT_EQ(code, 78);
  EXPECT_NE(
      out.find((dir_ / "absent.yaml").string() + ": cannot read file: No such file or directory"),
      std::string::npos)
      << out;
}

TEST_F(DaemonTest, PortInUseFailsBeforeTouchingState) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  dir_.Write("ghl-syncd.yaml", ConfigText("", taken));

  auto d = Start();
  auto code = d->Wait(20s);
  close(fd);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(d->Log().find("cannot listen on " + taken + ": Address already in use"),
            std::string::npos)
      << d->Log();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state")) << "no state file for a failed start";
}

TEST_F(DaemonTest, UnwritableStateDirectoryIsOneLineError) {
  dir_.Write("blocker", "a file where a directory should be");
  std::string text = ConfigText();
  text.replace(text.find("state/nested/state.db"), 21, "blocker/sub/state.db");
  dir_.Write("ghl-syncd.yaml", text);
  auto d = Start();
  auto code = d->Wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(d->Log().find("cannot create state directory " + (dir_ / "blocker").string()),
            std::string::npos)
      << d->Log();
}

TEST_F(DaemonTest, CorruptStateFileIsRefusedAndLeftAlone) {
  const auto state = dir_.Write("state/nested/state.db",
                                std::string("SQLite format 3") + '\0' + std::string(5000, 'x'));
  chmod(state.c_str(), 0600);
  auto d = Start();
  auto code = d->Wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(d->Log().find(state.string()), std::string::npos) << d->Log();
  std::ifstream in(state, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(bytes, std::string("SQLite format 3") + '\0' + std::string(5000, 'x'));
}

// ---- one daemon per state file ----

TEST_F(DaemonTest, ASecondRunOnTheSameStateFileExitsAtOnceAndTheOperatorCommandsStillWork) {
  const std::string csv = "connectors:\n  crm:\n    type: csv\n    dir: data\n";
  dir_.Write("ghl-syncd.yaml", ConfigText(csv));
  dir_.Write("mappings/contacts.yaml", kContactsMapping);
  dir_.Write("data/contacts.csv", "id,email\n");
  auto first = Start();
  const std::string url = BaseUrl(*first);
  ASSERT_FALSE(url.empty());
  ASSERT_TRUE(first->WaitForLog("sync contacts:", 10s)) << first->Log();
  const std::map<std::string, std::string> env = {{"TEST_GHL_TOKEN", kToken}};

  // Another configuration on the same state file; then one that also listens on the first
  // one's port, as the same configuration started twice would: the state file is named,
  // not the port.
  const std::string state = (dir_ / "state/nested/state.db").string();
  for (const std::string& listen_on : {std::string("127.0.0.1:0"), url.substr(7)}) {
    SCOPED_TRACE(listen_on);
    const auto second = dir_.Write("second.yaml", ConfigText(csv, listen_on));
    const auto t0 = std::chrono::steady_clock::now();
    auto [code, out] =
        RunToEnd({kBinary, "run", "--config", second.string()}, env, dir_ / "second.log");
    EXPECT_EQ(code, 1) << out;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "it does not wait for the lock";
    EXPECT_NE(out.find("another ghl-syncd is running with state file " + state + " (pid " +
                       std::to_string(first->pid()) +
                       "); stop it first or give this one its own state file (state.path in " +
                       second.string() + ")"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("http listener"), std::string::npos) << out;
    EXPECT_EQ(out.find("sync contacts"), std::string::npos) << "no sync started:\n" << out;
  }

  // The commands that read, or edit rows in one transaction, work beside the daemon.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"status"},
                                             {"status", "--json"},
                                             {"dlq", "list"},
                                             {"dlq", "replay", "--all"},
                                             {"audit"},
                                             {"plan", "--sync", "contacts"}}) {
    std::vector<std::string> argv = {kBinary};
    std::string command;
    for (const auto& a : args) command += " " + a;
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_.string()});
    auto [code, out] = RunToEnd(argv, env, dir_ / "cli.log");
    EXPECT_EQ(code, 0) << "ghl-syncd" << command << ":\n" << out;
  }

  EXPECT_EQ(HttpRequest(url + "/readyz").status, 200) << "the first one is undisturbed";
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(10s), 0) << first->Log();
}

TEST_F(DaemonTest, ARunStartsAfterTheOneBeforeWasKilled) {
  auto first = Start();
  ASSERT_FALSE(BaseUrl(*first).empty());
  first->Signal(SIGKILL);  // as a crash, or systemd giving up on a stop, would
  ASSERT_EQ(first->Wait(10s), 128 + SIGKILL);

  auto second = Start();
  ASSERT_FALSE(BaseUrl(*second).empty()) << "the kernel released the lock with the process";
  const auto lock = dir_ / "state/nested/state.db.lock";
  struct stat st {};
  ASSERT_EQ(stat(lock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(lock);
  std::string pid;
  std::getline(in, pid);
  EXPECT_EQ(pid, std::to_string(second->pid())) << "the holder's pid, for the next one's message";
  second->Signal(SIGTERM);
  EXPECT_EQ(second->Wait(10s), 0) << second->Log();
}

}  // namespace
}  // namespace ghl
