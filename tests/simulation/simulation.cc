// The simulation (see simulation.h for the model and the oracle's rules).
#include "tests/simulation/simulation.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "connectors/connector.h"
#include "connectors/ghl/webhook_event.h"
#include "core/clock.h"
#include "emulator/emulator.h"
#include "mapping/mapping.h"
#include "state/sqlite_state_store.h"
#include "sync/ghl_gateway.h"
#include "sync/runner.h"
#include "sync/store.h"

namespace ghl::sim {
namespace {

using mapping::Fields;
using mapping::Value;

constexpr const char* kLocation = "loc-sim";
constexpr const char* kToken = "pit-sim";
constexpr const char* kSync = "contacts";
constexpr int kGuardMaxCount = 3;
// Canonical field -> external column.
const std::vector<std::pair<std::string, std::string>> kFields = {
    {"firstName", "first_name"}, {"lastName", "last_name"}, {"city", "city"}};
const std::map<std::string, std::vector<std::string>> kPools = {
    {"firstName", {"Ann", "Bob", "Cy", "Dee", "Eve"}},
    {"lastName", {"Lee", "Kim", "Park", "Diaz"}},
    {"city", {"Oslo", "Lima", "Rome", "Kyiv"}}};

// Thrown by the models to stop the daemon where it stands (a crash after a write was applied,
// before its result was recorded). Caught by the step loop, which restarts the runner.
struct SimCrash {};

std::string Text(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return mapping::IsNull(v) ? "" : mapping::Display(v);
}

std::string Field(const Fields& f, const std::string& name) {
  auto it = f.find(name);
  return it == f.end() ? "" : Text(it->second);
}

// ---- the external system ----
struct ExtRow {
  Fields fields;  // by column, with "id"
  uint64_t version = 0;
  int64_t updated_ms = 0;
};

struct ExtWorld {
  bool server_keys = false;  // REST: the server assigns keys on create
  std::string soft_column;   // `deletes: soft`: the flag column ("" otherwise)
  std::map<std::string, ExtRow> rows;
  uint64_t next_version = 1;
  int next_key = 1;
  int64_t echo_writes = 0;
  int64_t writes = 0;
  // REST: the row each create made, by the op's idempotency key (what FindCreated finds by,
  // as a REST API's create.match lookup would).
  std::map<std::string, std::string> created_by;
};

enum class Side { kGhl, kExt };
const char* Name(Side s) { return s == Side::kGhl ? "ghl" : "ext"; }

struct Person {
  int n = 0;
  std::string email;
  // Expected: field -> acceptable values (one, or two after a `newest` conflict).
  std::map<std::string, std::set<std::string>> want;
  bool want_ghl = true, want_ext = true;
  bool want_tag = false, want_flag = false;  // soft deletes
  bool retired = false;                      // deleted on a side: no more edits
};

struct ExpectedConflict {
  int person;
  std::string field;
  int round;
};

struct Delivery {
  int64_t due_ms;
  uint64_t order;  // tie-break
  std::string body;
  bool tried = false;
};

class Sim {
 public:
  explicit Sim(const SimOptions& o)
      : opt_(o), wl_(o.seed), fr_(o.seed * 0x9e3779b97f4a7c15ULL + 7) {}

  SimResult Run();

 private:
  class Gateway;
  class Connector;
  class Sink;
  friend class Gateway;
  friend class Connector;
  friend class Sink;

  // -- helpers --
  int64_t Now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
        .count();
  }
  void Advance(int64_t ms) { clock_.Advance(std::chrono::milliseconds(ms)); }
  template <typename... Args>
  void Log(fmt::format_string<Args...> f, Args&&... args) {
    std::string line = fmt::format("[{:>7.1f}s] ", (Now() - start_ms_) / 1000.0) +
                       fmt::format(f, std::forward<Args>(args)...);
    if (opt_.verbose) std::cerr << line << "\n";
    result_.history.push_back(std::move(line));
  }
  bool Wl(double p) { return std::uniform_real_distribution<double>(0, 1)(wl_) < p; }
  int WlInt(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(wl_); }
  bool Fr(double p) {
    return faults_on_ && p > 0 && std::uniform_real_distribution<double>(0, 1)(fr_) < p;
  }
  int FrInt(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(fr_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(WlInt(0, static_cast<int>(v.size()) - 1))];
  }
  void Fail(const std::string& check, const std::string& details) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.check = check;
    result_.details = details;
    Log("VIOLATION {}: {}", check, details);
  }

  bool Setup();
  void StartRunner();
  void Restart(const char* why);
  // One daemon step (faults as configured).
  void Step();
  void DeliverWebhooks(bool all);
  void Settle(int round);
  void Check(int round);

  // -- the sides, as users see them --
  const emulator::Record* GhlByEmail(const std::string& email);
  std::string ExtKeyByEmail(const std::string& email);
  std::string SideValue(Side side, const Person& p, const std::string& field);
  void UserEdit(Side side, Person& p, const std::string& field, const std::string& value);
  void UserCreate(Side side, Person& p, const std::map<std::string, std::string>& values);
  void UserDelete(Side side, Person& p);
  void Round(int round, bool last);
  std::string NewValue(const std::string& field, const std::set<std::string>& avoid);

  SimOptions opt_;
  std::mt19937_64 wl_;  // the workload
  std::mt19937_64 fr_;  // faults and the daemon's schedule
  bool faults_on_ = true;
  SimResult result_;
  FakeClock clock_;
  int64_t start_ms_ = 0;

  // Setup, from the seed.
  mapping::ConflictPolicy policy_ = mapping::ConflictPolicy::kNewest;
  mapping::DeletePolicy deletes_ = mapping::DeletePolicy::kPropagate;
  std::map<std::string, Side> owner_;
  double gw_fault_ = 0, ext_fault_ = 0, crash_rate_ = 0;
  double hook_drop_ = 0, hook_dup_ = 0;
  int64_t hook_delay_max_ = 0;
  int64_t lag_ms_ = 0;

  std::string dir_;
  boost::asio::io_context io_;
  std::unique_ptr<emulator::Emulator> emu_;
  ExtWorld ext_;
  std::shared_ptr<const mapping::Mapping> mapping_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<state::SqliteStateStore> state_;
  std::unique_ptr<sync::SyncStore> store_;
  std::unique_ptr<sync::SyncRunner> runner_;
  sync::RunnerOptions runner_options_;
  int restarts_ = 0;

