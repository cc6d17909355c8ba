#include "daemon/deletes_command.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <iostream>
#include <limits>

#include "config/config.h"
#include "state/sqlite_state_store.h"
#include "sync/store.h"

namespace ghl::daemon {
namespace {

constexpr int kExitUsage = 64;

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  return state::FormatUtcIso8601(Clock::TimePoint(std::chrono::milliseconds(ms)));
}

// Why the delete was decided ("deleted outside", "deleted in GHL", ...), from its payload.
std::string Rule(const std::string& payload) {
  rapidjson::Document doc;
  doc.Parse(payload.data(), payload.size());
  if (doc.IsObject()) {
    if (auto it = doc.FindMember("rule"); it != doc.MemberEnd() && it->value.IsString()) {
      return it->value.GetString();
    }
  }
  return "";
}

void WriteJson(rapidjson::Writer<rapidjson::StringBuffer>& w, const sync::HeldDelete& h) {
  w.StartObject();
  w.Key("id");
  w.Int64(h.id);
  w.Key("sync");
  w.String(h.sync.c_str());
  w.Key("link_id");
  w.Int64(h.link_id);
  w.Key("ghl_id");
  w.String(h.ghl_id.c_str());
  w.Key("external_key");
  w.String(h.ext_key.c_str());
  w.Key("deleted_side");
  w.String(sync::ToString(h.deleted_side));
  w.Key("target");
  w.String(sync::ToString(h.job.target));
  w.Key("op");
  w.String(h.job.op.c_str());
  w.Key("source");
  w.String(h.source.c_str());
  w.Key("rule");
  w.String(Rule(h.job.payload).c_str());
  w.Key("changed_since");
  w.Bool(h.changed);
  w.Key("held_at");
  w.String(Time(h.held_at).c_str());
  w.EndObject();
}

int List(const DeletesCommand& c, sync::SyncStore& s) {
  auto held = s.HeldDeletes(c.sync, c.limit);
  if (!held.ok()) {
    std::cerr << held.error().message << "\n";
    return 1;
  }
  if (c.json) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartArray();
    for (const auto& h : held.value()) WriteJson(w, h);
    w.EndArray();
    std::cout << b.GetString() << "\n";
    return 0;
  }
  if (held->empty()) {
    std::cout << "No deletes are held.\n";
    return 0;
  }
  std::cout << fmt::format("{:>6}  {:<16} {:<20}  {:<7}  {:<10} {:<24} {:<20}  {}\n", "ID", "SYNC",
                           "HELD AT", "FROM", "DELETE IN", "GHL ID", "EXTERNAL KEY", "WHY");
  for (const auto& h : held.value()) {
    std::string why = Rule(h.job.payload);
    if (h.changed) why += "; changed since: kept on release";
    std::cout << fmt::format("{:>6}  {:<16} {:<20}  {:<7}  {:<10} {:<24} {:<20}  {}\n", h.id,
                             h.sync, Time(h.held_at), h.source, sync::ToString(h.job.target),
                             h.ghl_id.empty() ? "-" : h.ghl_id, h.ext_key.empty() ? "-" : h.ext_key,
                             why.empty() ? "-" : why);
  }
  std::cout << fmt::format(
      "\n{} held. If the deletions are real: ghl-syncd deletes release --all{}; if not: fix the "
      "source, then ghl-syncd deletes drop --all{} (the records are kept, unlinked).\n",
      held->size(), c.sync.empty() ? "" : " --sync " + c.sync,
      c.sync.empty() ? "" : " --sync " + c.sync);
  return 0;
}

