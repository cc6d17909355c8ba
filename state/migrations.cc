#include "state/migrations.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace ghl::state {

const std::vector<Migration>& BuiltinMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "create meta table",
       "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO meta (key, value) VALUES ('created_at', :now), "
       "('schema_origin', 'ghl-syncd');"},
      {2, "create rate_budget table",
       // The GHL daily request count per rate-limit resource (app + location or company),
       // so a restart does not hand out a fresh day's budget.
       "CREATE TABLE rate_budget (resource TEXT PRIMARY KEY, day INTEGER NOT NULL, "
       "used INTEGER NOT NULL, updated_at TEXT NOT NULL);"},
      {3, "create sync tables",
       // Links pair a GHL id with an external key per sync; base_json holds the canonical
       // values as last synced (the merge base). One pending outbox job per link and
       // target side (later decisions replace its payload). A dead letter keeps its job's
       // lane so that a replay goes back where it came from. Times are Unix milliseconds.
       "CREATE TABLE links (id INTEGER PRIMARY KEY, sync TEXT NOT NULL, location TEXT NOT NULL,"
       " ghl_id TEXT, ext_key TEXT, base_json TEXT NOT NULL DEFAULT '{}',"
       " ghl_version TEXT NOT NULL DEFAULT '', ext_version TEXT NOT NULL DEFAULT '',"
       " deleted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);"
       "CREATE UNIQUE INDEX links_ghl ON links (sync, ghl_id) WHERE ghl_id IS NOT NULL;"
       "CREATE UNIQUE INDEX links_ext ON links (sync, ext_key) WHERE ext_key IS NOT NULL;"
       "CREATE INDEX links_sync ON links (sync);"
       "CREATE TABLE outbox (id INTEGER PRIMARY KEY, sync TEXT NOT NULL,"
       " link_id INTEGER NOT NULL, target TEXT NOT NULL, op TEXT NOT NULL,"
       " payload_json TEXT NOT NULL, idempotency_key TEXT NOT NULL, lane INTEGER NOT NULL,"
       " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,"
       " last_error TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,"
       " UNIQUE (link_id, target));"
       "CREATE INDEX outbox_due ON outbox (next_attempt_at);"
       "CREATE TABLE dlq (id INTEGER PRIMARY KEY, sync TEXT NOT NULL, link_id INTEGER NOT NULL,"
       " target TEXT NOT NULL, op TEXT NOT NULL, payload_json TEXT NOT NULL,"
       " idempotency_key TEXT NOT NULL, lane INTEGER NOT NULL, attempts INTEGER NOT NULL,"
       " error TEXT NOT NULL,"
       " response_body TEXT NOT NULL DEFAULT '', trace_id TEXT NOT NULL DEFAULT '',"
       " created_at INTEGER NOT NULL, failed_at INTEGER NOT NULL);"
       "CREATE TABLE cursors (sync TEXT NOT NULL, source TEXT NOT NULL, value TEXT NOT NULL,"
       " updated_at INTEGER NOT NULL, PRIMARY KEY (sync, source));"
       "CREATE TABLE conflicts (id INTEGER PRIMARY KEY, sync TEXT NOT NULL,"
       " link_id INTEGER NOT NULL, field TEXT NOT NULL, base_value TEXT NOT NULL,"
       " ghl_value TEXT NOT NULL, ext_value TEXT NOT NULL, rule TEXT NOT NULL,"
       " winner TEXT NOT NULL, at INTEGER NOT NULL);"},
      {4, "create webhook inbox",
       // Webhooks as received (raw body, the headers that matter), committed before the
       // 200; `state` goes new -> done | skipped when the engine has committed the change.
       // `webhook_seen` remembers webhookIds for replay protection, pruned by retention.
       // Times are Unix milliseconds (state/inbox.h).
       "CREATE TABLE webhook_inbox (id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL,"
       " received_at INTEGER NOT NULL, body TEXT NOT NULL, headers_json TEXT NOT NULL,"
       " state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'done', 'skipped')),"
       " processed_at INTEGER, note TEXT NOT NULL DEFAULT '');"
       "CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE state = 'new';"
       "CREATE INDEX webhook_inbox_processed ON webhook_inbox (processed_at)"
       " WHERE state <> 'new';"
       "CREATE TABLE webhook_seen (webhook_id TEXT PRIMARY KEY, seen_at INTEGER NOT NULL)"
       " WITHOUT ROWID;"
       "CREATE INDEX webhook_seen_age ON webhook_seen (seen_at);"},
      {5, "create oauth_tokens table",
       // OAuth tokens per resource (company or location id), state/oauth_tokens.h.
       // generation grows with every write; refresh_started_at is set while a refresh is
       // on the wire. Times are Unix milliseconds.
       "CREATE TABLE oauth_tokens (resource TEXT PRIMARY KEY,"
       " user_type TEXT NOT NULL CHECK (user_type IN ('Company', 'Location')),"
       " company_id TEXT NOT NULL DEFAULT '', client_id TEXT NOT NULL DEFAULT '',"
       " access_token TEXT NOT NULL, refresh_token TEXT NOT NULL DEFAULT '',"
       " expires_at INTEGER NOT NULL, scopes TEXT NOT NULL DEFAULT '',"
       " generation INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
       " refresh_started_at INTEGER);"},
      {6, "index links to read again",
       // A link whose versions are both cleared is read again from both sides by the next
       // pass (sync/store.h LinksToReread); the partial index keeps that lookup cheap.
       "CREATE INDEX links_reread ON links (sync, id)"
       " WHERE deleted = 0 AND ghl_version = '' AND ext_version = '';"},
      {7, "create app_installs table",
       // Where the Marketplace app is installed, as INSTALL / UNINSTALL webhooks said
       // (state/app_installs.h). event_at: the webhook's time, Unix milliseconds.
       "CREATE TABLE app_installs (resource TEXT PRIMARY KEY,"
       " level TEXT NOT NULL CHECK (level IN ('location', 'company')),"
       " company_id TEXT NOT NULL DEFAULT '', installed INTEGER NOT NULL,"
       " event_at INTEGER NOT NULL, webhook_id TEXT NOT NULL DEFAULT '',"
       " updated_at INTEGER NOT NULL);"},
      {8, "create audit table",
       // One row per write the engine carried out (sync/store.h AddAudit), committed with
       // the link update: direction 'to_ghl' | 'to_external', action create | update |
       // delete, the target's values of the written fields when the write was decided
       // (before_json) and the values written (after_json) as canonical JSON objects, the
       // rule that decided it and GHL's traceId. `at` is Unix milliseconds; rows older than
       // state.audit_retention are pruned by the engine (audit_at).
       "CREATE TABLE audit (id INTEGER PRIMARY KEY, sync TEXT NOT NULL,"
       " link_id INTEGER NOT NULL, at INTEGER NOT NULL,"
       " direction TEXT NOT NULL CHECK (direction IN ('to_ghl', 'to_external')),"
       " action TEXT NOT NULL, ghl_id TEXT NOT NULL DEFAULT '',"
       " ext_key TEXT NOT NULL DEFAULT '', before_json TEXT NOT NULL DEFAULT '{}',"
       " after_json TEXT NOT NULL DEFAULT '{}', rule TEXT NOT NULL DEFAULT '',"
       " trace_id TEXT NOT NULL DEFAULT '');"
       "CREATE INDEX audit_sync_at ON audit (sync, at);"
       "CREATE INDEX audit_sync_link ON audit (sync, link_id);"
       "CREATE INDEX audit_at ON audit (at);"},
      {9, "webhook inbox: attempts, retry time and failed rows",
       // A row whose change cannot be committed waits on its own (`retry_at`, Unix ms;
       // `attempts` so far, the last error in `note`) instead of holding up the rows behind
       // it; after too many attempts it becomes 'failed': the inbox's dead letters, kept
       // until `ghl-syncd dlq replay` or `dlq drop` (state/inbox.h). SQLite cannot change a
       // CHECK constraint in place, so the table is rebuilt.
       "CREATE TABLE webhook_inbox_v9 (id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL,"
       " received_at INTEGER NOT NULL, body TEXT NOT NULL, headers_json TEXT NOT NULL,"
       " state TEXT NOT NULL DEFAULT 'new'"
       " CHECK (state IN ('new', 'done', 'skipped', 'failed')),"
       " processed_at INTEGER, note TEXT NOT NULL DEFAULT '',"
       " attempts INTEGER NOT NULL DEFAULT 0, retry_at INTEGER NOT NULL DEFAULT 0);"
       "INSERT INTO webhook_inbox_v9 (id, webhook_id, received_at, body, headers_json, state,"
       " processed_at, note) SELECT id, webhook_id, received_at, body, headers_json, state,"
       " processed_at, note FROM webhook_inbox;"
       "DROP TABLE webhook_inbox;"
       "ALTER TABLE webhook_inbox_v9 RENAME TO webhook_inbox;"
       "CREATE INDEX webhook_inbox_pending ON webhook_inbox (id) WHERE state = 'new';"
       "CREATE INDEX webhook_inbox_processed ON webhook_inbox (processed_at)"
       " WHERE state IN ('done', 'skipped');"
       "CREATE INDEX webhook_inbox_failed ON webhook_inbox (id) WHERE state = 'failed';"},
      {10, "create held_deletes and delete_log tables",
       // The mass-delete guard (sync/delete_guard.h). held_deletes: deletes it held, one per
       // link, with the outbox job the pass or webhook decided (target, op, payload, key,
       // lane), kept until `ghl-syncd deletes release` enqueues it or `deletes drop`
       // unlinks the pair; `deleted_side` is the side whose record is gone, `version` the
       // other side's version when held, `changed` set once that record changed since (a
       // release then keeps it). delete_log: deletes let through, per batch, for the window
       // (pruned after 7 days). Times are Unix milliseconds (sync/store.h).
       "CREATE TABLE held_deletes (id INTEGER PRIMARY KEY, sync TEXT NOT NULL,"
       " link_id INTEGER NOT NULL UNIQUE, ghl_id TEXT NOT NULL DEFAULT '',"
       " ext_key TEXT NOT NULL DEFAULT '',"
       " deleted_side TEXT NOT NULL CHECK (deleted_side IN ('ghl', 'external')),"
       " source TEXT NOT NULL CHECK (source IN ('pass', 'webhook')),"
       " target TEXT NOT NULL, op TEXT NOT NULL, payload_json TEXT NOT NULL,"
       " idempotency_key TEXT NOT NULL, lane INTEGER NOT NULL,"
       " version TEXT NOT NULL DEFAULT '', changed INTEGER NOT NULL DEFAULT 0,"
       " held_at INTEGER NOT NULL);"
       "CREATE INDEX held_deletes_sync ON held_deletes (sync, held_at);"
       "CREATE TABLE delete_log (sync TEXT NOT NULL, at INTEGER NOT NULL,"
       " deletes INTEGER NOT NULL);"
       "CREATE INDEX delete_log_sync_at ON delete_log (sync, at);"},
      {11, "links: a revision bumped by every save",
       // A pass reads links, decides, then saves them; a webhook's change or a dispatch may
       // save a link in between (they run while a pass yields). The pass saves a link only
       // when its revision is still the one it read (sync/store.h SaveLinkIfUnchanged).
       "ALTER TABLE links ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"},
  };
  return kMigrations;
}

