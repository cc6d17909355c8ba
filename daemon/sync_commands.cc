#include "daemon/sync_commands.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/executor_work_guard.hpp>
#include <iostream>
#include <sstream>
#include <thread>

#include "config/config.h"
#include "connectors/ghl/webhook_event.h"
#include "daemon/ghl_setup.h"
#include "state/inbox.h"
#include "state/rate_budget.h"
#include "state/sqlite_state_store.h"
#include "sync/engine.h"
#include "sync/progress.h"
#include "sync/store.h"

namespace ghl::daemon {
namespace {

constexpr int kExitUsage = 64;

std::shared_ptr<const config::Config> LoadConfig(const std::string& path) {
  auto loaded = config::Load(path);
  for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
  return loaded.config;
}

Result<std::unique_ptr<state::SqliteStateStore>> OpenState(const config::Config& config) {
  state::OpenOptions options;
  options.path = config.state.path;
  options.busy_timeout = config.state.busy_timeout;
  // The running daemon checked the file at its start; reading every page again on each
  // command would make `status` on a large state file slow.
  options.check_integrity = false;
  return state::OpenSqlite(options);
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  return state::FormatUtcIso8601(Clock::TimePoint(std::chrono::milliseconds(ms)));
}

std::string Clip(std::string s, size_t n) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s.size() > n ? s.substr(0, n - 3) + "..." : s;
}

void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w, const sync::DeadLetter& d,
               bool full) {
  w.StartObject();
  w.Key("id");
  w.Int64(d.id);
  w.Key("sync");
  w.String(d.sync.c_str());
  w.Key("link_id");
  w.Int64(d.link_id);
  w.Key("target");
  w.String(sync::ToString(d.target));
  w.Key("op");
  w.String(d.op.c_str());
  w.Key("attempts");
  w.Int(d.attempts);
  w.Key("error");
  w.String(d.error.c_str());
  w.Key("failed_at");
  w.String(Time(d.failed_at).c_str());
  if (full) {
    w.Key("payload");
    w.String(d.payload.c_str());
    w.Key("response_body");
    w.String(d.response_body.c_str());
    w.Key("trace_id");
    w.String(d.trace_id.c_str());
    w.Key("created_at");
    w.String(Time(d.created_at).c_str());
  }
  w.EndObject();
}

// A webhook the engine gave up on (state/inbox.h FailedInboxRow): its event type, read
// from the body as the engine reads it (flat or `data`-wrapped), for the listing.
std::string EventType(const std::string& body) {
  auto event = ghl_client::ParseWebhookEvent(body);
  return event.ok() && !event->type.empty() ? event->type : "?";
}

void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w, const state::FailedInboxRow& f,
               bool full) {
  w.StartObject();
  w.Key("id");
  w.String(("w" + std::to_string(f.id)).c_str());
  w.Key("kind");
  w.String("webhook");
  w.Key("type");
  w.String(EventType(f.body).c_str());
  w.Key("webhook_id");
  w.String(f.webhook_id.c_str());
  w.Key("attempts");
  w.Int(f.attempts);
  w.Key("error");
  w.String(f.error.c_str());
  w.Key("failed_at");
  w.String(Time(f.failed_at).c_str());
  if (full) {
    w.Key("received_at");
    w.String(Time(f.received_at).c_str());
    w.Key("body");
    w.String(f.body.c_str());
  }
  w.EndObject();
}

// An entry id as the operator types it: "12" (a write, sync/store.h) or "w12" (a webhook).
struct EntryId {
  bool webhook = false;
  int64_t id = 0;
};

std::optional<EntryId> ParseEntryId(const std::string& text) {
  EntryId e;
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == 'w' || digits[0] == 'W')) {
    e.webhook = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  e.id = std::stoll(std::string(digits));
  return e;
}