  std::deque<Delivery> deliveries_;
  uint64_t delivery_order_ = 0;
  uint64_t webhook_ids_ = 0;
  int64_t ghl_echo_writes_ = 0;
  int64_t ghl_writes_ = 0;

  std::vector<Person> people_;
  std::vector<ExpectedConflict> conflicts_;
};

// ---- GHL: the emulator in process, behind a faulty transport ----
class Sim::Gateway final : public sync::GhlGateway {
 public:
  explicit Gateway(Sim& sim) : sim_(sim) {}
  std::vector<ghl_client::ApiResult> CallAll(std::vector<sync::GhlCall> calls) override {
    std::vector<ghl_client::ApiResult> out;
    for (auto& c : calls) out.push_back(One(c));
    return out;
  }
  int64_t calls_made() const override { return calls_; }

 private:
  static bool IsWrite(const ghl_client::ApiRequest& r) {
    return r.method != "GET" && r.path.find("/search") == std::string::npos;
  }
  // The contact a write is about, when it exists: its id from the path or its email.
  const emulator::Record* Target(const ghl_client::ApiRequest& r) {
    const std::string p = r.path.substr(0, r.path.find('?'));
    const std::string prefix = "/contacts/";
    if (p.rfind(prefix, 0) == 0 && p.size() > prefix.size()) {
      std::string id = p.substr(prefix.size());
      id = id.substr(0, id.find('/'));
      if (id != "upsert" && id != "search") return sim_.emu_->world().contacts.Find(id);
    }
    rapidjson::Document body;
    body.Parse(r.body.c_str());
    if (!body.HasParseError() && body.IsObject() && body.HasMember("email") &&
        body["email"].IsString()) {
      return sim_.GhlByEmail(body["email"].GetString());
    }
    return nullptr;
  }
  ghl_client::ApiResult One(const sync::GhlCall& c) {
    ++calls_;
    const auto& r = c.request;
    const bool write = IsWrite(r);
    ghl_client::ApiResult out;
    // Faults before the request reaches GHL.
    if (sim_.Fr(sim_.gw_fault_)) {
      const int kind = sim_.FrInt(0, 2);
      out.outcome = ghl_client::Outcome::kRetry;
      if (kind == 0) {
        out.status = 503;
        out.error = ghl_client::ErrorClass::kServer;
        out.message = "503 (simulated)";
      } else if (kind == 1) {
        out.status = 429;
        out.error = ghl_client::ErrorClass::kRateLimited;
        out.message = "429 (simulated, Retry-After: 1)";
      } else {
        out.status = 0;
        out.error = ghl_client::ErrorClass::kTransport;
        out.message = "connection reset (simulated)";
      }
      sim_.Log("fault gw {} {} {}", out.status, r.method, r.path.substr(0, r.path.find('?')));
      return out;
    }
    const emulator::Record* before = write ? Target(r) : nullptr;
    const std::string before_id = before ? before->id : "";
    const int64_t before_updated = before ? before->updated_ms : 0;

    namespace http = boost::beast::http;
    http_server::Request req{http::string_to_verb(r.method), r.path, 11};
    req.set(http::field::authorization, std::string("Bearer ") + kToken);
    if (r.family == ghl_client::Family::kDefault) req.set("Version", "2021-07-28");
    if (r.family == ghl_client::Family::kCalendars) req.set("Version", "2021-04-15");
    if (!r.body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = r.body;
    emulator::Reply reply = sim_.emu_->HandleNow(req);
    out.status = reply.status;
    out.body = reply.body;
    if (reply.status >= 200 && reply.status < 300) {
      out.outcome = ghl_client::Outcome::kOk;
    } else if (reply.status == 429 || reply.status >= 500) {
      out.outcome = ghl_client::Outcome::kRetry;
      out.error = reply.status == 429 ? ghl_client::ErrorClass::kRateLimited
                                      : ghl_client::ErrorClass::kServer;
      out.message = reply.body;
    } else {
      out.outcome = ghl_client::Outcome::kFatal;
      out.error = ghl_client::ErrorClass::kPermanent;
      out.message = reply.body;
    }
    if (write) {
      ++sim_.ghl_writes_;
      sim_.Log("ghl {} {} -> {} {}", r.method, r.path.substr(0, r.path.find('?')), reply.status,
               r.body.size() < 200 ? r.body : r.body.substr(0, 200) + "...");
      // (Adding a tag again, a soft delete retried after a lost answer, is idempotent: not
      // counted.)
      if (!before_id.empty() && reply.status < 300 && r.method != "DELETE" &&
          r.path.find("/tags") == std::string::npos) {
        const emulator::Record* after = sim_.emu_->world().contacts.Find(before_id);
        if (after != nullptr && after->updated_ms == before_updated) {
          ++sim_.ghl_echo_writes_;
          sim_.Log("ECHO: a GHL write that changed nothing: {} {} {}", r.method, r.path, r.body);
        }
      }
      // The write is applied; its answer may still be lost, or the daemon may die now.
      if (sim_.Fr(sim_.crash_rate_)) {
        sim_.Log("fault gw: crash after the write applied");
        throw SimCrash{};
      }
      if (sim_.Fr(sim_.gw_fault_ / 2)) {
        sim_.Log("fault gw: answer lost after the write applied");
        ghl_client::ApiResult lost;
        lost.outcome = ghl_client::Outcome::kRetry;
        lost.error = ghl_client::ErrorClass::kTransport;
        lost.message = "timeout (simulated; the write was applied)";
        return lost;
      }
    }
    return out;
  }

  Sim& sim_;
  int64_t calls_ = 0;
};

// ---- webhooks: captured from the emulator ----
class Sim::Sink final : public emulator::WebhookSink {
 public:
  explicit Sink(Sim& sim) : sim_(sim) {}
  void Publish(const std::string& type, const emulator::JsonDoc& payload) override {
    emulator::JsonDoc body;
    body.CopyFrom(payload, body.GetAllocator());
    emulator::SetString(body, "timestamp", emulator::IsoTime(sim_.Now()), body.GetAllocator());
    emulator::SetString(body, "webhookId", fmt::format("wh-{}", ++sim_.webhook_ids_),
                        body.GetAllocator());
    const std::string text = emulator::Dump(body);
    std::string id;
    if (auto v = emulator::GetString(payload, "id")) id = *v;
    if (sim_.Fr(sim_.hook_drop_)) {
      sim_.Log("fault webhook dropped: {} {}", type, id);
      return;
    }
    int copies = sim_.Fr(sim_.hook_dup_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      const int64_t delay =
          sim_.faults_on_ ? sim_.FrInt(0, static_cast<int>(sim_.hook_delay_max_)) : 0;
      if (i > 0 || delay > 0) {
        sim_.Log("fault webhook {} {} {}: due in {} ms", i > 0 ? "duplicated" : "delayed", type, id,
                 delay);
      }
      sim_.deliveries_.push_back({sim_.Now() + delay, ++sim_.delivery_order_, text, false});
    }
  }
  void SetFaults(const emulator::Faults&) override {}
  std::string Ed25519PublicKeyPem() const override { return ""; }
  std::string RsaPublicKeyPem() const override { return ""; }