// release / drop: the given ids, or every one (of --sync) with --all.
int Act(const DeletesCommand& c, sync::SyncStore& s) {
  const bool release = c.release->parsed();
  if (c.all == !c.ids.empty()) {
    std::cerr << "give held delete ids (`ghl-syncd deletes list`), or --all\n";
    return kExitUsage;
  }
  std::vector<int64_t> ids = c.ids;
  if (c.all) {
    auto held = s.HeldDeletes(c.sync, std::numeric_limits<int>::max());
    if (!held.ok()) {
      std::cerr << held.error().message << "\n";
      return 1;
    }
    for (const auto& h : held.value()) ids.push_back(h.id);
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t queued = 0, kept = 0, gone = 0, dropped = 0;
  std::vector<int64_t> missing;
  auto r = s.Transaction([&]() -> Result<void> {
    for (int64_t id : ids) {
      if (!c.sync.empty()) {
        auto h = s.HeldDeleteById(id);
        if (!h.ok()) return h.error();
        if (!h->has_value() || (**h).sync != c.sync) {
          missing.push_back(id);
          continue;
        }
      }
      if (!release) {
        auto done = s.DropHeldDelete(id, now);
        if (!done.ok()) return done.error();
        if (done.value()) {
          ++dropped;
        } else {
          missing.push_back(id);
        }
        continue;
      }
      auto done = s.ReleaseHeldDelete(id, now);
      if (!done.ok()) return done.error();
      switch (done.value()) {
        case sync::SyncStore::Released::kQueued:
          ++queued;
          break;
        case sync::SyncStore::Released::kKept:
          ++kept;
          break;
        case sync::SyncStore::Released::kGone:
          ++gone;
          break;
        case sync::SyncStore::Released::kNotFound:
          missing.push_back(id);
          break;
      }
    }
    return Ok();
  });
  if (!r.ok()) {
    std::cerr << r.error().message << "\n";
    return 1;
  }
  for (int64_t id : missing) {
    std::cerr << "no held delete " << id << (c.sync.empty() ? "" : " in sync " + c.sync) << "\n";
  }
  if (release) {
    std::cout << fmt::format(
        "released {} held delete(s): they are in the outbox, the running "
        "daemon makes them\n",
        queued);
    if (kept > 0) {
      std::cout << fmt::format(
          "kept {} record(s) that changed after their delete was held: the pairs are unlinked, "
          "nothing deleted\n",
          kept);
    }
    if (gone > 0) {
      std::cout << fmt::format("removed {} whose pair was unlinked or deleted meanwhile\n", gone);
    }
  } else {
    std::cout << fmt::format(
        "dropped {} held delete(s): the pairs are unlinked, no record was deleted\n", dropped);
  }
  return missing.empty() ? 0 : 1;
}

}  // namespace

void AddDeletesCommand(CLI::App& cli, std::string& config_path, DeletesCommand& c) {
  c.deletes = cli.add_subcommand(
      "deletes", "Deletes the mass-delete guard held: list, release (make them) or drop them");
  c.deletes->require_subcommand(1);
  c.list = c.deletes->add_subcommand("list", "List the held deletes, oldest first");
  c.list->add_option("--limit", c.limit, "At most this many")->capture_default_str();
  c.list->add_flag("--json", c.json, "JSON output");
  c.release = c.deletes->add_subcommand(
      "release", "Make held deletes: enqueue them as the pass would have; the daemon makes them");
  c.drop = c.deletes->add_subcommand(
      "drop", "Discard held deletes: unlink the pairs, delete nothing on either side");
  for (auto* app : {c.release, c.drop}) {
    app->add_option("id", c.ids, "Held delete ids (`deletes list`)");
    app->add_flag("--all", c.all, "Every held delete (of --sync, if given)");
  }
  for (auto* app : {c.list, c.release, c.drop}) {
    app->add_option("--sync", c.sync, "Only this sync");
    app->add_option("-c,--config", config_path, "Configuration file (env GHL_SYNCD_CONFIG)")
        ->capture_default_str();
  }
}

int RunDeletesCommand(const DeletesCommand& c, const std::string& config_path) {
  if (c.deletes == nullptr || !c.deletes->parsed()) return -1;
  auto loaded = config::Load(config_path);
  for (const auto& d : loaded.errors) std::cerr << d.ToString() << "\n";
  if (!loaded.config) return 78;
  state::OpenOptions options;
  options.path = loaded.config->state.path;
  options.busy_timeout = loaded.config->state.busy_timeout;
  options.check_integrity = false;  // the running daemon checked it at its start
  auto store = state::OpenSqlite(options);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  sync::SyncStore s((*store)->db());
  if (c.list->parsed()) return List(c, s);
  return Act(c, s);
}

}  // namespace ghl::daemon