int Dlq(const SyncCommands& c, const config::Config& config) {
  auto store = OpenState(config);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  sync::SyncStore s((*store)->db());
  state::InboxStore inbox((*store)->db());
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // Failed webhooks belong to no one sync: listed (and replayed with --all) without --sync.
  auto failed_webhooks = [&](int limit) -> Result<std::vector<state::FailedInboxRow>> {
    if (!c.sync.empty()) return std::vector<state::FailedInboxRow>{};
    return inbox.Failed(limit);
  };
  if (c.dlq_list->parsed()) {
    auto entries = s.DeadLetters(c.sync, c.limit);
    auto webhooks = failed_webhooks(c.limit);
    if (!entries.ok() || !webhooks.ok()) {
      std::cerr << (entries.ok() ? webhooks.error() : entries.error()).message << "\n";
      return 1;
    }
    if (c.json) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      w.StartArray();
      for (const auto& d : entries.value()) WriteJson(w, d, false);
      for (const auto& f : webhooks.value()) WriteJson(w, f, false);
      w.EndArray();
      std::cout << b.GetString() << "\n";
      return 0;
    }
    if (entries->empty() && webhooks->empty()) {
      std::cout << "The dead-letter queue is empty.\n";
      return 0;
    }
    if (!entries->empty()) {
      std::cout << fmt::format("{:>6}  {:<16} {:<8} {:<7} {:>4}  {:<20}  {}\n", "ID", "SYNC",
                               "TARGET", "OP", "TRY", "FAILED AT", "ERROR");
      for (const auto& d : entries.value()) {
        std::cout << fmt::format("{:>6}  {:<16} {:<8} {:<7} {:>4}  {:<20}  {}\n", d.id,
                                 Clip(d.sync, 16), sync::ToString(d.target), d.op, d.attempts,
                                 Time(d.failed_at), Clip(d.error, 90));
      }
    }
    if (!webhooks->empty()) {
      std::cout << fmt::format(
          "{}Webhooks the engine gave up on (`dlq replay wID` once the cause is fixed):\n"
          "{:>6}  {:<25} {:>4}  {:<20}  {}\n",
          entries->empty() ? "" : "\n", "ID", "EVENT", "TRY", "FAILED AT", "ERROR");
      for (const auto& f : webhooks.value()) {
        std::cout << fmt::format("{:>6}  {:<25} {:>4}  {:<20}  {}\n", "w" + std::to_string(f.id),
                                 Clip(EventType(f.body), 25), f.attempts, Time(f.failed_at),
                                 Clip(f.error, 100));
      }
    }
    return 0;
  }
  std::optional<EntryId> one;
  if (!c.id.empty()) {
    one = ParseEntryId(c.id);
    if (!one) {
      std::cerr << "'" << c.id << "' is not an entry id: give the number `dlq list` shows (w12 "
                << "for a webhook)\n";
      return kExitUsage;
    }
  }
  if (c.dlq_show->parsed()) {
    // The entry as JSON (--json) or as text, or an error when there is none.
    auto show = [&](const auto& entry, const auto& text) {
      if (!entry.ok() || !entry->has_value()) {
        std::cerr << "no dead-letter entry " << c.id << "\n";
        return 1;
      }
      if (c.json) {
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        WriteJson(w, **entry, true);
        std::cout << b.GetString() << "\n";
      } else {
        text(**entry);
      }
      return 0;
    };
    if (one->webhook) {
      return show(inbox.FailedById(one->id), [](const state::FailedInboxRow& f) {
        std::cout << fmt::format(
            "id:          w{}\nkind:        webhook\nevent:       {}\nwebhookId:   {}\n"
            "attempts:    {}\nreceived at: {}\nfailed at:   {}\nerror:       {}\nbody:        {}\n",
            f.id, EventType(f.body), f.webhook_id, f.attempts, Time(f.received_at),
            Time(f.failed_at), f.error, f.body);
      });
    }
    return show(s.DeadLetterById(one->id), [](const sync::DeadLetter& d) {
      std::cout << fmt::format(
          "id:          {}\nsync:        {}\nlink:        {}\ntarget:      {}\nop:          {}\n"
          "attempts:    {}\ncreated at:  {}\nfailed at:   {}\nerror:       {}\ntrace id:    {}\n"
          "payload:     {}\nresponse:    {}\n",
          d.id, d.sync, d.link_id, sync::ToString(d.target), d.op, d.attempts, Time(d.created_at),
          Time(d.failed_at), d.error, d.trace_id.empty() ? "-" : d.trace_id, d.payload,
          d.response_body.empty() ? "-" : d.response_body);
    });
  }
  // replay / drop: one id, or --all (of --sync)
  const bool replay = c.dlq_replay->parsed();
  std::vector<EntryId> ids;
  if (c.all) {
    auto entries = s.DeadLetters(c.sync, 1'000'000);
    auto webhooks = failed_webhooks(1'000'000);
    if (!entries.ok() || !webhooks.ok()) {
      std::cerr << (entries.ok() ? webhooks.error() : entries.error()).message << "\n";
      return 1;
    }
    for (const auto& d : entries.value()) ids.push_back({false, d.id});
    for (const auto& f : webhooks.value()) ids.push_back({true, f.id});
  } else if (one) {
    ids.push_back(*one);
  } else {
    std::cerr << "give an entry id, or --all\n";
    return kExitUsage;
  }
  int64_t done = 0;
  int64_t superseded = 0;
  auto r = s.Transaction([&]() -> Result<void> {
    for (const EntryId& e : ids) {
      if (e.webhook) {
        auto changed = replay ? inbox.Retry(e.id) : inbox.Drop(e.id);
        if (!changed.ok()) return changed.error();
        done += changed.value() ? 1 : 0;
        continue;
      }
      if (!replay) {
        auto dropped = s.Drop(e.id);
        if (!dropped.ok()) return dropped.error();
        done += dropped.value() ? 1 : 0;
        continue;
      }
      auto replayed = s.Replay(e.id, now);
      if (!replayed.ok()) return replayed.error();
      done += replayed.value() == sync::SyncStore::Replayed::kQueued ? 1 : 0;
      superseded += replayed.value() == sync::SyncStore::Replayed::kSuperseded ? 1 : 0;
    }
    return Ok();
  });
  if (!r.ok()) {
    std::cerr << r.error().message << "\n";
    return 1;
  }
  if (!c.all && done + superseded == 0) {
    std::cerr << "no dead-letter entry " << c.id << "\n";
    return 1;
  }
  std::cout << fmt::format(
      "{} {} entr{}{}\n", replay ? "replayed" : "dropped", done, done == 1 ? "y" : "ies",
      replay ? " (writes back in the outbox, webhooks back in the inbox; the running daemon "
               "retries them)"
             : "");
  if (superseded > 0) {
    std::cout << fmt::format(
        "removed {} out-of-date entr{}: a newer write of the same record is already waiting "
        "in the outbox (decided later, from fresher values), so {} not replayed over it\n",
        superseded, superseded == 1 ? "y" : "ies", superseded == 1 ? "it was" : "they were");
  }
  return 0;
}

