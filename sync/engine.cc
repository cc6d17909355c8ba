#include "sync/engine.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "connectors/ghl/webhook_event.h"
#include "connectors/registry.h"
#include "state/app_installs.h"
#include "state/inbox.h"
#include "state/sqlite.h"
#include "sync/progress.h"
#include "sync/store.h"

namespace ghl::sync {

namespace {

int64_t UnixMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

mapping::GhlObject ObjectOf(const std::string& object) {
  if (object == "opportunities") return mapping::GhlObject::kOpportunities;
  if (object == "appointments") return mapping::GhlObject::kAppointments;
  return mapping::GhlObject::kContacts;
}

}  // namespace

std::vector<SyncSetup> BuildSyncs(const config::Config& config, config::Diagnostics& errors,
                                  const config::EnvLookup& env,
                                  const std::vector<std::string>& installed) {
  std::vector<SyncSetup> syncs;
  const size_t errors_before = errors.size();
  std::vector<std::string> connector_names;
  for (const auto& [name, c] : config.connectors) connector_names.push_back(name);
  std::vector<std::string> location_ids;
  for (const auto& l : config.ghl.locations) location_ids.push_back(l.id);

  for (const auto& file : config.mappings) {
    auto mapping = mapping::Mapping::Compile(file, errors);
    if (!mapping) continue;
    const auto& spec = mapping->spec();
    auto where = [&](const std::string& path, const std::string& message) {
      errors.push_back(
          {file.path.string(), spec.external_line, spec.external_column, path, message});
    };
    SyncSetup setup;
    setup.file = file.path;
    setup.locations = spec.locations.empty() ? location_ids : spec.locations;
    if (spec.locations.empty()) {
      for (const auto& id : installed) {
        if (std::find(location_ids.begin(), location_ids.end(), id) == location_ids.end()) {
          setup.locations.push_back(id);
        }
      }
    }
    bool bad = false;
    for (const auto& id : spec.locations) {
      if (std::find(location_ids.begin(), location_ids.end(), id) == location_ids.end()) {
        errors.push_back({file.path.string(), spec.locations_line, spec.locations_column,
                          "locations",
                          "location '" + id + "' is not configured under ghl.locations"});
        bad = true;
      }
    }
    if (setup.locations.empty()) {
      errors.push_back({file.path.string(), 0, 0, "locations",
                        "no GHL location to sync with: configure ghl.locations"});
      bad = true;
    }
    auto c = config.connectors.find(spec.connector);
    if (c == config.connectors.end()) {
      std::string message = "connector '" + spec.connector +
                            "' is not defined under connectors: in " + config.source.string();
      if (auto guess = config::DidYouMean(spec.connector, connector_names)) {
        message += "; did you mean '" + *guess + "'?";
      }
      where("external.connector", message);
      bad = true;
    }
    if (bad) continue;
    connectors::ConnectorSpec cs;
    cs.name = c->first;
    cs.type = c->second.type;
    cs.options = c->second.node;
    cs.options_file = c->second.file;
    cs.options_dir = c->second.base_dir;
    cs.options_path = "connectors." + c->first;
    cs.resource = spec.external;
    cs.resource_file = file.path.string();
    cs.resource_dir = file.path.parent_path();
    cs.resource_path = "external";
    cs.key_columns = spec.key;
    cs.soft_delete_column = spec.soft_delete_column;
    cs.env = env;
    cs.sync_name = spec.name;
    setup.connector = connectors::Create(cs, errors);
    if (!setup.connector) continue;
    setup.mapping = std::move(mapping);
    syncs.push_back(std::move(setup));
  }
  if (errors.size() != errors_before) return {};
  return syncs;
}

struct Engine::Metrics {
  explicit Metrics(prometheus::Registry* r)
      : synced(prometheus::BuildCounter()
                   .Name("ghl_syncd_records_synced_total")
                   .Help("Writes that succeeded, by sync, direction and action")
                   .Register(*r)),
        conflicts(prometheus::BuildCounter()
                      .Name("ghl_syncd_conflicts_total")
                      .Help("Fields changed on both sides to different values")
                      .Register(*r)),
        echoes(prometheus::BuildCounter()
                   .Name("ghl_syncd_echoes_suppressed_total")
                   .Help("Stale echoes of the daemon's own GHL writes that were ignored")
                   .Register(*r)),
        overtaken(prometheus::BuildCounter()
                      .Name("ghl_syncd_writes_overtaken_total")
                      .Help("Writes to the external system not made because the row changed "
                            "after they were decided (read again and merged instead)")
                      .Register(*r)),
        connector(prometheus::BuildCounter()
                      .Name("ghl_syncd_connector_events_total")
                      .Help("What a connector met and got over, by sync and event "
                            "(retryable_error, reconnect, retry, rate_limited, ...)")
                      .Register(*r)),
        poll_only(prometheus::BuildCounter()
                      .Name("ghl_syncd_poll_only_changes_total")
                      .Help("GHL changes found by polling that no webhook delivered")
                      .Register(*r)),
        dead_letters(prometheus::BuildCounter()
                         .Name("ghl_syncd_dead_letters_total")
                         .Help("Records and writes sent to the dead-letter queue")
                         .Register(*r)),
        guard(prometheus::BuildCounter()
                  .Name("ghl_syncd_delete_guard_trips_total")
                  .Help("Passes whose deletions the mass-delete guard refused")
                  .Register(*r)),
        passes(prometheus::BuildCounter()
                   .Name("ghl_syncd_sync_passes_total")
                   .Help("Sync passes by outcome (ok, error)")
                   .Register(*r)),
        pass_seconds(prometheus::BuildHistogram()
                         .Name("ghl_syncd_sync_pass_duration_seconds")
                         .Help("How long one pass took (poll, scan, decide, commit; not the "
                               "writes, which the outbox makes afterwards), by sync")
                         .Register(*r)),
        inbox(prometheus::BuildCounter()
                  .Name("ghl_syncd_inbox_events_total")
                  .Help("Webhook inbox rows processed, by outcome (done, skipped, retry, dead)")
                  .Register(*r)),
        outbox(prometheus::BuildGauge()
                   .Name("ghl_syncd_outbox_depth")
                   .Help("Writes waiting in the outbox")
                   .Register(*r)),
        dlq(prometheus::BuildGauge()
                .Name("ghl_syncd_dlq_depth")
                .Help("Entries in the dead-letter queue")
                .Register(*r)),
        held_deletes(prometheus::BuildGauge()
                         .Name("ghl_syncd_deletes_held")
                         .Help("Deletes the mass-delete guard holds until `ghl-syncd deletes "
                               "release` or `drop`")
                         .Register(*r)),
        links(prometheus::BuildGauge()
                  .Name("ghl_syncd_links")
                  .Help("Linked record pairs")
                  .Register(*r)),
        write_rate(prometheus::BuildGauge()
                       .Name("ghl_syncd_write_rate")
                       .Help("Writes completed per second over the last minute")
                       .Register(*r)),
        inbox_failed(prometheus::BuildGauge()
                         .Name("ghl_syncd_inbox_failed")
                         .Help("Webhooks the engine gave up on after repeated failures, waiting "
                               "in the dead-letter queue (ghl-syncd dlq)")
                         .Register(*r)
                         .Add({})),
        eta(prometheus::BuildGauge()
                .Name("ghl_syncd_outbox_eta_seconds")
                .Help("When the writes waiting now will be done at the last minute's pace "
                      "(-1: no pace yet)")
                .Register(*r)) {}
  prometheus::Family<prometheus::Counter>& synced;
  prometheus::Family<prometheus::Counter>& conflicts;
  prometheus::Family<prometheus::Counter>& echoes;
  prometheus::Family<prometheus::Counter>& overtaken;
  prometheus::Family<prometheus::Counter>& connector;
  prometheus::Family<prometheus::Counter>& poll_only;
  prometheus::Family<prometheus::Counter>& dead_letters;
  prometheus::Family<prometheus::Counter>& guard;
  prometheus::Family<prometheus::Counter>& passes;
  prometheus::Family<prometheus::Histogram>& pass_seconds;
  prometheus::Family<prometheus::Counter>& inbox;
  prometheus::Family<prometheus::Gauge>& outbox;
  prometheus::Family<prometheus::Gauge>& dlq;
  prometheus::Family<prometheus::Gauge>& held_deletes;
  prometheus::Family<prometheus::Gauge>& links;
  prometheus::Family<prometheus::Gauge>& write_rate;
  prometheus::Gauge& inbox_failed;
  prometheus::Family<prometheus::Gauge>& eta;
};

struct Engine::Worker {
  std::unique_ptr<state::sqlite::Db> db;
  std::unique_ptr<SyncStore> store;
  std::unique_ptr<state::InboxStore> inbox;
  std::vector<std::unique_ptr<SyncRunner>> runners;
  std::vector<int64_t> next_pass;
  // Per runner: writes completed (bumped by its `synced` counter), their pace, and when
  // progress was last logged and saved for `ghl-syncd status`.
  std::vector<std::shared_ptr<int64_t>> written;
  std::vector<Progress> progress;
  std::vector<int64_t> progress_logged;
  std::vector<int64_t> progress_saved;
  // Per runner: when its links were last counted (Unix ms; 0: count at the next round).
  // Counting reads every link, a second's work at a million: once per pass or 10 s.
  std::vector<int64_t> links_counted;
  // The inbox after a failed event: its next try (Unix ms) and the failures in a row.
  std::chrono::steady_clock::time_point inbox_retry_at{};
  int inbox_failures = 0;
  int64_t audit_pruned_at = 0;                           // Unix ms of the last PruneAudit
  std::chrono::steady_clock::time_point next_between{};  // Between()'s next unprompted look
  // Per runner: its connector's counters as last exported.
  std::vector<std::map<std::string, int64_t>> connector_counts;
};

Engine::Engine(const Clock& clock, GhlGateway& gateway, prometheus::Registry* registry,
               EngineOptions options)
    : clock_(clock),
      gateway_(gateway),
      options_(std::move(options)),
      metrics_(registry != nullptr ? std::make_unique<Metrics>(registry) : nullptr) {}

Engine::~Engine() { Stop(); }

Result<void> Engine::Start(std::vector<SyncSetup> syncs) {
  auto db = state::sqlite::Db::Open(options_.state_path, options_.busy_timeout);
  if (!db.ok()) return db.error();
  if (auto r = (*db)->Exec("PRAGMA synchronous = FULL"); !r.ok()) return r;
  w_ = std::make_unique<Worker>();
  w_->db = std::move(db.value());
  w_->store = std::make_unique<SyncStore>(*w_->db);
  w_->inbox = std::make_unique<state::InboxStore>(*w_->db);
  replacement_ = std::move(syncs);
  worker_ = std::thread([this] { Run(); });
  return Ok();
}

void Engine::Replace(std::vector<SyncSetup> syncs) {
  std::lock_guard lock(mu_);
  replacement_ = std::move(syncs);
  woken_ = true;
  cv_.notify_all();
}

void Engine::Wake() {
  inbox_woken_ = true;
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Engine::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
  if (w_) {
    w_->runners.clear();
    w_->inbox.reset();
    w_->store.reset();
    if (w_->db) (void)w_->db->Close();
    w_.reset();
  }
}

std::vector<SyncStatus> Engine::Snapshot() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

void Engine::Run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stop_) return;
      if (replacement_) {
        w_->runners.clear();
        w_->next_pass.clear();
        w_->written.clear();
        w_->progress.clear();
        w_->progress_logged.clear();
        w_->progress_saved.clear();
        w_->links_counted.clear();
        w_->connector_counts.clear();
        w_->inbox_failures = 0;  // the new syncs may have what the failing event lacked
        for (auto& s : *replacement_) {
          const std::string sync = s.mapping->spec().name;
          spdlog::info("sync {}: GHL {} of {} location(s) <-> {} ({})", sync,
                       mapping::ToString(s.mapping->spec().object), s.locations.size(),
                       s.connector->Describe(), mapping::ToString(s.mapping->spec().direction));
          if (auto health = s.connector->Health(); !health.ok()) {
            spdlog::warn("sync {}: {}; the sync tries again every pass", sync,
                         health.error().message);
          }
          RunnerCounters counters;
          auto written = std::make_shared<int64_t>(0);
          counters.synced = [m = metrics_.get(), sync, written](const char* direction,
                                                                const char* action) {
            ++*written;
            if (m != nullptr) {
              m->synced.Add({{"sync", sync}, {"direction", direction}, {"action", action}})
                  .Increment();
            }
          };
          if (metrics_) {
            auto* m = metrics_.get();
            counters.conflict = [m, sync] { m->conflicts.Add({{"sync", sync}}).Increment(); };
            counters.echo = [m, sync] { m->echoes.Add({{"sync", sync}}).Increment(); };
            counters.poll_only = [m, sync] { m->poll_only.Add({{"sync", sync}}).Increment(); };
            counters.overtaken = [m, sync] { m->overtaken.Add({{"sync", sync}}).Increment(); };
            counters.dead_letter = [m, sync] { m->dead_letters.Add({{"sync", sync}}).Increment(); };
            counters.delete_guard = [m, sync] { m->guard.Add({{"sync", sync}}).Increment(); };
          }
          w_->runners.push_back(std::make_unique<SyncRunner>(
              std::move(s.mapping), std::move(s.connector), gateway_, std::move(s.locations),
              *w_->store, clock_, options_.runner, std::move(counters)));
          w_->runners.back()->SetYield([this] { Between(); });
          w_->next_pass.push_back(0);
          w_->written.push_back(std::move(written));
          w_->progress.emplace_back();
          w_->progress_logged.push_back(0);
          w_->progress_saved.push_back(0);
          w_->links_counted.push_back(0);
          w_->connector_counts.emplace_back();
        }
        replacement_.reset();
        std::lock_guard status_lock(status_mu_);
        status_.assign(w_->runners.size(), SyncStatus{});
        for (size_t i = 0; i < w_->runners.size(); ++i) status_[i].name = w_->runners[i]->name();
      }
    }
    Round();
    std::unique_lock lock(mu_);
    if (!woken_ && !stop_) cv_.wait_for(lock, options_.idle_wait);
    woken_ = false;
  }
}

