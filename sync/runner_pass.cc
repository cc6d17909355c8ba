// SyncRunner: finding changes and deciding (RunPass, OnGhlRecord).
#include <spdlog/spdlog.h>

#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "config/schema.h"
#include "sync/delete_guard.h"
#include "sync/runner.h"
#include "sync/runner_internal.h"

namespace ghl::sync {

using namespace runner_internal;
using ghl_client::Lane;

namespace {

constexpr const char* kConnectorCursor = "connector";
std::string GhlCursorName(const std::string& location) { return "ghl:" + location; }

bool OlderThan(const std::string& a, const std::string& b) {
  auto ma = ParseIsoMs(a);
  auto mb = ParseIsoMs(b);
  return ma && mb && *ma < *mb;
}

// The version of the record a delete job removes, as the outcome's item saw it (RunPass
// and OnGhlRecord put the GHL record's dateUpdated on the link of a delete outcome).
const std::string& VersionOfTarget(const Link& link, Target target) {
  return target == Target::kGhl ? link.ghl_version : link.ext_version;
}

// Whether the record a held delete would remove changed after it was held: another
// version of the row; a later dateUpdated (or webhook time) of the GHL record.
bool ChangedSince(const HeldDelete& held, const std::string& version) {
  if (version.empty() || held.version.empty() || version == held.version) return false;
  if (held.job.target != Target::kGhl) return true;
  auto now = ParseIsoMs(version);
  auto then = ParseIsoMs(held.version);
  return !now || !then || *now > *then;
}

std::string Pair(const Link& link) {
  return fmt::format("GHL {} / external {}", link.ghl_id.value_or("-"), link.ext_key.value_or("-"));
}

}  // namespace

Result<SyncRunner::Pending> SyncRunner::LoadPending() {
  Pending out;
  auto creates = store_.PendingCreates(name());
  if (!creates.ok()) return creates.error();
  for (const auto& c : creates.value()) {
    ParsedPayload p;
    if (!ParsePayload(c.payload, &p)) continue;
    if (c.target == Target::kExternal) {
      if (!p.key.empty()) out.ext_by_key[p.key] = c.link_id;
      // A connector that assigns its own keys (a REST API) gives the row another key than
      // the create asked for: it is known by what the create wrote.
      for (const auto& key : CreateKeys(mapping_->spec(), p.canonical)) {
        out.ext_by_match[key] = c.link_id;
      }
      continue;
    }
    for (const auto& key : CreateKeys(mapping_->spec(), p.canonical)) {
      out.ghl_by_match[key] = c.link_id;
    }
  }
  return out;
}

Result<std::optional<Link>> SyncRunner::PendingLink(const Pending& pending, const GhlRecord* ghl,
                                                    const Row* ext) {
  int64_t id = 0;
  if (ext != nullptr) {
    auto it = pending.ext_by_key.find(ext->key);
    if (it != pending.ext_by_key.end()) id = it->second;
    if (id == 0 && !pending.ext_by_match.empty()) {
      auto canonical = mapping_->ToCanonical(ext->fields);
      if (canonical.ok()) {
        for (const auto& key : CreateKeys(mapping_->spec(), *canonical.value)) {
          auto m = pending.ext_by_match.find(key);
          if (m != pending.ext_by_match.end()) {
            id = m->second;
            break;
          }
        }
      }
    }
  }
  if (ghl != nullptr) {
    for (const auto& key : CreateKeys(mapping_->spec(), ghl->fields)) {
      auto it = pending.ghl_by_match.find(key);
      if (it != pending.ghl_by_match.end()) {
        id = it->second;
        break;
      }
    }
  }
  if (id == 0) return std::optional<Link>();
  return store_.LinkById(id);
}

Result<void> SyncRunner::Collect(std::vector<Item>& items, PassReport& report, bool& complete,
                                 std::string& ext_cursor,
                                 std::map<std::string, std::string>& ghl_cursors) {
  const std::string& sync = name();
  std::map<int64_t, size_t> by_link;  // link id -> item
  auto pending = LoadPending();
  if (!pending.ok()) return pending.error();
  for (const auto& location : locations_) {
    auto cursor = store_.Cursor(sync, GhlCursorName(location));
    if (!cursor.ok()) return cursor.error();
    const int64_t poll_started = NowMs();
    std::string since;
    if (cursor->has_value()) {
      auto at = ParseIsoMs(**cursor);
      // A cursor ahead of our clock (the clock was stepped back) starts from now.
      since = at ? FormatIsoMs(std::min(*at, poll_started) - options_.poll_overlap_ms) : "";
    }
    const Lane lane = since.empty() ? Lane::kBackfill : Lane::kReconcile;
    auto polled = ghl_.Poll(location, since, lane);
    if (!polled.ok()) {
      // One location that cannot be read (paused after its token was refused, the app
      // uninstalled) does not stop the others or the connector: its cursor stays, and the
      // records linked to it wait (FillMissing fails for them; they hold the cursors).
      spdlog::warn("sync {}: GHL location {} not polled: {}; tried again next pass", sync, location,
                   polled.error().message);
      ++report.unpolled;
      continue;
    }
    // The cursor: the newest change seen, or, on a quiet location, `poll_skew_ms` before
    // the poll began. The next poll starts `poll_overlap_ms` before it (GHL's search lag),
    // so a quiet location is not re-read back to its last change on every pass, and a
    // clock up to `poll_skew_ms` ahead of GHL's misses nothing.
    std::string next = polled->newest.empty() ? cursor->value_or("") : polled->newest;
    const int64_t settled = poll_started - options_.poll_skew_ms;
    if (auto at = ParseIsoMs(next); !at || *at < settled) next = FormatIsoMs(settled);
    ghl_cursors[location] = next;
    for (auto& record : polled->records) {
      auto link = store_.LinkByGhlId(sync, record.id);
      if (!link.ok()) return link.error();
      if (!link->has_value()) link = PendingLink(pending.value(), &record, nullptr);
      if (!link.ok()) return link.error();
      if (link->has_value() && by_link.count((**link).id) > 0) continue;
      if (link->has_value()) {
        const Link& l = **link;
        if (l.deleted) continue;
        // Seen already (the overlap window), or older than our own last write (lagging
        // search index): nothing new.
        if (l.ghl_version == record.date_updated || OlderThan(record.date_updated, l.ghl_version)) {
          continue;
        }
      }
      Item item;
      item.location = location;
      item.link = std::move(link.value());
      item.ghl = std::move(record);
      item.ghl_from_poll = true;
      if (item.link) by_link[item.link->id] = items.size();
      items.push_back(std::move(item));
    }
  }

  // The connector: every page of this scan.
  auto stored = store_.Cursor(sync, kConnectorCursor);
  if (!stored.ok()) return stored.error();
  std::string cursor = stored->value_or("");
  std::unordered_set<std::string> seen;
  bool any_rejected = false;
  bool all_complete = true;
  while (true) {
    auto page = connector_->Scan(cursor, static_cast<size_t>(options_.scan_page));
    if (!page.ok()) {
      return Error{fmt::format("sync {}: reading {}: {}", sync, connector_->Describe(),
                               page.error().message)};
    }
    for (const auto& bad : page->rejected) {
      spdlog::warn("sync {}: {}: row skipped: {}; fix the row, it is read again on the next scan",
                   sync, bad.where, bad.reason);
      any_rejected = true;
      ++report.rejected;
    }
    // The page's links in one query: most rows of a big file are unchanged, and telling so
    // must not read each row's whole link.
    std::vector<std::string> keys;
    keys.reserve(page->rows.size());
    for (const auto& row : page->rows) keys.push_back(row.key);
    auto sides = store_.ExtSides(sync, keys);
    if (!sides.ok()) return sides.error();
    std::unordered_map<std::string_view, const SyncStore::ExtSide*> linked;
    for (const auto& side : sides.value()) linked.emplace(side.ext_key, &side);
    for (auto& row : page->rows) {
      seen.insert(row.key);
      auto side = linked.find(row.key);
      if (side != linked.end() && side->second->ext_version == row.version &&
          by_link.count(side->second->id) == 0) {
        ++report.unchanged;
        continue;
      }
      Result<std::optional<Link>> link = std::optional<Link>();
      if (side != linked.end()) link = store_.LinkByExtKey(sync, row.key);
      if (!link.ok()) return link.error();
      if (!link->has_value()) link = PendingLink(pending.value(), nullptr, &row);
      if (!link.ok()) return link.error();
      if (link->has_value() && (**link).ext_version == row.version) {
        // Unchanged (or our own write); still needed when GHL changed the record.
        auto it = by_link.find((**link).id);
        if (it != by_link.end())
          items[it->second].ext = std::move(row);
        else
          ++report.unchanged;
        continue;
      }
      if (link->has_value() && (**link).deleted && row.deleted) continue;
      if (link->has_value()) {
        auto it = by_link.find((**link).id);
        if (it != by_link.end()) {
          items[it->second].ext = std::move(row);
          continue;
        }
      }
      Item item;
      item.location = link->has_value() ? (**link).location : locations_.front();
      item.link = std::move(link.value());
      item.ext = std::move(row);
      if (item.link) by_link[item.link->id] = items.size();
      items.push_back(std::move(item));
    }
    all_complete = all_complete && page->complete;
    cursor = page->cursor;
    if (page->done) break;
    Yield();
  }
  ext_cursor = cursor;
  complete = all_complete && !any_rejected;

  // Links whose sides are to be read again (SyncRunner::ReadAgainLater): FillMissing reads
  // whatever side the poll and the scan did not bring.
  auto reread = store_.LinksToReread(sync, options_.scan_page);
  if (!reread.ok()) return reread.error();
  for (auto& link : reread.value()) {
    if (by_link.count(link.id) > 0) continue;
    Item item;
    item.location = link.location;
    item.link = std::move(link);
    by_link[item.link->id] = items.size();
    items.push_back(std::move(item));
  }

  // A complete scan that did not see a linked key: deleted at the source.
  if (complete) {
    int64_t after = 0;
    while (true) {
      auto sides = store_.LinkedExtKeys(sync, after, 1000);
      if (!sides.ok()) return sides.error();
      if (sides->empty()) break;
      for (const auto& side : sides.value()) {
        after = side.id;
        if (seen.count(side.ext_key) > 0) continue;
        // Linked, or given its key, while the pass yielded: the scan began before that.
        if (saved_while_passing_.count(side.id) > 0) continue;
        auto it = by_link.find(side.id);
        if (it != by_link.end()) {
          items[it->second].ext_deleted = !items[it->second].ext.has_value();
          continue;
        }
        auto link = store_.LinkById(side.id);
        if (!link.ok()) return link.error();
        if (!link->has_value()) continue;
        Item item;
        item.location = (**link).location;
        item.link = std::move(link.value());
        item.ext_deleted = true;
        by_link[item.link->id] = items.size();
        items.push_back(std::move(item));
      }
    }
  }
  // Records linked in a location this sync no longer serves (the app uninstalled there,
  // the location removed from the configuration or the mapping) are left alone: reading
  // their GHL side would fail on every pass and hold every cursor.
  std::erase_if(items, [&](const Item& item) {
    const bool unserved = item.link.has_value() && std::find(locations_.begin(), locations_.end(),
                                                             item.location) == locations_.end();
    if (unserved) ++report.unserved;
    return unserved;
  });
  return Ok();
}

Result<void> SyncRunner::FillMissing(std::vector<Item>& items, PassReport& report, Lane lane,
                                     bool complete) {
  // GHL side of linked records that changed only outside: fetched concurrently. Also of
  // those that changed on both sides as far as the poll tells: GHL's search lags, so the
  // record it listed may be older than GHL's, and a write decided on it could go over a
  // newer change unseen. Those are read by id (which does not lag) before deciding.
  std::map<std::string, std::vector<size_t>> fetch;  // location -> items
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    if (!it.link || !it.link->ghl_id) continue;
    const bool both =
        it.ghl && it.ghl_from_poll && it.ext && it.ext->version != it.link->ext_version;
    if ((!it.ghl && !it.ghl_deleted) || both) {
      fetch[it.location].push_back(i);
    }
  }
  for (auto& [location, slots] : fetch) {
    std::vector<std::string> ids;
    for (size_t i : slots) ids.push_back(*items[i].link->ghl_id);
    auto fetched = ghl_.Fetch(location, ids, lane);
    report.api_reads += static_cast<int64_t>(ids.size());
    for (size_t k = 0; k < slots.size(); ++k) {
      Item& item = items[slots[k]];
      switch (fetched[k].state) {
        case Fetched::State::kFound:
          item.ghl = std::move(fetched[k].record);
          break;
        case Fetched::State::kNotFound:
          item.ghl_deleted = true;
          break;
        case Fetched::State::kFailed:
          item.error = "reading GHL record " + ids[k] + ": " + fetched[k].error;
          break;
      }
    }
  }
  // External side of linked records that changed only in GHL.
  for (Item& item : items) {
    if (!item.link || !item.link->ext_key || item.ext || item.ext_deleted) continue;
    if (complete) {
      item.ext_deleted = true;  // a complete scan did not see it
      continue;
    }
    auto row = connector_->Get(*item.link->ext_key);
    if (!row.ok()) {
      item.error = "reading " + connector_->Describe() + ": " + row.error().message;
    } else if (!row->has_value()) {
      item.ext_deleted = true;
    } else {
      item.ext = std::move(**row);
    }
  }
  // First-time linking: a new GHL record and a new external row with the same match key
  // (normalised email or phone) become one pair.
  const auto& match = mapping_->spec().match;
  if (match.empty()) return Ok();
  std::map<std::string, size_t> ext_index;
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    if (item.link || !item.ext || item.ghl) continue;
    auto canonical = mapping_->ToCanonical(item.ext->fields);
    if (!canonical.ok()) continue;
    for (const auto& field : match) {
      auto v = canonical.value->find(field);
      if (v == canonical.value->end()) continue;
      const std::string key = MatchKey(field, v->second);
      if (!key.empty()) ext_index.emplace(key, i);
    }
  }
  for (Item& item : items) {
    if (item.link || !item.ghl || item.ext || item.dead) continue;
    for (const auto& field : match) {
      auto v = item.ghl->fields.find(field);
      if (v == item.ghl->fields.end()) continue;
      auto hit = ext_index.find(MatchKey(field, v->second));
      if (hit == ext_index.end() || items[hit->second].ghl) continue;
      items[hit->second].ghl = std::move(item.ghl);
      items[hit->second].location = item.location;
      items[hit->second].ghl_from_poll = item.ghl_from_poll;
      item.dead = true;
      break;
    }
  }
  return Ok();
}