// `ghl-syncd audit`: the writes the engine made, newest first (sync/store.h AuditEntry).
int Audit(const SyncCommands& c, const config::Config& config) {
  auto store = OpenState(config);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  sync::SyncStore s((*store)->db());
  auto entries = s.Audit(c.sync, c.record, c.limit);
  if (!entries.ok()) {
    std::cerr << entries.error().message << "\n";
    return 1;
  }
  if (c.json) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    auto raw = [&](const std::string& json) {
      const std::string& v = json.empty() ? std::string("{}") : json;
      w.RawValue(v.c_str(), v.size(), rapidjson::kObjectType);
    };
    w.StartArray();
    for (const auto& e : entries.value()) {
      w.StartObject();
      w.Key("id");
      w.Int64(e.id);
      w.Key("sync");
      w.String(e.sync.c_str());
      w.Key("link_id");
      w.Int64(e.link_id);
      w.Key("at");
      w.String(Time(e.at).c_str());
      w.Key("at_ms");
      w.Int64(e.at);
      w.Key("direction");
      w.String(e.direction.c_str());
      w.Key("action");
      w.String(e.action.c_str());
      w.Key("ghl_id");
      w.String(e.ghl_id.c_str());
      w.Key("external_key");
      w.String(e.ext_key.c_str());
      w.Key("before");
      raw(e.before_json);
      w.Key("after");
      raw(e.after_json);
      w.Key("rule");
      w.String(e.rule.c_str());
      w.Key("trace_id");
      w.String(e.trace_id.c_str());
      w.EndObject();
    }
    w.EndArray();
    std::cout << b.GetString() << "\n";
    return 0;
  }
  if (entries->empty()) {
    std::cout << "No audit entries" << (c.record.empty() ? "" : " for record " + c.record) << ".\n";
    return 0;
  }
  for (const auto& e : entries.value()) {
    std::cout << fmt::format("{}  {:<16} {:<11} {:<6} ghl={} external={}  # {}{}\n", Time(e.at),
                             Clip(e.sync, 16), e.direction, e.action,
                             e.ghl_id.empty() ? "-" : e.ghl_id, e.ext_key.empty() ? "-" : e.ext_key,
                             e.rule.empty() ? "-" : e.rule,
                             e.trace_id.empty() ? "" : "  trace " + e.trace_id);
    std::cout << fmt::format("    before: {}\n    after:  {}\n", Clip(e.before_json, 200),
                             Clip(e.after_json, 200));
  }
  return 0;
}