Result<void> ValidateMigrations(const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    const int expected = static_cast<int>(i) + 1;
    if (migrations[i].version != expected) {
      return Error{fmt::format(
          "schema migration list is invalid: entry {} (\"{}\") has version {}, expected {}", i,
          migrations[i].name, migrations[i].version, expected)};
    }
  }
  return Ok();
}

Result<int> CheckSchemaVersion(sqlite::Db& db, const std::vector<Migration>& migrations) {
  Result<std::int64_t> version = db.QueryInt64("PRAGMA user_version");
  if (!version) return version.error();
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (*version > newest) {
    return Error{fmt::format(
        "state file {} has schema version {} but this ghl-syncd knows only up to {}; upgrade "
        "ghl-syncd or restore a backup made by this version",
        db.path().string(), *version, newest)};
  }
  return static_cast<int>(*version);
}

Result<int> ApplyMigrations(sqlite::Db& db, const std::vector<Migration>& migrations,
                            const Clock& clock) {
  Result<int> current = CheckSchemaVersion(db, migrations);
  if (!current) return current;
  int version = *current;
  const std::string now = FormatUtcIso8601(clock.Now());
  for (const Migration& migration : migrations) {
    if (migration.version <= version) continue;
    bool applied = false;
    Result<void> done = db.Transaction([&]() -> Result<void> {
      // Read again under the write lock: another process may have migrated meanwhile.
      Result<int> locked = CheckSchemaVersion(db, migrations);
      if (!locked) return locked.error();
      version = *locked;
      if (migration.version <= version) return Ok();
      if (auto run = db.Exec(migration.sql, {{":now", now}}); !run) return run;
      if (auto bump = db.Exec(fmt::format("PRAGMA user_version = {}", migration.version)); !bump) {
        return bump;
      }
      applied = true;
      return Ok();
    });
    if (!done) {
      return Error{fmt::format("schema migration {} ({}) failed and was rolled back: {}",
                               migration.version, migration.name, done.error().message)};
    }
    if (applied) {
      version = migration.version;
      spdlog::info("state file {}: applied schema migration {} ({})", db.path().string(),
                   migration.version, migration.name);
    }
  }
  return version;
}

std::string FormatUtcIso8601(Clock::TimePoint time) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const year_month_day date{day};
  const hh_mm_ss clock_time{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock_time.hours().count(), clock_time.minutes().count(),
                     clock_time.seconds().count());
}

}  // namespace ghl::state