Result<SyncRunner::GuardWrites> SyncRunner::ApplyGuard(std::vector<Outcome>& outcomes,
                                                       PassReport& report,
                                                       const std::map<int64_t, HeldDelete>& held,
                                                       const char* source, bool dry_run,
                                                       std::optional<int64_t> linked) {
  GuardWrites writes;
  // A held delete stands until the operator releases or drops it: deciding it again neither
  // makes it nor counts it twice. Any other outcome means the deleted record is back.
  std::erase_if(outcomes, [&](const Outcome& o) {
    auto it = o.link.id == 0 ? held.end() : held.find(o.link.id);
    if (it == held.end() || !o.wait.empty()) return false;
    const HeldDelete& h = it->second;
    if (o.deletes == 0) {
      writes.cancel.push_back(o.link.id);
      if (!dry_run) {
        spdlog::info(
            "sync {}: {}: the record deleted on the {} side is back; its held delete is "
            "dropped",
            name(), Pair(o.link), ToString(h.deleted_side));
      }
      return false;
    }
    if (!h.changed && ChangedSince(h, VersionOfTarget(o.link, h.job.target))) {
      writes.changed.push_back(o.link.id);
      if (!dry_run) {
        spdlog::warn(
            "sync {}: {}: the {} record changed after its delete was held; releasing the delete "
            "will keep it (and unlink the pair)",
            name(), Pair(o.link), ToString(h.job.target));
      }
    }
    return true;
  });

  int64_t deletes = 0;
  for (const auto& o : outcomes) deletes += o.deletes;
  if (deletes == 0) return writes;
  auto total = linked ? Result<int64_t>(*linked) : store_.CountLinks(name());
  if (!total.ok()) return total.error();
  const auto& guard = mapping_->spec().delete_guard;
  const int64_t now = NowMs();
  RecentDeletes recent;
  if (guard.window.count() > 0) {
    auto since = store_.DeletesSince(name(), now - guard.window.count());
    if (!since.ok()) return since.error();
    recent = since.value();
  }
  const GuardWeighing w = WeighDeletes(guard, total.value(), recent, deletes);
  if (!w.hold) {
    writes.made = deletes;
    return writes;
  }
  report.delete_guard_tripped = true;
  report.deletes_held += deletes;
  if (dry_run) {
    std::erase_if(outcomes, [](const Outcome& o) { return o.deletes > 0; });
    return writes;
  }
  spdlog::error(
      "sync {}: {} delete(s) from {} held: with the {} made and {} held in the last {}, that is "
      "{} of {} linked records ({:.1f}%), over the guard (delete_guard: max_count {}, max_share "
      "{:.1f}%, window {}); nothing was deleted. `ghl-syncd deletes list --sync {}` shows them. "
      "If the deletions are real, `ghl-syncd deletes release --sync {} --all`; if not (an empty "
      "or truncated export? a bulk delete in GHL?), fix the source and `ghl-syncd deletes drop` "
      "them (the records are kept, unlinked)",
      name(), deletes, std::string(source) == "webhook" ? "a webhook" : "this pass", recent.made,
      recent.held, config::FormatDuration(guard.window), w.deletes, w.linked, w.share * 100,
      guard.max_count, guard.max_share * 100, config::FormatDuration(guard.window), name(), name());
  if (counters_.delete_guard) counters_.delete_guard();
  std::erase_if(outcomes, [&](const Outcome& o) {
    if (o.deletes == 0 || o.jobs.empty()) return o.deletes > 0;
    HeldDelete h;
    h.sync = name();
    h.link_id = o.link.id;
    h.ghl_id = o.link.ghl_id.value_or("");
    h.ext_key = o.link.ext_key.value_or("");
    h.job = o.jobs.front();
    h.job.sync = name();
    h.job.link_id = o.link.id;
    h.job.idempotency_key =
        IdempotencyKey(name(), o.link.id, h.job.target, h.job.op, h.job.payload);
    h.deleted_side = h.job.target == Target::kGhl ? Target::kExternal : Target::kGhl;
    h.source = source;
    h.version = VersionOfTarget(o.link, h.job.target);
    h.held_at = now;
    writes.hold.push_back(std::move(h));
    return true;
  });
  return writes;
}