int Status(const SyncCommands& c, const config::Config& config) {
  auto store = OpenState(config);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  auto& db = (*store)->db();
  sync::SyncStore s(db);
  state::InboxStore inbox(db);
  state::RateBudgetStore budgets(db);
  const auto now = std::chrono::system_clock::now();
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t today = now_ms / 86'400'000;
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  if (!c.json) std::cout << "state: " << (*store)->Describe() << "\n\nsyncs:\n";
  w.Key("syncs");
  w.StartArray();
  for (const auto& m : config.mappings) {
    if (!c.sync.empty() && m.name != c.sync) continue;
    auto links = s.CountLinks(m.name);
    auto outbox = s.OutboxDepth(m.name);
    auto dlq = s.DeadLetterCount(m.name);
    auto held = s.HeldDeleteCount(m.name);
    auto cursor = s.Cursor(m.name, "connector");
    const int64_t l = links.ok() ? links.value() : -1;
    const int64_t o = outbox.ok() ? outbox.value() : -1;
    const int64_t d = dlq.ok() ? dlq.value() : -1;
    const int64_t h = held.ok() ? held.value() : -1;
    std::vector<std::pair<std::string, std::string>> ghl_cursors;
    for (const auto& loc : config.ghl.locations) {
      auto gc = s.Cursor(m.name, "ghl:" + loc.id);
      ghl_cursors.push_back({loc.id, gc.ok() && gc->has_value() ? **gc : ""});
    }
    bool backfilled = true;
    for (const auto& [loc, value] : ghl_cursors) backfilled = backfilled && !value.empty();
    // The running engine's pace (sync/engine.h kProgressCursor), if it is recent.
    double rate = 0, eta = -1;
    int64_t at = 0;
    if (auto p = s.Cursor(m.name, sync::kProgressCursor); p.ok() && p->has_value()) {
      std::istringstream in(**p);
      if (!(in >> rate >> eta >> at) || now_ms - at > 120'000) rate = 0, eta = -1, at = 0;
    }
    w.StartObject();
    w.Key("name");
    w.String(m.name.c_str());
    w.Key("links");
    w.Int64(l);
    w.Key("outbox");
    w.Int64(o);
    w.Key("dead_letters");
    w.Int64(d);
    w.Key("held_deletes");
    w.Int64(h);
    w.Key("backfill_done");
    w.Bool(backfilled && o == 0);
    w.Key("write_rate");
    w.Double(rate);
    w.Key("eta_seconds");
    w.Double(eta);
    w.Key("ghl_cursors");
    w.StartObject();
    for (const auto& [loc, value] : ghl_cursors) {
      w.Key(loc.c_str());
      w.String(value.c_str());
    }
    w.EndObject();
    w.EndObject();
    if (!c.json) {
      std::string progress =
          !backfilled ? "backfill: not started or in progress"
          : o > 0
              ? fmt::format(
                    "{} write(s) pending ({:.1f}% of {} linked records done)", o,
                    l + o > 0 ? 100.0 * static_cast<double>(l) / static_cast<double>(l + o) : 100.0,
                    l)
              : "in step";
      if (o > 0 && at > 0) {
        progress += fmt::format(", {:.1f} written/s", rate);
        if (eta >= 0) progress += ", about " + sync::Duration(eta) + " left";
      }
      std::cout << fmt::format("  {:<20} {:>8} linked  {:>6} in outbox  {:>5} dead letters  {}\n",
                               m.name, l, o, d, progress);
      if (h > 0) {
        std::cout << fmt::format(
            "  {:<20} {} delete(s) held by the mass-delete guard (ghl-syncd deletes list --sync "
            "{})\n",
            "", h, m.name);
      }
    }
  }
  w.EndArray();
  auto depth = inbox.Depth();
  auto oldest = inbox.OldestPendingAgeMs(now_ms);
  w.Key("inbox_depth");
  w.Int64(depth.ok() ? depth.value() : -1);
  w.Key("inbox_oldest_ms");
  w.Int64(oldest.ok() && oldest->has_value() ? **oldest : 0);
  auto failed = inbox.FailedCount();
  w.Key("inbox_failed");
  w.Int64(failed.ok() ? failed.value() : -1);
  if (!c.json) {
    std::cout << fmt::format(
        "\nwebhook inbox: {} pending{}{}\n", depth.ok() ? depth.value() : -1,
        oldest.ok() && oldest->has_value()
            ? fmt::format(", oldest {:.1f}s", static_cast<double>(**oldest) / 1000)
            : "",
        failed.ok() && failed.value() > 0
            ? fmt::format(", {} given up on (ghl-syncd dlq list)", failed.value())
            : "");
    std::cout << "\nGHL daily budget (per location, UTC day):\n";
  }
  w.Key("budgets");
  w.StartObject();
  for (const auto& loc : config.ghl.locations) {
    auto stored = budgets.Load("location/" + loc.id);
    const int64_t used =
        stored.ok() && stored->has_value() && (*stored)->day == today ? (*stored)->used : 0;
    const int64_t left = config.ghl.rate_limit.daily - used;
    w.Key(loc.id.c_str());
    w.StartObject();
    w.Key("used");
    w.Int64(used);
    w.Key("remaining");
    w.Int64(left);
    w.EndObject();
    if (!c.json) {
      std::cout << fmt::format("  {:<24} {:>7} used  {:>7} left of {}\n", loc.id, used, left,
                               config.ghl.rate_limit.daily);
    }
  }
  w.EndObject();
  w.EndObject();
  if (c.json) std::cout << b.GetString() << "\n";
  return 0;
}

int Plan(const SyncCommands& c, const config::Config& config) {
  config::Diagnostics errors;
  auto syncs = sync::BuildSyncs(config, errors);
  for (const auto& d : errors) std::cerr << d.ToString() << "\n";
  if (!errors.empty()) return 78;
  auto it = std::find_if(syncs.begin(), syncs.end(), [&](const sync::SyncSetup& s) {
    return s.mapping->spec().name == c.sync;
  });
  if (it == syncs.end()) {
    std::cerr << "no sync named '" << c.sync << "' (mapping files: ";
    for (const auto& s : syncs) std::cerr << s.mapping->spec().name << " ";
    std::cerr << ")\n";
    return kExitUsage;
  }
  auto store = OpenState(config);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  GhlStack stack(config);
  std::thread loop([&] { stack.Run(); });
  sync::SyncStore s((*store)->db());
  SystemClock clock;
  sync::SyncRunner runner(std::move(it->mapping), std::move(it->connector), stack.gateway(),
                          it->locations, s, clock);
  auto report = runner.RunPass(/*dry_run=*/true);
  const int64_t reads = stack.gateway().calls_made();
  stack.Stop();
  loop.join();
  if (!report.ok()) {
    std::cerr << "plan failed: " << report.error().message << "\n";
    return 1;
  }
  state::RateBudgetStore budgets((*store)->db());
  const int64_t today = std::chrono::duration_cast<std::chrono::hours>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() /
                        24;
  int64_t remaining = 0;
  for (const auto& loc : runner.locations()) {
    auto stored = budgets.Load("location/" + loc);
    const int64_t used =
        stored.ok() && stored->has_value() && (*stored)->day == today ? (*stored)->used : 0;
    remaining += config.ghl.rate_limit.daily - used;
  }
  const auto& r = report.value();
  if (c.json) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("sync");
    w.String(c.sync.c_str());
    w.Key("decisions");
    w.StartArray();
    for (const auto& d : r.decisions) {
      w.StartObject();
      w.Key("action");
      w.String(sync::ToString(d.action));
      w.Key("target");
      w.String(d.target.c_str());
      w.Key("ghl_id");
      w.String(d.ghl_id.c_str());
      w.Key("external_key");
      w.String(d.ext_key.c_str());
      w.Key("diff");
      w.StartObject();
      for (const auto& [field, change] : d.diff) {
        w.Key(field.c_str());
        w.StartObject();
        w.Key("before");
        w.RawValue(mapping::ToJson(change.first).c_str(), mapping::ToJson(change.first).size(),
                   rapidjson::kObjectType);
        w.Key("after");
        w.RawValue(mapping::ToJson(change.second).c_str(), mapping::ToJson(change.second).size(),
                   rapidjson::kObjectType);
        w.EndObject();
      }
      w.EndObject();
      w.Key("note");
      w.String(d.note.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.Key("ghl_writes");
    w.Int64(r.ghl_writes);
    w.Key("ghl_calls_to_apply");
    w.Int64(r.ghl_writes + r.ghl_lookups);
    w.Key("external_writes");
    w.Int64(r.external_writes);
    w.Key("conflicts");
    w.Int64(r.conflicts);
    w.Key("errors");
    w.Int64(r.errors);
    w.Key("delete_guard_tripped");
    w.Bool(r.delete_guard_tripped);
    w.Key("ghl_reads_used");
    w.Int64(reads);
    w.Key("ghl_daily_remaining");
    w.Int64(remaining);
    w.EndObject();
    std::cout << b.GetString() << "\n";
    return 0;
  }
  int64_t shown = 0;
  for (const auto& d : r.decisions) {
    if (d.action == sync::Decision::Action::kSkip && d.note == "no field changed") continue;
    ++shown;
    std::cout << fmt::format(
        "{:<8} {:<9} ghl={} external={}{}\n", sync::ToString(d.action),
        d.target.empty() ? "-" : d.target, d.ghl_id.empty() ? "(new)" : d.ghl_id,
        d.ext_key.empty() ? "(new)" : d.ext_key, d.note.empty() ? "" : "  # " + d.note);
    for (const auto& [field, change] : d.diff) {
      std::cout << fmt::format("    {}: {} -> {}\n", field, mapping::Display(change.first),
                               mapping::Display(change.second));
    }
  }
  if (shown == 0) std::cout << "Nothing to do: both sides are in step.\n";
  std::cout << fmt::format(
      "\n{} write(s) to GHL, {} to the external side, {} conflict(s), {} record(s) with errors{}\n"
      "GHL calls: {} used to read for this plan; {} to apply it; {} left today.\n",
      r.ghl_writes, r.external_writes, r.conflicts, r.errors,
      r.delete_guard_tripped ? "; the delete guard would hold this pass's deletes" : "", reads,
      r.ghl_writes + r.ghl_lookups, remaining);
  return 0;
}

}  // namespace

void AddSyncCommands(CLI::App& cli, std::string& config_path, SyncCommands& c) {
  auto with_config = [&](CLI::App* app) {
    app->add_option("-c,--config", config_path, "Configuration file (env GHL_SYNCD_CONFIG)")
        ->capture_default_str();
  };
  c.dlq = cli.add_subcommand(
      "dlq", "The dead-letter queue: writes GHL or a connector refused, webhooks given up on");
  c.dlq->require_subcommand(1);
  c.dlq_list = c.dlq->add_subcommand("list", "List entries, newest first");
  c.dlq_list->add_option("--sync", c.sync, "Only this sync");
  c.dlq_list->add_option("--limit", c.limit, "At most this many")->capture_default_str();
  c.dlq_list->add_flag("--json", c.json, "JSON output");
  c.dlq_show = c.dlq->add_subcommand("show", "Show one entry with its payload and GHL's answer");
  c.dlq_show->add_option("id", c.id, "Entry id (w12 for a webhook)")->required();
  c.dlq_show->add_flag("--json", c.json, "JSON output");
  c.dlq_replay = c.dlq->add_subcommand(
      "replay", "Put entries back: writes into the outbox, webhooks into the inbox");
  c.dlq_drop = c.dlq->add_subcommand("drop", "Delete entries for good");
  for (auto* app : {c.dlq_replay, c.dlq_drop}) {
    app->add_option("id", c.id, "Entry id (w12 for a webhook)");
    app->add_flag("--all", c.all, "Every entry (of --sync, if given)");
    app->add_option("--sync", c.sync, "With --all: only this sync");
  }
  for (auto* app : {c.dlq_list, c.dlq_show, c.dlq_replay, c.dlq_drop}) with_config(app);
  c.status = cli.add_subcommand("status", "Links, outbox, dead letters, inbox and budgets");
  c.status->add_option("--sync", c.sync, "Only this sync");
  c.status->add_flag("--json", c.json, "JSON output");
  with_config(c.status);
  c.plan = cli.add_subcommand(
      "plan", "Show what one pass of a sync would do, and its API cost, writing nothing");
  c.plan->add_option("--sync", c.sync, "The sync (mapping file name)")->required();
  c.plan->add_flag("--json", c.json, "JSON output");
  with_config(c.plan);
  c.audit = cli.add_subcommand(
      "audit", "The writes the sync engine made, newest first: direction, before/after, rule");
  c.audit->add_option("--sync", c.sync, "Only this sync");
  c.audit->add_option("--record", c.record, "Only this record (a GHL id or an external key)");
  c.audit->add_option("--limit", c.limit, "At most this many")->capture_default_str();
  c.audit->add_flag("--json", c.json, "JSON output");
  with_config(c.audit);
}

int RunSyncCommands(const SyncCommands& c, const std::string& config_path) {
  if (!c.dlq->parsed() && !c.status->parsed() && !c.plan->parsed() && !c.audit->parsed()) {
    return -1;
  }
  auto config = LoadConfig(config_path);
  if (!config) return 78;
  if (c.dlq->parsed()) return Dlq(c, *config);
  if (c.status->parsed()) return Status(c, *config);
  if (c.audit->parsed()) return Audit(c, *config);
  return Plan(c, *config);
}

}  // namespace ghl::daemon