 private:
  Sim& sim_;
};

// ---- the external system ----
class Sim::Connector final : public connectors::Connector {
 public:
  explicit Connector(Sim& sim) : sim_(sim), w_(sim.ext_) {}

  Result<connectors::ScanPage> Scan(const std::string&, std::size_t) override {
    if (sim_.Fr(sim_.ext_fault_ / 2)) {
      sim_.Log("fault ext: scan failed");
      return Error{"scan failed (simulated)"};
    }
    connectors::ScanPage page;
    for (const auto& [key, row] : w_.rows) page.rows.push_back(ToRow(key, row));
    page.done = true;
    page.complete = true;
    return page;
  }
  Result<std::optional<connectors::Row>> Get(const std::string& key) override {
    if (sim_.Fr(sim_.ext_fault_ / 2)) {
      sim_.Log("fault ext: get {} failed", key);
      return Error{"get failed (simulated)"};
    }
    auto it = w_.rows.find(key);
    if (it == w_.rows.end()) return std::optional<connectors::Row>();
    return std::optional<connectors::Row>(ToRow(key, it->second));
  }
  std::vector<connectors::WriteResult> Write(const std::vector<connectors::WriteOp>& ops) override {
    std::vector<connectors::WriteResult> out;
    for (const auto& op : ops) {
      if (sim_.Fr(sim_.ext_fault_)) {
        sim_.Log("fault ext: write {} refused (retry)", op.key);
        out.push_back({connectors::Outcome::kRetry, "busy (simulated)", op.key, ""});
        continue;
      }
      connectors::WriteResult r = Apply(op);
      if (r.outcome == connectors::Outcome::kOk && sim_.Fr(sim_.crash_rate_)) {
        sim_.Log("fault ext: crash after the write of {} applied", r.key);
        throw SimCrash{};
      }
      if (r.outcome == connectors::Outcome::kOk && sim_.Fr(sim_.ext_fault_ / 2)) {
        sim_.Log("fault ext: answer lost after the write of {} applied", r.key);
        r = {connectors::Outcome::kRetry, "timeout (simulated; the write was applied)", op.key, ""};
      }
      out.push_back(std::move(r));
    }
    return out;
  }
  connectors::WriteResult FindCreated(const connectors::WriteOp& op) override {
    if (!w_.server_keys) return {connectors::Outcome::kOk, "", "", ""};
    auto it = w_.created_by.find(op.idempotency_key);
    if (it == w_.created_by.end() || !w_.rows.count(it->second)) {
      return {connectors::Outcome::kOk, "", "", ""};
    }
    sim_.Log("ext: the create of job {} made row {} (FindCreated)", op.idempotency_key, it->second);
    return {connectors::Outcome::kOk, "", it->second,
            fmt::format("v{}", w_.rows.at(it->second).version)};
  }
  Result<void> Health() override { return Ok(); }
  std::string Describe() const override { return "sim:contacts"; }

 private:
  connectors::Row ToRow(const std::string& key, const ExtRow& row) const {
    connectors::Row r;
    r.key = key;
    r.fields = row.fields;
    r.version = fmt::format("v{}", row.version);
    r.updated_ms = row.updated_ms;
    r.deleted = !w_.soft_column.empty() && Field(row.fields, w_.soft_column) == "true";
    return r;
  }
  connectors::WriteResult Apply(const connectors::WriteOp& op) {
    ++w_.writes;
    auto it = op.key.empty() ? w_.rows.end() : w_.rows.find(op.key);
    const std::string now_version =
        it == w_.rows.end() ? "" : fmt::format("v{}", it->second.version);
    if (!op.expect_version.empty() && op.expect_version != now_version) {
      sim_.Log("ext {} {}: CAS conflict (expected {}, is {})",
               op.kind == connectors::WriteOp::Kind::kDelete ? "delete" : "upsert", op.key,
               op.expect_version, now_version.empty() ? "gone" : now_version);
      return {connectors::Outcome::kConflict, "changed", op.key, now_version};
    }
    if (op.kind == connectors::WriteOp::Kind::kDelete) {
      if (it == w_.rows.end()) return {connectors::Outcome::kConflict, "gone", op.key, ""};
      w_.rows.erase(it);
      sim_.Log("ext delete {}", op.key);
      return {connectors::Outcome::kOk, "", op.key, ""};
    }
    if (it == w_.rows.end()) {
      std::string key = op.key;
      if (key.empty() || w_.server_keys) key = fmt::format("r{}", w_.next_key++);
      ExtRow row;
      row.fields = op.fields;
      row.fields["id"] = key;
      row.version = w_.next_version++;
      row.updated_ms = sim_.Now();
      sim_.Log("ext create {} {}", key, mapping::ToJson(row.fields));
      if (!op.idempotency_key.empty()) w_.created_by[op.idempotency_key] = key;
      auto [ins, _] = w_.rows.emplace(key, std::move(row));
      return {connectors::Outcome::kOk, "", key, fmt::format("v{}", ins->second.version)};
    }
    ExtRow& row = it->second;
    bool changed = false;
    for (const auto& [col, v] : op.fields) {
      if (col == "id") continue;
      auto f = row.fields.find(col);
      if (f == row.fields.end() || !mapping::Equal(f->second, v)) {
        row.fields[col] = v;
        changed = true;
      }
    }
    if (!changed) {
      ++w_.echo_writes;
      sim_.Log("ECHO: an external write that changed nothing: {} {}", op.key,
               mapping::ToJson(op.fields));
      return {connectors::Outcome::kOk, "", op.key, fmt::format("v{}", row.version)};
    }
    row.version = w_.next_version++;
    row.updated_ms = sim_.Now();
    sim_.Log("ext update {} {}", op.key, mapping::ToJson(op.fields));
    return {connectors::Outcome::kOk, "", op.key, fmt::format("v{}", row.version)};
  }