bool Engine::InboxFailed(const std::string& what) {
  const int failures = ++w_->inbox_failures;
  const auto wait =
      std::chrono::milliseconds(std::min<int64_t>(30'000, int64_t{200} << std::min(failures, 8)));
  w_->inbox_retry_at = clock_.Steady() + wait;
  // Said the first time and every 10th, not on every retry of a long outage.
  if (failures == 1 || failures % 10 == 0) {
    spdlog::warn("{}; tried again in {:.1f}s (failure {} in a row)", what,
                 static_cast<double>(wait.count()) / 1000, failures);
  }
  return false;
}

void Engine::ProcessInbox() {
  // After a failure (a side unreadable: its database down, GHL unreachable; the state
  // file locked) the inbox waits, longer each time up to 30 s; passes go on meanwhile.
  if (w_->inbox_failures > 0 && clock_.Steady() < w_->inbox_retry_at) return;
  bool ok = true;
  auto pending = w_->inbox->Pending(options_.inbox_batch, 0, UnixMs(clock_));
  if (!pending.ok()) {
    InboxFailed("webhook inbox: " + pending.error().message);
    return;
  }
  auto count = [&](const char* outcome, double n = 1) {
    if (metrics_) metrics_->inbox.Add({{"outcome", outcome}}).Increment(n);
  };
  // Rows with nothing to sync are settled together, in one transaction per page: the
  // webhook writer shares the state file's write lock.
  std::vector<std::pair<int64_t, std::string>> skipped;
  auto settle_skipped = [&] {
    if (skipped.empty()) return;
    const int64_t now = UnixMs(clock_);
    auto r = w_->store->Transaction([&]() -> Result<void> {
      for (const auto& [id, note] : skipped) {
        if (auto m = w_->inbox->MarkSkipped(id, note, now); !m.ok()) return m;
      }
      return Ok();
    });
    if (!r.ok()) {
      ok = InboxFailed(fmt::format("webhook inbox: marking {} row(s) skipped: {}", skipped.size(),
                                   r.error().message));
    } else {
      count("skipped", static_cast<double>(skipped.size()));
    }
    skipped.clear();
  };
  // A row whose change cannot be committed waits on its own (1 s doubling to 10 min) and
  // the rows behind it go on: GHL's dateUpdated keeps a later event of the same record from
  // being undone when the earlier one finally goes through. After `inbox_max_attempts` the
  // row is failed: kept for `ghl-syncd dlq`, and the poll brings the record's state anyway.
  //
  // An attempt counts only when its sync's last pass went through and its connector answers
  // its health check now: while the passes fail too (its side unreachable, a custom field
  // the mapping names deleted in GHL: a cause an operator fixes, after which the rows go
  // through) or the side is down since the last pass, the row waits 30 s, uncounted, so an
  // hour's outage does not fill the dead-letter queue. Three rows failing in a row end the
  // round and the whole inbox waits a little (0.4 s doubling to 30 s): in an outage each
  // row could take a connect timeout.
  int failed_in_a_row = 0;
  // Returns true when the round stops.
  auto row_failed = [&](const state::InboxRow& row, const std::string& which,
                        const std::string& error, bool counts) -> bool {
    count("retry");
    const int64_t now = UnixMs(clock_);
    const int attempt = row.attempts + (counts ? 1 : 0);
    if (counts && attempt >= options_.inbox_max_attempts) {
      if (auto r = w_->inbox->MarkFailed(row.id, error, now); !r.ok()) {
        ok = InboxFailed(which + ": " + error + "; recording it as failed: " + r.error().message);
        return true;
      }
      count("dead");
      spdlog::error(
          "{}: {}; gave up after {} attempts: the webhook is in the dead-letter queue as w{} "
          "(`ghl-syncd dlq show w{}`; `dlq replay w{}` tries it again once the cause is "
          "fixed). The record's later changes still sync.",
          which, error, attempt, row.id, row.id, row.id);
    } else {
      const int64_t wait =
          counts ? std::min<int64_t>(options_.runner.backoff_max_ms,
                                     options_.runner.backoff_base_ms << std::min(attempt - 1, 20))
                 : std::min<int64_t>(options_.runner.backoff_max_ms, 30'000);
      if (auto r = w_->inbox->Defer(row.id, error, now + wait, counts); !r.ok()) {
        ok = InboxFailed(which + ": " + error + "; deferring it: " + r.error().message);
        return true;
      }
      if (!counts) {
        spdlog::debug(
            "{}: {}; its sync's passes fail too or its side is unreachable: tried again in "
            "{:.0f}s, not counted",
            which, error, static_cast<double>(wait) / 1000);
      } else if (attempt == 1 || attempt % 5 == 0) {
        spdlog::warn(
            "{}: {}; tried again in {:.1f}s (attempt {} of {}); the webhooks behind it go on",
            which, error, static_cast<double>(wait) / 1000, attempt, options_.inbox_max_attempts);
      }
    }
    if (++failed_in_a_row < 3) return false;
    ok = InboxFailed(fmt::format("webhook inbox: {} webhooks in a row failed (the last: {}: {})",
                                 failed_in_a_row, which, error));
    return true;
  };
  // Whether the last pass of this runner went through.
  auto passing = [&](const SyncRunner* runner) {
    std::lock_guard lock(status_mu_);
    for (size_t i = 0; i < w_->runners.size(); ++i) {
      if (w_->runners[i].get() == runner) return status_[i].last_error.empty();
    }
    return true;
  };
  // Whether the runner's external side answers now: its last pass may be long past (a long
  // poll_interval), and an outage since then must not count either.
  auto reachable = [](SyncRunner* runner) {
    auto health = runner->connector().Health();
    if (!health.ok()) {
      spdlog::debug("sync {}: {}", runner->name(), health.error().message);
    }
    return health.ok();
  };
  bool installs_changed = false;
  for (const auto& row : pending.value()) {
    const int64_t now = UnixMs(clock_);
    auto event = ghl_client::ParseWebhookEvent(row.body);
    auto skip = [&](std::string note) { skipped.emplace_back(row.id, std::move(note)); };
    if (!event.ok()) {
      skip("unreadable: " + event.error().message);
      continue;
    }
    if (event->kind == ghl_client::WebhookKind::kInstall ||
        event->kind == ghl_client::WebhookKind::kUninstall) {
      auto recorded = RecordAppEvent(row.id, *event, now);
      if (!recorded.ok()) {
        if (row_failed(row, fmt::format("webhook {} ({})", row.webhook_id, event->type),
                       recorded.error().message, true)) {
          break;
        }
        continue;
      }
      failed_in_a_row = 0;
      if (!recorded->empty()) {
        skip(*recorded);
        continue;
      }
      count("done");
      installs_changed = true;
      continue;
    }
    if (event->object.empty() || (event->kind != ghl_client::WebhookKind::kUpsert &&
                                  event->kind != ghl_client::WebhookKind::kDelete)) {
      skip("event type '" + event->type + "' is not synced");
      continue;
    }
    const auto object = ObjectOf(event->object);
    std::vector<SyncRunner*> serving;
    for (auto& r : w_->runners) {
      if (r->Serves(event->location_id, object)) serving.push_back(r.get());
    }
    if (serving.empty()) {
      skip("no sync serves " + event->object + " of location '" + event->location_id + "'");
      continue;
    }
    rapidjson::Document record;
    record.Parse(event->record_json.data(), event->record_json.size());
    if (record.HasParseError() || !record.IsObject()) {
      skip("the event carries no record");
      continue;
    }
    if (!record.HasMember("id") && !event->id.empty()) {
      record.AddMember("id", rapidjson::Value(event->id.c_str(), record.GetAllocator()),
                       record.GetAllocator());
    }
    if (auto id = record.FindMember("id");
        id == record.MemberEnd() || !id->value.IsString() || id->value.GetStringLength() == 0) {
      skip("the event's record has no id");
      continue;
    }
    // Every sync that serves it gets the event, even when one of them fails (it is tried
    // again later; the others take it again as an echo of what they already have). The
    // row is done with the last sync's commit, when none failed.
    std::string failure;
    bool counts = true;
    for (size_t i = 0; i < serving.size(); ++i) {
      const bool last = i + 1 == serving.size();
      auto mark = [&]() -> Result<void> {
        if (!last || !failure.empty()) return Ok();
        return w_->inbox->MarkDone(row.id, event->type, now);
      };
      auto r = serving[i]->OnGhlRecord(event->location_id, record,
                                       event->kind == ghl_client::WebhookKind::kDelete,
                                       event->timestamp, row.tried, mark);
      if (!r.ok()) {
        failure += fmt::format("{}sync {}: {}", failure.empty() ? "" : "; ", serving[i]->name(),
                               r.error().message);
        counts = counts && passing(serving[i]) && reachable(serving[i]);
      }
    }
    if (!failure.empty()) {
      if (row_failed(row, fmt::format("webhook {} ({} {})", row.webhook_id, event->type, event->id),
                     failure, counts)) {
        break;
      }
      continue;
    }
    failed_in_a_row = 0;
    count("done");
  }
  settle_skipped();
  if (ok && w_->inbox_failures > 0) {
    spdlog::info("webhook inbox: processing again after {} failed attempt(s)", w_->inbox_failures);
    w_->inbox_failures = 0;
  }
  if (installs_changed && options_.on_installs_changed) options_.on_installs_changed();
}

Result<std::string> Engine::RecordAppEvent(int64_t row_id, const ghl_client::WebhookEvent& event,
                                           int64_t now) {
  if (options_.app_id.empty()) {
    return event.type + ": no Marketplace app is configured (ghl.oauth.client_id)";
  }
  rapidjson::Document payload;
  payload.Parse(event.record_json.data(), event.record_json.size());
  auto text = [&payload](const char* key) -> std::string {
    if (!payload.IsObject()) return "";
    auto it = payload.FindMember(key);
    return it != payload.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  const std::string app_id = text("appId");
  if (app_id != options_.app_id) {
    return fmt::format("{} of another app (appId '{}'; this daemon's app is '{}')", event.type,
                       app_id, options_.app_id);
  }
  state::AppInstall install;
  install.location = !event.location_id.empty();
  install.company_id = text("companyId");
  install.resource = install.location ? event.location_id : install.company_id;
  if (install.resource.empty()) return event.type + " names neither a location nor a company";
  install.installed = event.kind == ghl_client::WebhookKind::kInstall;
  install.event_at_ms = event.timestamp_ms.value_or(now);
  install.webhook_id = event.webhook_id;
  state::AppInstallStore installs(*w_->db);
  bool stored = false;
  auto r = w_->store->Transaction([&]() -> Result<void> {
    auto s = installs.Record(install, now);
    if (!s) return s.error();
    stored = *s;
    return w_->inbox->MarkDone(row_id, event.type, now);
  });
  if (!r.ok()) return r.error();
  spdlog::info("{} {} {}{}", event.type, install.location ? "location" : "company",
               install.resource,
               stored ? " recorded" : ": a newer event for it was recorded already; kept that");
  return std::string();
}

void Engine::Between() {
  const auto now = clock_.Steady();
  if (!inbox_woken_.exchange(false) && now < w_->next_between) return;
  w_->next_between = now + std::chrono::milliseconds(100);
  ProcessInbox();
  for (auto& r : w_->runners) {
    for (int round = 0; round < 4; ++round) {
      auto n = r->Dispatch(ghl_client::Lane::kRealtime);
      if (!n.ok()) {
        spdlog::error("sync {}: outbox: {}", r->name(), n.error().message);
        break;
      }
      if (n.value() == 0) break;
    }
  }
}

void Engine::Dispatch(int rounds) {
  for (auto& r : w_->runners) {
    for (int round = 0; round < rounds; ++round) {
      auto n = r->Dispatch();
      if (!n.ok()) {
        spdlog::error("sync {}: outbox: {}", r->name(), n.error().message);
        break;
      }
      if (n.value() == 0) break;
    }
  }
}

void Engine::PruneAudit(int64_t now) {
  const int64_t retention = options_.audit_retention.count();
  if (retention <= 0 || now - w_->audit_pruned_at < 60'000) return;
  w_->audit_pruned_at = now;
  auto pruned = w_->store->PruneAudit(now - retention, options_.audit_prune_batch);
  if (!pruned.ok()) {
    spdlog::warn("audit trail: deleting entries older than state.audit_retention failed: {}",
                 pruned.error().message);
  } else if (*pruned > 0) {
    spdlog::debug("audit trail: deleted {} entries older than state.audit_retention", *pruned);
  }
}

void Engine::Round() {
  // Writes already decided go first: after a crash, the creates whose results were not
  // recorded finish before their echoes (webhooks, polls) are looked at.
  Dispatch(1);
  ProcessInbox();
  const int64_t now = UnixMs(clock_);
  PruneAudit(now);
  for (size_t i = 0; i < w_->runners.size(); ++i) {
    SyncRunner& runner = *w_->runners[i];
    if (now >= w_->next_pass[i]) {
      const auto started = clock_.Steady();
      auto report = runner.RunPass(false);
      const double seconds = std::chrono::duration<double>(clock_.Steady() - started).count();
      w_->next_pass[i] = UnixMs(clock_) + runner.mapping().spec().poll_interval.count();
      w_->links_counted[i] = 0;
      std::lock_guard lock(status_mu_);
      SyncStatus& st = status_[i];
      ++st.passes;
      if (report.ok()) {
        st.last_error.clear();
        st.last = report.value();
        if (report->ghl_writes + report->external_writes + report->conflicts + report->errors > 0) {
          spdlog::info(
              "sync {}: pass in {:.1f}s: {} changed records, {} writes to GHL, {} to {}, {} "
              "conflicts, {} errors, {} unchanged",
              runner.name(), seconds, report->examined, report->ghl_writes, report->external_writes,
              runner.connector().Describe(), report->conflicts, report->errors, report->unchanged);
        }
      } else {
        st.last_error = report.error().message;
        spdlog::error("sync {}: pass failed: {}; next try in {}s", runner.name(),
                      report.error().message, runner.mapping().spec().poll_interval.count() / 1000);
      }
      if (metrics_) {
        metrics_->passes.Add({{"sync", runner.name()}, {"outcome", report.ok() ? "ok" : "error"}})
            .Increment();
        metrics_->pass_seconds
            .Add({{"sync", runner.name()}},
                 prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60,
                                                         300, 1800})
            .Observe(seconds);
      }
    }
  }
  // The outbox: a few rounds per wake-up, so a big backlog does not starve the inbox.
  Dispatch(8);
  if (metrics_) {
    if (auto failed = w_->inbox->FailedCount(); failed.ok()) {
      metrics_->inbox_failed.Set(static_cast<double>(failed.value()));
    }
  }
  for (size_t i = 0; i < w_->runners.size(); ++i) {
    SyncRunner& runner = *w_->runners[i];
    auto outbox = w_->store->OutboxDepth(runner.name());
    auto dlq = w_->store->DeadLetterCount(runner.name());
    auto held = w_->store->HeldDeleteCount(runner.name());
    std::optional<Result<int64_t>> links;
    if (now - w_->links_counted[i] >= 10'000) {
      links = w_->store->CountLinks(runner.name());
      w_->links_counted[i] = now;
    }
    std::lock_guard lock(status_mu_);
    SyncStatus& st = status_[i];
    if (outbox.ok()) st.outbox = outbox.value();
    if (dlq.ok()) st.dead_letters = dlq.value();
    if (links && links->ok()) st.links = links->value();
    ReportProgress(i, st);
    if (metrics_) {
      for (const auto& [event, count] : runner.connector().Counters()) {
        int64_t& seen = w_->connector_counts[i][event];
        if (count > seen) {
          metrics_->connector.Add({{"sync", runner.name()}, {"event", event}})
              .Increment(static_cast<double>(count - seen));
        }
        seen = count;
      }
      metrics_->outbox.Add({{"sync", runner.name()}}).Set(static_cast<double>(st.outbox));
      metrics_->dlq.Add({{"sync", runner.name()}}).Set(static_cast<double>(st.dead_letters));
      if (held.ok()) {
        metrics_->held_deletes.Add({{"sync", runner.name()}})
            .Set(static_cast<double>(held.value()));
      }
      metrics_->links.Add({{"sync", runner.name()}}).Set(static_cast<double>(st.links));
    }
  }
}

void Engine::ReportProgress(size_t i, SyncStatus& st) {
  const int64_t now = UnixMs(clock_);
  Progress& progress = w_->progress[i];
  progress.Add(now, *w_->written[i]);
  const auto rate = progress.Rate();
  const auto eta = progress.EtaSeconds(st.outbox);
  st.write_rate = rate.value_or(0);
  st.eta_seconds = eta.value_or(-1);
  const std::string& name = w_->runners[i]->name();
  if (metrics_) {
    metrics_->write_rate.Add({{"sync", name}}).Set(st.write_rate);
    metrics_->eta.Add({{"sync", name}}).Set(st.eta_seconds);
  }
  if (st.outbox > 0 && now - w_->progress_logged[i] >= options_.progress_log_interval_ms) {
    w_->progress_logged[i] = now;
    spdlog::info(
        "sync {}: {} write(s) waiting, {} linked; {:.1f} written/s over the last "
        "minute{}",
        name, st.outbox, st.links, st.write_rate, eta ? ", about " + Duration(*eta) + " left" : "");
  }
  // For `ghl-syncd status`, another process: saved with the state, a few times a minute.
  if (now - w_->progress_saved[i] >= 5'000) {
    w_->progress_saved[i] = now;
    const std::string value = fmt::format("{:.3f} {:.0f} {}", st.write_rate, st.eta_seconds, now);
    if (auto r = w_->store->SetCursor(name, kProgressCursor, value, now); !r.ok()) {
      spdlog::debug("sync {}: saving progress: {}", name, r.error().message);
    }
  }
}

}  // namespace ghl::sync