Result<void> SyncRunner::WriteGuard(const GuardWrites& writes) {
  for (const HeldDelete& h : writes.hold) {
    if (auto r = store_.HoldDelete(h); !r.ok()) return r.error();
  }
  for (int64_t link_id : writes.changed) {
    if (auto r = store_.MarkHeldChanged(link_id); !r.ok()) return r;
  }
  for (int64_t link_id : writes.cancel) {
    if (auto r = store_.ForgetHeldDelete(link_id); !r.ok()) return r.error();
  }
  return store_.RecordDeletesMade(name(), writes.made, NowMs());
}

Result<void> SyncRunner::Commit(std::vector<Outcome>& outcomes,
                                const std::function<Result<void>()>& also, bool* missed) {
  const int64_t now = NowMs();
  const size_t chunk = static_cast<size_t>(std::max(1, options_.chunk));
  size_t begin = 0;
  do {
    if (begin > 0) Yield();
    const size_t end = std::min(outcomes.size(), begin + chunk);
    const bool last = end == outcomes.size();
    auto done = store_.Transaction([&]() -> Result<void> {
      for (size_t i = begin; i < end; ++i) {
        Outcome& o = outcomes[i];
        if (!o.save) continue;
        o.link.updated_at = now;
        // A link read before is saved only as it was read: a webhook's change or a write's
        // result saved since (while a pass yielded) is not written over.
        auto id = store_.SaveLinkIfUnchanged(o.link);
        if (!id.ok()) {
          spdlog::error("sync {}: could not record the link of {}{}: {}", name(),
                        o.link.ghl_id.value_or(""), o.link.ext_key ? "/" + *o.link.ext_key : "",
                        id.error().message);
          if (missed != nullptr) *missed = true;
          continue;
        }
        if (!id->has_value()) {
          spdlog::debug("sync {}: link {} changed while this was decided; read again next pass",
                        name(), o.link.id);
          if (auto r = store_.ReadLinkAgain(o.link.id); !r.ok()) return r;
          if (missed != nullptr) *missed = true;
          continue;
        }
        o.link.id = **id;
        if (yielding_) saved_while_passing_.insert(o.link.id);
        if (o.cancel_pending && std::none_of(o.jobs.begin(), o.jobs.end(), [&](const Job& j) {
              return j.target == *o.cancel_pending;
            })) {
          // A create never sent for a record that turned out to be there already.
          if (auto r = store_.DropPendingJob(o.link.id, *o.cancel_pending); !r.ok()) return r;
        }
        for (Job& job : o.jobs) {
          job.sync = name();
          job.link_id = o.link.id;
          job.idempotency_key = IdempotencyKey(name(), o.link.id, job.target, job.op, job.payload);
          auto pending = store_.PendingJob(o.link.id, job.target);
          if (!pending.ok()) return pending.error();
          if (pending->has_value() && (**pending).idempotency_key == job.idempotency_key) continue;
          job.created_at = now;
          job.next_attempt_at = now;
          if (auto q = store_.Enqueue(job); !q.ok()) return q.error();
        }
        for (ConflictRecord& c : o.conflicts) {
          c.link_id = o.link.id;
          if (auto r = store_.RecordConflict(c); !r.ok()) return r;
          if (counters_.conflict) counters_.conflict();
        }
        for (auto& [job, error] : o.dead_letters) {
          job.sync = name();
          job.link_id = o.link.id;
          job.idempotency_key = IdempotencyKey(name(), o.link.id, job.target, job.op, job.payload);
          job.created_at = now;
          if (auto r = store_.DeadLetterJob(job, error, "", "", now); !r.ok()) return r;
          if (counters_.dead_letter) counters_.dead_letter();
        }
      }
      if (last && also) return also();
      return Ok();
    });
    if (!done.ok()) return done;
    begin = end;
  } while (begin < outcomes.size());
  return Ok();
}