  Sim& sim_;
  ExtWorld& w_;
};

// ---- setup ----
bool Sim::Setup() {
  // 2025-03-01T00:00:00Z
  clock_.Advance(std::chrono::milliseconds(1'740'787'200'000LL));
  start_ms_ = Now();
  const int pol = WlInt(0, 3);
  policy_ = std::array{mapping::ConflictPolicy::kNewest, mapping::ConflictPolicy::kGhlWins,
                       mapping::ConflictPolicy::kExternalWins,
                       mapping::ConflictPolicy::kOwner}[static_cast<size_t>(pol)];
  const int del = WlInt(0, 2);
  deletes_ = std::array{mapping::DeletePolicy::kPropagate, mapping::DeletePolicy::kSoft,
                        mapping::DeletePolicy::kIgnore}[static_cast<size_t>(del)];
  for (const auto& [f, _] : kFields) owner_[f] = Wl(0.5) ? Side::kGhl : Side::kExt;
  ext_.server_keys = Wl(0.35);
  ext_.soft_column = deletes_ == mapping::DeletePolicy::kSoft ? "deleted" : "";
  lag_ms_ = Wl(0.25) ? 0 : WlInt(100, 3000);
  // Every draw is made whatever the options say, so that a run with fewer records, rounds
  // or fault kinds (shrinking, or a replay of a shrunk run) keeps the rest of the stream.
  const int records = WlInt(8, 14);
  const int rounds = WlInt(2, 4);
  const double gw = std::array{0.0, 0.05, 0.15}[static_cast<size_t>(WlInt(0, 2))];
  const double ext = std::array{0.0, 0.05, 0.15}[static_cast<size_t>(WlInt(0, 2))];
  const double crash = std::array{0.0, 0.02, 0.05}[static_cast<size_t>(WlInt(0, 2))];
  const double drop = std::array{0.0, 0.1, 0.3}[static_cast<size_t>(WlInt(0, 2))];
  const double dup = std::array{0.0, 0.1}[static_cast<size_t>(WlInt(0, 1))];
  const int64_t delay = std::array{0, 2000, 8000}[static_cast<size_t>(WlInt(0, 2))];
  if (opt_.records < 0) opt_.records = records;
  if (opt_.rounds < 0) opt_.rounds = rounds;
  if (opt_.faults) {
    gw_fault_ = gw;
    ext_fault_ = ext;
  }
  if (opt_.crashes) crash_rate_ = crash;
  if (opt_.webhook_faults) {
    hook_drop_ = drop;
    hook_dup_ = dup;
    hook_delay_max_ = delay;
  }
  runner_options_.seed = opt_.seed * 31 + 1;
  runner_options_.backoff_max_ms = 30'000;
  runner_options_.chunk = WlInt(1, 3) == 1 ? 2 : 200;

  // The mapping.
  std::string yaml = "object: contacts\nexternal: {connector: sim}\nkey: id\nmatch: [email]\n";
  yaml += fmt::format("conflict: {}\ndeletes: {}\n", mapping::ToString(policy_),
                      mapping::ToString(deletes_));
  if (deletes_ == mapping::DeletePolicy::kSoft) {
    yaml += "soft_delete: {tag: deleted, column: deleted}\n";
  }
  yaml += fmt::format("delete_guard: {{max_count: {}, max_share: 50%}}\nfields:\n", kGuardMaxCount);
  const bool owned = policy_ == mapping::ConflictPolicy::kOwner;
  yaml += std::string("  - {ghl: email, external: email, transforms: [trim, lower]") +
          (owned ? ", owner: ghl}\n" : "}\n");
  for (const auto& [f, col] : kFields) {
    yaml += fmt::format("  - {{ghl: {}, external: {}{}}}\n", f, col,
                        owned ? std::string(", owner: ") + Name(owner_[f]) + "" : "");
  }
  // Name() says "ext"; the mapping says "external".
  for (size_t at = yaml.find("owner: ext}"); at != std::string::npos;
       at = yaml.find("owner: ext}", at)) {
    yaml.replace(at, 11, "owner: external}");
  }
  config::Diagnostics errors;
  config::MappingFile file{"contacts.yaml", kSync, YAML::Load(yaml)};
  mapping_ = mapping::Mapping::Compile(file, errors);
  if (!mapping_) {
    Fail("setup", "the mapping does not compile: " + config::Join(errors) + "\n" + yaml);
    return false;
  }

  result_.setup = fmt::format(
      "conflict {}, deletes {}, external keys by {}, search lag {} ms, {} records, {} rounds, "
      "GHL faults {:.0f}%, external faults {:.0f}%, crashes {:.0f}%, webhooks dropped {:.0f}% "
      "duplicated {:.0f}% delayed up to {} ms, commit chunk {}",
      mapping::ToString(policy_), mapping::ToString(deletes_),
      ext_.server_keys ? "the server (REST)" : "the writer (CSV/SQL)", lag_ms_, opt_.records,
      opt_.rounds, gw_fault_ * 100, ext_fault_ * 100, crash_rate_ * 100, hook_drop_ * 100,
      hook_dup_ * 100, hook_delay_max_, runner_options_.chunk);
  if (owned) {
    result_.setup += ", owners:";
    for (const auto& [f, s] : owner_) result_.setup += fmt::format(" {}={}", f, Name(s));
  }

  // The emulator.
  emulator::EmulatorOptions eo;
  eo.seed = opt_.seed;
  eo.limits.burst = 1'000'000;
  eo.limits.daily = 1'000'000'000;
  eo.search_lag_ms = lag_ms_;
  eo.now_ms = [this] { return Now(); };
  emu_ = std::make_unique<emulator::Emulator>(io_, eo);
  emulator::Location loc;
  loc.id = kLocation;
  loc.name = "Simulated";
  emu_->SeedLocation(loc, kToken);
  emu_->set_webhook_sink(std::make_unique<Sink>(*this));
  gateway_ = std::make_unique<Gateway>(*this);

  // The state file, on tmpfs when there is one.
  const char* base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  std::string tmpl = std::string(base) + "/ghl-sim-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    Fail("setup", "mkdtemp failed");
    return false;
  }
  dir_ = tmpl;
  StartRunner();
  return result_.ok;
}

void Sim::StartRunner() {
  auto opened = state::OpenSqlite({.path = std::filesystem::path(dir_) / "state.db",
                                   .clock = &clock_,
                                   .check_integrity = false});
  if (!opened.ok()) {
    Fail("setup", "opening the state file: " + opened.error().message);
    return;
  }
  state_ = std::move(opened).value();
  store_ = std::make_unique<sync::SyncStore>(state_->db());
  sync::RunnerOptions o = runner_options_;
  o.seed = runner_options_.seed + static_cast<uint64_t>(restarts_);
  runner_ =
      std::make_unique<sync::SyncRunner>(mapping_, std::make_unique<Connector>(*this), *gateway_,
                                         std::vector<std::string>{kLocation}, *store_, clock_, o);
}

void Sim::Restart(const char* why) {
  Log("CRASH ({}): the runner restarts on the same state file", why);
  runner_.reset();
  store_.reset();
  state_.reset();
  ++restarts_;
  StartRunner();
}

// ---- the daemon ----
void Sim::DeliverWebhooks(bool all) {
  // Due ones; with reordering faults, in random order.
  int budget = all ? 1000 : FrInt(1, 4);
  while (budget-- > 0 && result_.ok) {
    std::vector<size_t> due;
    for (size_t i = 0; i < deliveries_.size(); ++i) {
      if (all || deliveries_[i].due_ms <= Now()) due.push_back(i);
    }
    if (due.empty()) return;
    size_t pick = due.front();
    if (faults_on_ && hook_delay_max_ > 0)
      pick = due[static_cast<size_t>(FrInt(0, static_cast<int>(due.size()) - 1))];
    Delivery d = deliveries_[pick];
    deliveries_.erase(deliveries_.begin() + static_cast<std::ptrdiff_t>(pick));
    auto event = ghl_client::ParseWebhookEvent(d.body);
    if (!event.ok() || event->object != "contacts" ||
        (event->kind != ghl_client::WebhookKind::kUpsert &&
         event->kind != ghl_client::WebhookKind::kDelete)) {
      continue;
    }
    rapidjson::Document record;
    record.Parse(event->record_json.data(), event->record_json.size());
    if (!record.HasMember("id") && !event->id.empty()) {
      record.AddMember("id", rapidjson::Value(event->id.c_str(), record.GetAllocator()),
                       record.GetAllocator());
    }
    Log("webhook {} {}{} delivered", event->type, event->id, d.tried ? " (again)" : "");
    auto r = runner_->OnGhlRecord(event->location_id, record,
                                  event->kind == ghl_client::WebhookKind::kDelete, event->timestamp,
                                  d.tried, [] { return Ok(); });
    if (!r.ok()) {
      // The inbox keeps it and tries again.
      Log("webhook {} failed: {}; kept in the inbox", event->id, r.error().message);
      d.tried = true;
      d.due_ms = Now() + 1000;
      d.order = ++delivery_order_;
      deliveries_.push_back(std::move(d));
    }
  }
}

void Sim::Step() {
  ++result_.steps;
  Advance(FrInt(100, 3000));
  try {
    const int what = FrInt(0, 99);
    if (opt_.crashes && crash_rate_ > 0 && what < 4) {
      Restart("between steps");
    } else if (what < 35) {
      auto r = runner_->RunPass(false);
      if (!r.ok()) {
        Log("pass failed: {}", r.error().message);
      } else {
        Log("pass: examined {}, writes {} to GHL {} outside, conflicts {}{}", r->examined,
            r->ghl_writes, r->external_writes, r->conflicts,
            r->delete_guard_tripped ? ", DELETE GUARD TRIPPED" : "");
      }
    } else if (what < 70) {
      auto r = runner_->Dispatch();
      if (!r.ok())
        Log("dispatch failed: {}", r.error().message);
      else if (*r > 0)
        Log("dispatch: {} jobs", *r);
    } else {
      DeliverWebhooks(false);
    }
  } catch (const SimCrash&) {
    Restart("after a write applied");
  }
}