Result<PassReport> SyncRunner::RunPass(bool dry_run) {
  // Open for the yield (SetYield) while the pass runs, unless it is a dry run.
  struct Passing {
    SyncRunner& r;
    explicit Passing(SyncRunner& runner, bool on) : r(runner) {
      r.saved_while_passing_.clear();
      r.passing_ = on;
    }
    ~Passing() {
      r.passing_ = false;
      r.saved_while_passing_.clear();
    }
  } passing(*this, !dry_run);
  PassReport report;
  std::vector<Item> items;
  bool complete = false;
  std::string ext_cursor;
  std::map<std::string, std::string> ghl_cursors;
  bool backfill = false;
  for (const auto& location : locations_) {
    auto c = store_.Cursor(name(), GhlCursorName(location));
    if (c.ok() && !c->has_value()) backfill = true;
  }
  if (auto collected = Collect(items, report, complete, ext_cursor, ghl_cursors); !collected.ok()) {
    return collected.error();
  }
  std::map<int64_t, HeldDelete> held;  // by link: deletes the guard holds
  std::vector<int64_t> back;           // ... whose deleted row the scan saw again
  if (auto set_aside = SetAsideHeld(items, complete, held, back); !set_aside.ok()) {
    return set_aside.error();
  }
  const Lane lane = backfill ? Lane::kBackfill : Lane::kReconcile;
  if (auto filled = FillMissing(items, report, lane, complete); !filled.ok()) {
    return filled.error();
  }
  std::vector<Outcome> outcomes;
  // Outcomes with deletes wait for the mass-delete guard, which weighs the whole pass; the
  // others are committed as they come, a batch at a time, so that a first pass over a
  // million records does not hold a million outcomes besides the records. The cursors
  // advance with the last batch, as before.
  std::vector<Outcome> deleting;
  constexpr size_t kCommitBatch = 10'000;
  std::optional<int64_t> links_before;  // the guard's measure, taken before the first batch
  bool hold_cursors = false;
  bool missed = false;  // a link saved meanwhile (SetYield): the cursors stay
  size_t decided = 0;
  for (Item& item : items) {
    if (item.dead) continue;
    if (++decided % 256 == 0) Yield();
    ++report.examined;
    if (!item.error.empty()) {
      spdlog::warn("sync {}: {}; retried on the next pass", name(), item.error);
      hold_cursors = true;
      continue;
    }
    Outcome o = Decide(item, lane);
    // The deleted record's other side as this pass saw it, for a delete the guard holds.
    if (o.deletes > 0 && item.ghl && !item.ghl->date_updated.empty()) {
      o.link.ghl_version = item.ghl->date_updated;
    }
    if (!o.wait.empty()) {
      if (!dry_run) {
        spdlog::info("sync {}: {}: {}; read again on the next pass", name(),
                     item.ghl ? "GHL " + item.ghl->id
                              : (item.ext ? connector_->Describe() + " row " + item.ext->key : ""),
                     o.wait);
      }
      ++report.waiting;
      hold_cursors = true;
      if (dry_run) outcomes.push_back(std::move(o));
      continue;
    }
    for (const auto& job : o.jobs) {
      ++(job.target == Target::kGhl ? report.ghl_writes : report.external_writes);
    }
    if (mapping_->spec().object == mapping::GhlObject::kContacts) {
      for (const auto& d : o.decisions) {
        // The dispatcher looks a contact up before it creates it (SyncRunner::DispatchGhl).
        if (d.action == Decision::Action::kCreate && d.target == "ghl") ++report.ghl_lookups;
      }
    }
    report.conflicts += static_cast<int64_t>(o.conflicts.size());
    report.errors += static_cast<int64_t>(o.dead_letters.size());
    if (!backfill && item.ghl_from_poll && item.link &&
        std::any_of(o.jobs.begin(), o.jobs.end(),
                    [](const Job& j) { return j.target == Target::kExternal; })) {
      ++report.poll_only;
      if (!dry_run && counters_.poll_only) counters_.poll_only();
    }
    const bool guarded = o.deletes > 0 || (o.link.id != 0 && held.count(o.link.id) > 0);
    (!dry_run && guarded ? deleting : outcomes).push_back(std::move(o));
    item = Item();  // decided: a backfill of a million records need not hold both forms
    if (!dry_run && outcomes.size() >= kCommitBatch) {
      if (!links_before) {
        auto counted = store_.CountLinks(name());
        if (!counted.ok()) return counted.error();
        links_before = counted.value();
      }
      if (auto committed = Commit(
              outcomes, [] { return Ok(); }, &missed);
          !committed.ok()) {
        return committed.error();
      }
      outcomes.clear();
    }
  }
  if (dry_run) {
    if (auto guard = ApplyGuard(outcomes, report, held, "pass", true); !guard.ok()) {
      return guard.error();
    }
    for (auto& o : outcomes) {
      for (auto& d : o.decisions) report.decisions.push_back(std::move(d));
    }
    return report;
  }
  auto guard = ApplyGuard(deleting, report, held, "pass", false, links_before);
  if (!guard.ok()) return guard.error();
  guard->cancel.insert(guard->cancel.end(), back.begin(), back.end());
  for (auto& o : deleting) outcomes.push_back(std::move(o));
  const int64_t now = NowMs();
  auto advance = [&]() -> Result<void> {
    if (auto written = WriteGuard(*guard); !written.ok()) return written;
    if (hold_cursors || missed) return Ok();
    for (const auto& [location, value] : ghl_cursors) {
      if (value.empty()) continue;
      if (auto r = store_.SetCursor(name(), GhlCursorName(location), value, now); !r.ok()) {
        return r;
      }
    }
    return store_.SetCursor(name(), kConnectorCursor, ext_cursor, now);
  };
  if (auto committed = Commit(outcomes, advance, &missed); !committed.ok()) {
    return committed.error();
  }
  return report;
}