void Sim::Settle(int round) {
  faults_on_ = false;
  Log("-- settle after round {} (faults off) --", round);
  int quiet = 0;
  for (int i = 0; i < 40 && result_.ok; ++i) {
    const int64_t writes = ext_.writes + ghl_writes_;
    DeliverWebhooks(true);
    Advance(31'000);  // past any backoff (backoff_max_ms 30 s) and GHL's search lag
    auto pass = runner_->RunPass(false);
    if (!pass.ok()) {
      Fail("settle", "a pass failed with faults off: " + pass.error().message);
      return;
    }
    Log("pass: examined {}, writes {} to GHL {} outside, conflicts {}{}", pass->examined,
        pass->ghl_writes, pass->external_writes, pass->conflicts,
        pass->delete_guard_tripped ? ", DELETE GUARD TRIPPED" : "");
    for (int k = 0; k < 20; ++k) {
      auto d = runner_->Dispatch();
      if (!d.ok()) {
        Fail("settle", "a dispatch failed with faults off: " + d.error().message);
        return;
      }
      if (*d == 0) break;
      Log("dispatch: {} jobs", *d);
    }
    DeliverWebhooks(true);
    auto depth = store_->OutboxDepth(kSync);
    const bool still = ext_.writes + ghl_writes_ != writes || !deliveries_.empty() || !depth.ok() ||
                       *depth > 0 || pass->ghl_writes + pass->external_writes > 0;
    quiet = still ? 0 : quiet + 1;
    if (quiet >= 2) {
      faults_on_ = true;
      return;
    }
  }
  Fail("settle", "still writing after 40 settle passes");
}

// ---- the sides ----
const emulator::Record* Sim::GhlByEmail(const std::string& email) {
  auto ids = emu_->world().contacts.FindBy("emailLowerCase", kLocation, email);
  return ids.empty() ? nullptr : emu_->world().contacts.Find(ids.front());
}

std::string Sim::ExtKeyByEmail(const std::string& email) {
  for (const auto& [key, row] : ext_.rows) {
    if (Field(row.fields, "email") == email) return key;
  }
  return "";
}

std::string Sim::SideValue(Side side, const Person& p, const std::string& field) {
  if (side == Side::kGhl) {
    const emulator::Record* r = GhlByEmail(p.email);
    if (r == nullptr) return "";
    return emulator::GetString(r->doc, field.c_str()).value_or("");
  }
  const std::string key = ExtKeyByEmail(p.email);
  if (key.empty()) return "";
  for (const auto& [f, col] : kFields) {
    if (f == field) return Field(ext_.rows[key].fields, col);
  }
  return "";
}

std::string Sim::NewValue(const std::string& field, const std::set<std::string>& avoid) {
  const auto& pool = kPools.at(field);
  std::vector<std::string> choices;
  for (const auto& v : pool) {
    if (!avoid.count(v)) choices.push_back(v);
  }
  return choices.empty() ? pool.front() : Pick(choices);
}

void Sim::UserEdit(Side side, Person& p, const std::string& field, const std::string& value) {
  ++result_.edits;
  Log("USER {} edit p{} {} = {}", Name(side), p.n, field, value);
  if (side == Side::kGhl) {
    const emulator::Record* r = GhlByEmail(p.email);
    if (r == nullptr) return;
    const std::string id = r->id;
    emu_->ActAsUser(boost::beast::http::verb::put, "/contacts/" + id,
                    fmt::format(R"({{"{}":"{}"}})", field, value));
    return;
  }
  const std::string key = ExtKeyByEmail(p.email);
  if (key.empty()) return;
  ExtRow& row = ext_.rows[key];
  for (const auto& [f, col] : kFields) {
    if (f == field) row.fields[col] = value;
  }
  row.version = ext_.next_version++;
  row.updated_ms = Now();
}

void Sim::UserCreate(Side side, Person& p, const std::map<std::string, std::string>& values) {
  ++result_.edits;
  std::string shown;
  for (const auto& [f, v] : values) shown += " " + f + "=" + v;
  Log("USER {} create p{} {}{}", Name(side), p.n, p.email, shown);
  if (side == Side::kGhl) {
    std::string body = fmt::format(R"({{"locationId":"{}","email":"{}")", kLocation, p.email);
    for (const auto& [f, v] : values) body += fmt::format(R"(,"{}":"{}")", f, v);
    body += "}";
    auto reply = emu_->ActAsUser(boost::beast::http::verb::post, "/contacts/", body);
    if (reply.status >= 300) Log("  (GHL refused the create: {} {})", reply.status, reply.body);
    return;
  }
  std::string key = fmt::format("u{}", ext_.next_key++);
  ExtRow row;
  row.fields["id"] = key;
  row.fields["email"] = p.email;
  for (const auto& [f, col] : kFields) row.fields[col] = values.at(f);
  if (!ext_.soft_column.empty()) row.fields[ext_.soft_column] = std::string("");
  row.version = ext_.next_version++;
  row.updated_ms = Now();
  ext_.rows[key] = std::move(row);
}

void Sim::UserDelete(Side side, Person& p) {
  ++result_.edits;
  Log("USER {} delete p{} {}", Name(side), p.n, p.email);
  if (side == Side::kGhl) {
    const emulator::Record* r = GhlByEmail(p.email);
    if (r == nullptr) return;
    const std::string id = r->id;
    emu_->ActAsUser(boost::beast::http::verb::delete_, "/contacts/" + id, "");
    return;
  }
  const std::string key = ExtKeyByEmail(p.email);
  if (!key.empty()) ext_.rows.erase(key);
}

// ---- the workload ----
void Sim::Round(int round, bool last) {
  // Plan: gap -> actions.
  const int gaps = WlInt(3, 5);
  std::vector<std::vector<std::function<void()>>> plan(static_cast<size_t>(gaps));
  auto at = [&](int gap) -> auto& { return plan[static_cast<size_t>(gap)]; };
  const auto policy = policy_;
  auto winner = [&](const std::string& field, const std::string& g,
                    const std::string& e) -> std::set<std::string> {
    switch (policy) {
      case mapping::ConflictPolicy::kGhlWins:
        return {g};
      case mapping::ConflictPolicy::kExternalWins:
        return {e};
      case mapping::ConflictPolicy::kOwner:
        return {owner_[field] == Side::kGhl ? g : e};
      case mapping::ConflictPolicy::kNewest:
        return {g, e};
    }
    return {g, e};
  };

  if (round == 0) {
    for (int i = 0; i < opt_.records; ++i) {
      Person p;
      p.n = static_cast<int>(people_.size());
      p.email = fmt::format("p{}@sim.test", p.n);
      std::map<std::string, std::string> g, e;
      for (const auto& [f, _] : kFields) g[f] = e[f] = NewValue(f, {});
      int place = WlInt(0, 3);  // ghl only, ext only, both equal, both different
      if (!opt_.unlinked_pairs) place %= 2;
      if (place == 3) {
        for (const auto& [f, _] : kFields) {
          if (Wl(0.6)) e[f] = NewValue(f, {g[f]});
        }
      }
      for (const auto& [f, _] : kFields) {
        if (place == 0) p.want[f] = {g[f]};
        if (place == 1 || place == 2) p.want[f] = {e[f]};
        if (place == 3) {
          p.want[f] = g[f] == e[f] ? std::set<std::string>{g[f]} : winner(f, g[f], e[f]);
          if (g[f] != e[f]) conflicts_.push_back({p.n, f, round});
        }
      }
      people_.push_back(p);
      const int n = p.n;
      auto act = [this, n, place, g, e] {
        if (place != 1) UserCreate(Side::kGhl, people_[static_cast<size_t>(n)], g);
        if (place != 0) UserCreate(Side::kExt, people_[static_cast<size_t>(n)], e);
      };
      at(0).push_back(act);  // all before the first pass
    }
  } else {
    std::vector<int> live;
    for (const auto& p : people_) {
      if (!p.retired) live.push_back(p.n);
    }
    std::set<int> busy;  // created or deleted this round
    // Deletes.
    const bool bulk = last && Wl(0.3) && static_cast<int>(live.size()) >= kGuardMaxCount + 4;
    if (bulk) {
      const Side side = Wl(0.5) ? Side::kGhl : Side::kExt;
      const int gap = WlInt(0, gaps - 1);
      std::vector<int> chosen = live;
      std::shuffle(chosen.begin(), chosen.end(), wl_);
      chosen.resize(static_cast<size_t>(kGuardMaxCount + 1 + WlInt(0, 1)));
      Log("plan: bulk delete of {} records on {} in gap {}", chosen.size(), Name(side), gap);
      for (int n : chosen) {
        busy.insert(n);
        Person& p = people_[static_cast<size_t>(n)];
        p.retired = true;
        (side == Side::kGhl ? p.want_ghl : p.want_ext) = false;
        at(gap).push_back([this, side, n] { UserDelete(side, people_[static_cast<size_t>(n)]); });
      }
    } else if (static_cast<int>(live.size()) >= 8) {
      for (Side side : {Side::kGhl, Side::kExt}) {
        if (!Wl(0.4)) continue;
        int n = Pick(live);
        if (busy.count(n)) continue;
        busy.insert(n);
        Person& p = people_[static_cast<size_t>(n)];
        p.retired = true;
        (side == Side::kGhl ? p.want_ghl : p.want_ext) = false;
        switch (deletes_) {
          case mapping::DeletePolicy::kPropagate:
            p.want_ghl = p.want_ext = false;
            break;
          case mapping::DeletePolicy::kSoft:
            (side == Side::kGhl ? p.want_flag : p.want_tag) = true;
            break;
          case mapping::DeletePolicy::kIgnore:
            break;
        }
        at(WlInt(0, gaps - 1)).push_back([this, side, n] {
          UserDelete(side, people_[static_cast<size_t>(n)]);
        });
      }
    }
    // Creates: one side, or both at once with the same email.
    for (int k = WlInt(0, 2); k > 0; --k) {
      Person p;
      p.n = static_cast<int>(people_.size());
      p.email = fmt::format("p{}@sim.test", p.n);
      std::map<std::string, std::string> g, e;
      for (const auto& [f, _] : kFields) g[f] = e[f] = NewValue(f, {});
      int place = WlInt(0, 2);  // ghl, ext, both (some fields different)
      if (!opt_.unlinked_pairs) place %= 2;
      for (const auto& [f, _] : kFields) {
        if (place == 2 && Wl(0.5)) e[f] = NewValue(f, {g[f]});
        if (place == 0) p.want[f] = {g[f]};
        if (place == 1) p.want[f] = {e[f]};
        if (place == 2) {
          p.want[f] = g[f] == e[f] ? std::set<std::string>{g[f]} : winner(f, g[f], e[f]);
          if (g[f] != e[f]) conflicts_.push_back({p.n, f, round});
        }
      }
      busy.insert(p.n);
      people_.push_back(p);
      const int n = p.n;
      at(WlInt(0, gaps - 1)).push_back([this, n, place, g, e] {
        if (place != 1) UserCreate(Side::kGhl, people_[static_cast<size_t>(n)], g);
        if (place != 0) UserCreate(Side::kExt, people_[static_cast<size_t>(n)], e);
      });
    }
    // Edits.
    for (int n : live) {
      if (busy.count(n)) continue;
      for (const auto& [f, _] : kFields) {
        const double roll = std::uniform_real_distribution<double>(0, 1)(wl_);
        if (roll < 0.6) continue;
        if (roll < 0.88) {
          // One side, one or two edits.
          const Side side = Wl(0.5) ? Side::kGhl : Side::kExt;
          const int edits = Wl(0.7) ? 1 : 2;
          std::vector<int> when;
          for (int i = 0; i < edits; ++i) when.push_back(WlInt(0, gaps - 1));
          std::sort(when.begin(), when.end());
          // The values are chosen when the edit is made (different from what that side holds);
          // the last one is what must win.
          for (int i = 0; i < edits; ++i) {
            const bool final_edit = i + 1 == edits;
            const std::string field = f;
            at(when[static_cast<size_t>(i)]).push_back([this, side, n, field, final_edit] {
              Person& p = people_[static_cast<size_t>(n)];
              const std::string v = NewValue(field, {SideValue(side, p, field)});
              UserEdit(side, p, field, v);
              if (final_edit) p.want[field] = {v};
            });
          }
        } else {
          // Both sides in the same gap: a deliberate conflict.
          const int gap = WlInt(0, gaps - 1);
          const std::string field = f;
          const bool same = Wl(0.2);
          const int r = round;
          at(gap).push_back([this, n, field, same, r, winner] {
            Person& p = people_[static_cast<size_t>(n)];
            const std::string gv = SideValue(Side::kGhl, p, field);
            const std::string ev = SideValue(Side::kExt, p, field);
            const std::string g = NewValue(field, {gv, ev});
            const std::string e = same ? g : NewValue(field, {gv, ev, g});
            UserEdit(Side::kGhl, p, field, g);
            UserEdit(Side::kExt, p, field, e);
            p.want[field] = g == e ? std::set<std::string>{g} : winner(field, g, e);
            if (g != e) {
              conflicts_.push_back({n, field, r});
              Log("  (a conflict on p{} {}: GHL {} vs external {})", n, field, g, e);
            }
          });
        }
      }
    }
  }

  Log("-- round {} ({} gaps) --", round, gaps);
  for (int gap = 0; gap < gaps && result_.ok; ++gap) {
    for (auto& action : at(gap)) {
      // Users take a moment between two edits: no two changes share a millisecond (GHL's
      // timestamps could not order them).
      Advance(WlInt(1, 50));
      action();
    }
    const int steps = round == 0 && gap == 0 ? 1 : FrInt(1, 3);
    for (int s = 0; s < steps && result_.ok; ++s) Step();
  }
}

// ---- the oracle ----
void Sim::Check(int round) {
  if (!result_.ok) return;
  // Duplicates and strays.
  std::map<std::string, std::vector<std::string>> ghl_by_email, ext_by_email;
  for (const auto& [id, r] : emu_->world().contacts.all()) {
    if (r.location_id != kLocation) continue;
    ghl_by_email[emulator::GetString(r.doc, "email").value_or("")].push_back(id);
  }
  for (const auto& [key, row] : ext_.rows) ext_by_email[Field(row.fields, "email")].push_back(key);
  for (const auto& [email, ids] : ghl_by_email) {
    if (ids.size() > 1) {
      return Fail("duplicate", fmt::format("GHL has {} contacts with email {}", ids.size(), email));
    }
  }
  for (const auto& [email, keys] : ext_by_email) {
    if (keys.size() > 1) {
      return Fail("duplicate", fmt::format("the external side has {} rows with email {} (keys {})",
                                           keys.size(), email, fmt::join(keys, ", ")));
    }
  }
  std::set<std::string> known;
  for (const auto& p : people_) known.insert(p.email);
  for (const auto& [email, _] : ghl_by_email) {
    if (!known.count(email)) return Fail("duplicate", "GHL has a contact nobody made: " + email);
  }
  for (const auto& [email, _] : ext_by_email) {
    if (!known.count(email)) return Fail("duplicate", "a row nobody made: " + email);
  }

  // Presence and values.
  for (const auto& p : people_) {
    const emulator::Record* g = GhlByEmail(p.email);
    const std::string key = ExtKeyByEmail(p.email);
    const ExtRow* e = key.empty() ? nullptr : &ext_.rows[key];
    if ((g != nullptr) != p.want_ghl) {
      return Fail("presence", fmt::format("p{} ({}) should {}be in GHL{}", p.n, p.email,
                                          p.want_ghl ? "" : "no longer ",
                                          p.retired ? " (deleted on a side)" : ""));
    }
    if ((e != nullptr) != p.want_ext) {
      return Fail("presence", fmt::format("p{} ({}) should {}be outside{}", p.n, p.email,
                                          p.want_ext ? "" : "no longer ",
                                          p.retired ? " (deleted on a side)" : ""));
    }
    if (g != nullptr) {
      bool tagged = false;
      if (const auto* tags = emulator::GetArray(g->doc, "tags")) {
        for (const auto& t : tags->GetArray())
          tagged = tagged || std::string(t.GetString()) == "deleted";
      }
      if (tagged != p.want_tag) {
        return Fail("presence", fmt::format("p{}: GHL contact {} the soft-delete tag", p.n,
                                            tagged ? "has" : "lacks"));
      }
    }
    if (e != nullptr && !ext_.soft_column.empty()) {
      const bool flagged = Field(e->fields, ext_.soft_column) == "true";
      if (flagged != p.want_flag) {
        return Fail("presence", fmt::format("p{}: row {} {} the soft-delete flag", p.n, key,
                                            flagged ? "has" : "lacks"));
      }
    }
    for (const auto& [f, col] : kFields) {
      const auto& want = p.want.at(f);
      const std::string gv = g ? emulator::GetString(g->doc, f.c_str()).value_or("") : "";
      const std::string ev = e ? Field(e->fields, col) : "";
      auto shown = [&] { return fmt::format("{}", fmt::join(want, " or ")); };
      if (g != nullptr && !want.count(gv)) {
        return Fail("converge",
                    fmt::format("p{} {}: GHL holds '{}', expected {}", p.n, f, gv, shown()));
      }
      if (e != nullptr && !want.count(ev)) {
        return Fail("converge",
                    fmt::format("p{} {}: outside holds '{}', expected {}", p.n, f, ev, shown()));
      }
      if (g != nullptr && e != nullptr && !p.retired && gv != ev) {
        return Fail("converge",
                    fmt::format("p{} {}: GHL holds '{}', outside '{}'", p.n, f, gv, ev));
      }
    }
  }

  // Conflicts recorded.
  auto recorded = store_->Conflicts(kSync, 1'000'000);
  if (!recorded.ok()) return Fail("conflict", "reading conflicts: " + recorded.error().message);
  std::set<std::pair<int64_t, std::string>> have;
  for (const auto& c : recorded.value()) have.insert({c.link_id, c.field});
  for (const auto& c : conflicts_) {
    if (c.round != round) continue;
    const Person& p = people_[static_cast<size_t>(c.person)];
    const emulator::Record* g = GhlByEmail(p.email);
    if (g == nullptr) continue;
    auto link = store_->LinkByGhlId(kSync, g->id);
    if (!link.ok() || !link->has_value()) {
      return Fail("conflict", fmt::format("p{} has no link", p.n));
    }
    if (!have.count({(**link).id, c.field})) {
      return Fail("conflict", fmt::format("the conflict on p{} {} (round {}) was not recorded", p.n,
                                          c.field, round));
    }
  }

  if (ghl_echo_writes_ + ext_.echo_writes > 0) {
    return Fail("echo", fmt::format("{} GHL writes and {} external writes changed nothing",
                                    ghl_echo_writes_, ext_.echo_writes));
  }
  auto dead = store_->DeadLetters(kSync, 10);
  if (dead.ok() && !dead->empty()) {
    std::string why;
    for (const auto& d : dead.value()) {
      why +=
          fmt::format("\n  link {} {} {}: {}", d.link_id, sync::ToString(d.target), d.op, d.error);
    }
    return Fail("dead_letter", "the dead-letter queue is not empty:" + why);
  }
}

SimResult Sim::Run() {
  if (!opt_.verbose) spdlog::set_level(spdlog::level::off);
  if (Setup()) {
    for (int round = 0; round <= opt_.rounds && result_.ok; ++round) {
      Round(round, round == opt_.rounds);
      if (!result_.ok) break;
      Settle(round);
      Check(round);
    }
  }
  runner_.reset();
  store_.reset();
  state_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  return std::move(result_);
}

}  // namespace

SimResult RunSeed(const SimOptions& options) {
  Sim sim(options);
  return sim.Run();
}

Shrunk RunAndShrink(const SimOptions& options) {
  Shrunk out;
  out.first = RunSeed(options);
  out.smallest = out.first;
  out.smallest_options = options;
  if (out.first.ok) return out;
  // The sizes the seed chose, so that shrinking starts from them.
  SimOptions best = options;
  auto try_with = [&](SimOptions o) {
    o.verbose = false;
    SimResult r = RunSeed(o);
    if (r.ok) return false;
    if (r.history.size() >= out.smallest.history.size()) return false;
    out.smallest = std::move(r);
    out.smallest_options = o;
    best = o;
    return true;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (int rounds = 0; rounds < 5; ++rounds) {
      SimOptions o = best;
      o.rounds = rounds;
      if (try_with(o)) break;
    }
    for (int records = 1; records < 14; ++records) {
      SimOptions o = best;
      o.records = records;
      if (try_with(o)) break;
    }
    for (int k = 0; k < 3; ++k) {
      SimOptions o = best;
      if (k == 0) o.crashes = false;
      if (k == 1) o.webhook_faults = false;
      if (k == 2) o.faults = false;
      try_with(o);
    }
  }
  return out;
}

std::string Describe(const SimOptions& options, const SimResult& result, size_t max_lines) {
  std::string out =
      fmt::format("seed {}: {}\n", options.seed, result.ok ? "ok" : "FAILED " + result.check);
  out += fmt::format("  options: records {}, rounds {}, faults {}, webhook faults {}, crashes {}\n",
                     options.records, options.rounds, options.faults, options.webhook_faults,
                     options.crashes);
  out += "  setup: " + result.setup + "\n";
  if (!result.ok) out += "  violated: " + result.check + ": " + result.details + "\n";
  out += fmt::format("  history ({} lines, {} edits, {} daemon steps):\n", result.history.size(),
                     result.edits, result.steps);
  const size_t n = result.history.size();
  const size_t from = n > max_lines ? n - max_lines : 0;
  if (from > 0) out += fmt::format("    ... {} earlier lines\n", from);
  for (size_t i = from; i < n; ++i) out += "    " + result.history[i] + "\n";
  return out;
}

}  // namespace ghl::sim