Result<void> SyncRunner::OnGhlRecord(const std::string& location_id, const rapidjson::Value& record,
                                     bool deleted, const std::string& event_time, bool retried,
                                     const std::function<Result<void>()>& also) {
  Item item;
  item.location = location_id;
  std::string id;
  if (auto m = record.FindMember("id"); m != record.MemberEnd() && m->value.IsString()) {
    id = m->value.GetString();
  }
  if (id.empty()) return Error{"the webhook's record has no id"};
  auto link = store_.LinkByGhlId(name(), id);
  if (!link.ok()) return link.error();
  item.link = std::move(link.value());
  if (item.link && item.link->deleted) return store_.Transaction(also);
  if (deleted) {
    if (!item.link) return store_.Transaction(also);  // never linked: nothing to do
    item.ghl_deleted = true;
  } else if ((retried && !item.link) || (item.link && item.link->ghl_version.empty())) {
    // A webhook tried again is old news, and its record is not linked: GHL may have deleted
    // it since (its delete webhook then found nothing to do), and creating it now would
    // bring back what GHL no longer has. A linked record whose version is not known (it is
    // to be read again: SyncRunner::ReadAgainLater) cannot tell a delayed payload from a
    // new one. Either way the record is read from GHL, not the payload.
    auto fetched = ghl_.Fetch(location_id, {id}, Lane::kRealtime);
    if (fetched[0].state == Fetched::State::kFailed) {
      return Error{"reading GHL record " + id + ": " + fetched[0].error};
    }
    if (fetched[0].state == Fetched::State::kNotFound && !item.link) {
      spdlog::info("sync {}: webhook for GHL {}: the record is gone from GHL since; nothing to do",
                   name(), id);
      return store_.Transaction(also);
    }
    if (fetched[0].state == Fetched::State::kNotFound) {
      item.ghl_deleted = true;
    } else {
      item.ghl = std::move(fetched[0].record);
    }
  } else {
    auto parsed = ghl_.Parse(location_id, record, /*partial=*/true);
    if (!parsed.ok()) return parsed.error();
    item.ghl = std::move(parsed.value());
  }
  if (item.ghl) {
    if (item.ghl->date_updated.empty()) item.ghl->date_updated = event_time;
    if (!item.link) {
      // Perhaps the echo of a create whose result is not recorded yet.
      auto pending = LoadPending();
      if (!pending.ok()) return pending.error();
      auto owner = PendingLink(pending.value(), &*item.ghl, nullptr);
      if (!owner.ok()) return owner.error();
      item.link = std::move(owner.value());
    }
    if (!item.link && !mapping_->spec().match.empty()) {
      // Before the first complete scan the external side may have this record's partner,
      // not linked yet: a row made from the webhook would be a second one. The first pass
      // pairs them by the match keys (its poll brings this record too).
      auto scanned = store_.Cursor(name(), kConnectorCursor);
      if (!scanned.ok()) return scanned.error();
      if (!scanned->has_value()) {
        spdlog::debug("sync {}: webhook for GHL {}: left to the first pass, which pairs it", name(),
                      id);
        return store_.Transaction(also);
      }
    }
    if (item.link) {
      // Older than what is known of the record (a delayed or repeated webhook): it brings
      // nothing new, and what it held was decided when the newer state was seen (a write
      // in flight may still be settling that: deciding again from the base could undo it).
      const auto seen_at = ParseIsoMs(item.ghl->date_updated);
      const auto known_at = ParseIsoMs(item.link->ghl_version);
      if (seen_at && known_at && *seen_at < *known_at) {
        spdlog::debug("sync {}: webhook for GHL {}: older than what is known of it; nothing to do",
                      name(), id);
        return store_.Transaction(also);
      }
      // Fields the payload does not carry keep their base value.
      for (const auto& name : item.ghl->unknown) {
        auto b = item.link->base.find(name);
        if (b != item.link->base.end()) item.ghl->fields[name] = b->second;
      }
    }
  }
  PassReport report;
  std::vector<Item> items;
  items.push_back(std::move(item));
  if (auto filled = FillMissing(items, report, Lane::kRealtime, false); !filled.ok()) {
    return filled;
  }
  if (!items[0].error.empty()) return Error{items[0].error};
  std::vector<Outcome> outcomes;
  outcomes.push_back(Decide(items[0], Lane::kRealtime));
  if (!outcomes[0].wait.empty()) {
    // The poll brings the record again; a pass decides once its reference is linked.
    spdlog::debug("sync {}: webhook for GHL {}: {}", name(), id, outcomes[0].wait);
    return store_.Transaction(also);
  }
  Outcome& decided = outcomes[0];
  if (decided.deletes > 0 && items[0].ghl && !items[0].ghl->date_updated.empty()) {
    decided.link.ghl_version = items[0].ghl->date_updated;
  }
  std::map<int64_t, HeldDelete> held;
  if (decided.link.id != 0) {
    auto h = store_.HeldDeleteOfLink(decided.link.id);
    if (!h.ok()) return h.error();
    if (h->has_value()) held.emplace(decided.link.id, std::move(**h));
  }
  // A delete the guard holds is recorded with the inbox row's completion: never consumed
  // unseen.
  auto guard = ApplyGuard(outcomes, report, held, "webhook", false);
  if (!guard.ok()) return guard.error();
  return Commit(outcomes, [&]() -> Result<void> {
    if (auto written = WriteGuard(*guard); !written.ok()) return written;
    return also ? also() : Ok();
  });
}

Result<void> SyncRunner::SetAsideHeld(std::vector<Item>& items, bool complete,
                                      std::map<int64_t, HeldDelete>& held,
                                      std::vector<int64_t>& back) {
  auto rows = store_.HeldDeletes(name(), std::numeric_limits<int>::max());
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return Ok();
  for (auto& h : rows.value()) held.emplace(h.link_id, std::move(h));
  std::unordered_set<int64_t> seen;  // held links this pass has an item for
  std::erase_if(items, [&](const Item& item) {
    if (!item.link || held.count(item.link->id) == 0) return false;
    seen.insert(item.link->id);
    // Nothing new on either side (a complete scan still misses the row): the delete stays
    // held, and reading the GHL record again on every pass would spend the budget.
    return !item.ghl && !item.ext;
  });
  if (!complete) return Ok();
  // A complete scan has an item for every linked row it missed: a held link without one
  // has its row back, unchanged (a truncated export fixed). Links of locations this sync
  // no longer serves have no items either way.
  for (const auto& [link_id, h] : held) {
    if (h.deleted_side != Target::kExternal || seen.count(link_id) > 0) continue;
    auto link = store_.LinkById(link_id);
    if (!link.ok()) return link.error();
    if (link->has_value() && !(**link).deleted &&
        std::find(locations_.begin(), locations_.end(), (**link).location) == locations_.end()) {
      continue;
    }
    if (link->has_value()) {
      spdlog::info("sync {}: {}: the row is back in {}; its held delete is dropped", name(),
                   Pair(**link), connector_->Describe());
    }
    back.push_back(link_id);
  }
  return Ok();
}

}  // namespace ghl::sync
