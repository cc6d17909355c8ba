#include "sync/store.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <span>
#include <string_view>
#include <utility>
#include <variant>

namespace ghl::sync {
namespace {

using state::sqlite::Db;
using state::sqlite::Statement;

// A statement parameter: NULL, an integer or text (bound in order as ?1, ?2, ...).
using Param = std::variant<std::nullptr_t, int64_t, std::string_view>;

Param OptionalText(const std::optional<std::string>& text) {
  return text ? Param(std::string_view(*text)) : Param(nullptr);
}

Result<Statement> Bound(Db& db, std::string_view sql, std::span<const Param> params) {
  Result<Statement> stmt = db.Prepare(sql);
  if (!stmt) return stmt;
  int index = 1;
  for (const Param& param : params) {
    Result<void> bound = std::holds_alternative<std::nullptr_t>(param) ? stmt->BindNull(index)
                         : std::holds_alternative<int64_t>(param)
                             ? stmt->BindInt64(index, std::get<int64_t>(param))
                             : stmt->BindText(index, std::get<std::string_view>(param));
    if (!bound) return bound.error();
    ++index;
  }
  return stmt;
}

Result<Statement> Bound(Db& db, std::string_view sql, std::initializer_list<Param> params) {
  return Bound(db, sql, std::span<const Param>(params.begin(), params.size()));
}

// Runs a bound statement and reads each row with `read`.
template <typename T>
Result<std::vector<T>> AllRows(Result<Statement> stmt, Result<T> (*read)(const Statement&)) {
  if (!stmt) return stmt.error();
  std::vector<T> rows;
  for (;;) {
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return rows;
    Result<T> value = read(*stmt);
    if (!value) return value.error();
    rows.push_back(std::move(*value));
  }
}

template <typename T>
Result<std::optional<T>> FirstRow(Result<Statement> stmt, Result<T> (*read)(const Statement&)) {
  if (!stmt) return stmt.error();
  Result<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<T>();
  Result<T> value = read(*stmt);
  if (!value) return value.error();
  return std::optional<T>(std::move(*value));
}

Result<void> RunAll(Result<Statement> stmt) {
  if (!stmt) return stmt.error();
  return stmt->Run();
}

Result<int64_t> ReadId(const Statement& s) { return s.ColumnInt64(0); }
Result<std::string> ReadText(const Statement& s) { return s.ColumnText(0); }

// The first column of a statement that returns exactly one row (an id or a count).
Result<int64_t> OneInt(Result<Statement> stmt) {
  Result<std::optional<int64_t>> value = FirstRow(std::move(stmt), &ReadId);
  if (!value) return value.error();
  if (!*value) return Error{"a statement that returns one row returned none"};
  return **value;
}

// Whether a statement with RETURNING touched a row.
Result<bool> TouchedARow(Result<Statement> stmt) {
  Result<std::optional<int64_t>> id = FirstRow(std::move(stmt), &ReadId);
  if (!id) return id.error();
  return id->has_value();
}

Result<Target> ParseTarget(const std::string& text, std::string_view table, int64_t id) {
  if (text == "ghl") return Target::kGhl;
  if (text == "external") return Target::kExternal;
  return Error{fmt::format("{} row {} has an unknown target \"{}\" (expected ghl or external)",
                           table, id, text)};
}

constexpr std::string_view kLinkColumns =
    "id, sync, location, ghl_id, ext_key, base_json, ghl_version, ext_version, deleted, "
    "updated_at, rev";

Result<Link> ReadLink(const Statement& s) {
  Link link;
  link.id = s.ColumnInt64(0);
  link.sync = s.ColumnText(1);
  link.location = s.ColumnText(2);
  if (!s.ColumnIsNull(3)) link.ghl_id = s.ColumnText(3);
  if (!s.ColumnIsNull(4)) link.ext_key = s.ColumnText(4);
  if (!mapping::FromJson(s.ColumnText(5), &link.base)) {
    return Error{fmt::format("link {} of sync {} has an unreadable base snapshot: {}", link.id,
                             link.sync, s.ColumnText(5))};
  }
  link.ghl_version = s.ColumnText(6);
  link.ext_version = s.ColumnText(7);
  link.deleted = s.ColumnInt64(8) != 0;
  link.updated_at = s.ColumnInt64(9);
  link.rev = s.ColumnInt64(10);
  return link;
}

// Outbox and dlq rows share their first columns: "id, sync, link_id, target, op,
// payload_json, idempotency_key, attempts, lane". Reads them into a Job or a DeadLetter.
template <typename Row>
Result<Row> ReadQueued(const Statement& s, std::string_view table) {
  Row row;
  row.id = s.ColumnInt64(0);
  Result<Target> target = ParseTarget(s.ColumnText(3), table, row.id);
  if (!target) return target.error();
  row.sync = s.ColumnText(1);
  row.link_id = s.ColumnInt64(2);
  row.target = *target;
  row.op = s.ColumnText(4);
  row.payload = s.ColumnText(5);
  row.idempotency_key = s.ColumnText(6);
  row.attempts = static_cast<int>(s.ColumnInt64(7));
  return row;
}

constexpr std::string_view kJobColumns =
    "id, sync, link_id, target, op, payload_json, idempotency_key, attempts, lane, "
    "next_attempt_at, last_error, created_at";

Result<Job> ReadJob(const Statement& s) {
  Result<Job> job = ReadQueued<Job>(s, "outbox");
  if (!job) return job;
  job->lane = static_cast<int>(s.ColumnInt64(8));
  job->next_attempt_at = s.ColumnInt64(9);
  job->last_error = s.ColumnText(10);
  job->created_at = s.ColumnInt64(11);
  return job;
}

constexpr std::string_view kDeadLetterColumns =
    "id, sync, link_id, target, op, payload_json, idempotency_key, attempts, lane, error, "
    "response_body, trace_id, created_at, failed_at";

Result<DeadLetter> ReadDeadLetter(const Statement& s) {
  Result<DeadLetter> d = ReadQueued<DeadLetter>(s, "dlq");
  if (!d) return d;
  d->error = s.ColumnText(9);
  d->response_body = s.ColumnText(10);
  d->trace_id = s.ColumnText(11);
  d->created_at = s.ColumnInt64(12);
  d->failed_at = s.ColumnInt64(13);
  return d;
}

// A dead letter as Replay needs it: the entry and the lane its job came from.
struct Replayable {
  DeadLetter dead;
  int lane = 0;
};

Result<Replayable> ReadReplayable(const Statement& s) {
  Result<DeadLetter> d = ReadDeadLetter(s);
  if (!d) return d.error();
  return Replayable{std::move(*d), static_cast<int>(s.ColumnInt64(8))};
}

Result<ConflictRecord> ReadConflict(const Statement& s) {
  return ConflictRecord{s.ColumnText(0), s.ColumnInt64(1), s.ColumnText(2),
                        s.ColumnText(3), s.ColumnText(4),  s.ColumnText(5),
                        s.ColumnText(6), s.ColumnText(7),  s.ColumnInt64(8)};
}

Result<AuditEntry> ReadAudit(const Statement& s) {
  AuditEntry e;
  e.id = s.ColumnInt64(0);
  e.sync = s.ColumnText(1);
  e.link_id = s.ColumnInt64(2);
  e.at = s.ColumnInt64(3);
  e.direction = s.ColumnText(4);
  e.action = s.ColumnText(5);
  e.ghl_id = s.ColumnText(6);
  e.ext_key = s.ColumnText(7);
  e.before_json = s.ColumnText(8);
  e.after_json = s.ColumnText(9);
  e.rule = s.ColumnText(10);
  e.trace_id = s.ColumnText(11);
  return e;
}

// "" selects every sync: `WHERE (?1 = '' OR sync = ?1)`.
constexpr std::string_view kSyncFilter = "(?1 = '' OR sync = ?1)";

}  // namespace

const char* ToString(Target t) { return t == Target::kGhl ? "ghl" : "external"; }

// ---- links ----

Result<std::optional<Link>> SyncStore::LinkById(int64_t id) {
  return FirstRow(Bound(db_, fmt::format("SELECT {} FROM links WHERE id = ?1", kLinkColumns), {id}),
                  &ReadLink);
}

Result<std::optional<Link>> SyncStore::LinkByGhlId(const std::string& sync,
                                                   const std::string& ghl_id) {
  return FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM links WHERE sync = ?1 AND ghl_id = ?2", kLinkColumns),
            {sync, ghl_id}),
      &ReadLink);
}

Result<std::optional<Link>> SyncStore::LinkByExtKey(const std::string& sync,
                                                    const std::string& ext_key) {
  return FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM links WHERE sync = ?1 AND ext_key = ?2", kLinkColumns),
            {sync, ext_key}),
      &ReadLink);
}

Result<int64_t> SyncStore::SaveLink(const Link& link) {
  const std::string base = mapping::ToJson(link.base);
  const std::array<Param, 10> values = {link.sync,
                                        link.location,
                                        OptionalText(link.ghl_id),
                                        OptionalText(link.ext_key),
                                        base,
                                        link.ghl_version,
                                        link.ext_version,
                                        int64_t{link.deleted ? 1 : 0},
                                        link.updated_at,
                                        link.id};
  Result<std::optional<int64_t>> saved =
      link.id == 0
          ? FirstRow(Bound(db_,
                           "INSERT INTO links (sync, location, ghl_id, ext_key, base_json, "
                           "ghl_version, ext_version, deleted, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                           std::span<const Param>(values).first(9)),
                     &ReadId)
          : FirstRow(Bound(db_,
                           "UPDATE links SET sync = ?1, location = ?2, ghl_id = ?3, ext_key = ?4,"
                           " base_json = ?5, ghl_version = ?6, ext_version = ?7, deleted = ?8,"
                           " updated_at = ?9, rev = rev + 1 WHERE id = ?10 RETURNING id",
                           values),
                     &ReadId);
  if (!saved) {
    return Error{fmt::format("cannot save the link of sync {} (GHL id {}, external key {}): {}",
                             link.sync, link.ghl_id.value_or("none"), link.ext_key.value_or("none"),
                             saved.error().message)};
  }
  if (!*saved) return Error{fmt::format("cannot update link {}: there is no such link", link.id)};
  return **saved;
}

Result<std::optional<int64_t>> SyncStore::SaveLinkIfUnchanged(const Link& link) {
  if (link.id == 0) {
    auto id = SaveLink(link);
    if (!id.ok()) return id.error();
    return std::optional<int64_t>(id.value());
  }
  const std::string base = mapping::ToJson(link.base);
  Result<std::optional<int64_t>> saved =
      FirstRow(Bound(db_,
                     "UPDATE links SET sync = ?1, location = ?2, ghl_id = ?3, ext_key = ?4,"
                     " base_json = ?5, ghl_version = ?6, ext_version = ?7, deleted = ?8,"
                     " updated_at = ?9, rev = rev + 1 WHERE id = ?10 AND rev = ?11 RETURNING id",
                     {link.sync, link.location, OptionalText(link.ghl_id),
                      OptionalText(link.ext_key), base, link.ghl_version, link.ext_version,
                      int64_t{link.deleted ? 1 : 0}, link.updated_at, link.id, link.rev}),
               &ReadId);
  if (!saved) {
    return Error{fmt::format("cannot save the link of sync {} (GHL id {}, external key {}): {}",
                             link.sync, link.ghl_id.value_or("none"), link.ext_key.value_or("none"),
                             saved.error().message)};
  }
  return saved.value();
}

Result<void> SyncStore::ReadLinkAgain(int64_t link_id) {
  return RunAll(Bound(db_,
                      "UPDATE links SET ghl_version = '', ext_version = '', rev = rev + 1"
                      " WHERE id = ?1",
                      {link_id}));
}

namespace {

Result<SyncStore::ExtSide> ReadExtSide(const Statement& s) {
  SyncStore::ExtSide side;
  side.id = s.ColumnInt64(0);
  side.ext_key = s.ColumnText(1);
  side.ext_version = s.ColumnText(2);
  return side;
}

}  // namespace

Result<std::vector<SyncStore::ExtSide>> SyncStore::ExtSides(const std::string& sync,
                                                            const std::vector<std::string>& keys) {
  rapidjson::StringBuffer json;
  rapidjson::Writer<rapidjson::StringBuffer> w(json);
  w.StartArray();
  for (const auto& key : keys) w.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.EndArray();
  return AllRows(Bound(db_,
                       "SELECT id, ext_key, ext_version FROM links WHERE sync = ?1 AND "
                       "ext_key IN (SELECT value FROM json_each(?2))",
                       {sync, std::string_view(json.GetString(), json.GetSize())}),
                 &ReadExtSide);
}

Result<std::vector<SyncStore::ExtSide>> SyncStore::LinkedExtKeys(const std::string& sync,
                                                                 int64_t after_id, int limit) {
  return AllRows(Bound(db_,
                       "SELECT id, ext_key, ext_version FROM links WHERE sync = ?1 AND "
                       "deleted = 0 AND ext_key IS NOT NULL AND id > ?2 ORDER BY id LIMIT ?3",
                       {sync, after_id, int64_t{limit}}),
                 &ReadExtSide);
}

Result<int64_t> SyncStore::CountLinks(const std::string& sync) {
  return OneInt(Bound(db_, "SELECT count(*) FROM links WHERE sync = ?1 AND deleted = 0", {sync}));
}

Result<std::vector<Link>> SyncStore::LinksToReread(const std::string& sync, int limit) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT {} FROM links WHERE sync = ?1 AND deleted = 0 AND "
                                   "ghl_version = '' AND ext_version = '' AND ghl_id IS NOT NULL "
                                   "AND ext_key IS NOT NULL ORDER BY id LIMIT ?2",
                                   kLinkColumns),
                       {sync, int64_t{limit}}),
                 &ReadLink);
}

Result<std::vector<SyncStore::PendingCreate>> SyncStore::PendingCreates(const std::string& sync) {
  return AllRows<PendingCreate>(
      Bound(db_,
            "SELECT l.id, o.target, o.payload_json FROM links l JOIN outbox o ON o.link_id = l.id"
            " WHERE l.sync = ?1 AND l.deleted = 0 AND o.op = 'upsert' AND"
            " ((o.target = 'ghl' AND l.ghl_id IS NULL) OR"
            " (o.target = 'external' AND l.ext_key IS NULL))",
            {sync}),
      [](const Statement& st) -> Result<PendingCreate> {
        PendingCreate p;
        p.link_id = st.ColumnInt64(0);
        p.target = st.ColumnText(1) == "ghl" ? Target::kGhl : Target::kExternal;
        p.payload = st.ColumnText(2);
        return p;
      });
}

// ---- outbox ----

Result<int64_t> SyncStore::Enqueue(const Job& job) {
  return OneInt(
      Bound(db_,
            "INSERT INTO outbox (sync, link_id, target, op, payload_json, idempotency_key, lane,"
            " attempts, next_attempt_at, last_error, created_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, '', ?9)"
            " ON CONFLICT (link_id, target) DO UPDATE SET op = excluded.op,"
            " payload_json = excluded.payload_json, idempotency_key = excluded.idempotency_key,"
            " lane = excluded.lane, next_attempt_at = excluded.next_attempt_at,"
            " last_error = '' RETURNING id",
            {job.sync, job.link_id, ToString(job.target), job.op, job.payload, job.idempotency_key,
             int64_t{job.lane}, job.next_attempt_at, job.created_at}));
}

Result<std::vector<Job>> SyncStore::DueJobs(const std::string& sync, int64_t now, int limit,
                                            int max_lane) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT {} FROM outbox WHERE {} AND next_attempt_at <= ?2 "
                                   "AND lane <= ?4 ORDER BY next_attempt_at, id LIMIT ?3",
                                   kJobColumns, kSyncFilter),
                       {sync, now, int64_t{limit}, int64_t{max_lane}}),
                 &ReadJob);
}

Result<std::optional<int64_t>> SyncStore::NextDue() {
  return FirstRow(
      Bound(db_, "SELECT next_attempt_at FROM outbox ORDER BY next_attempt_at LIMIT 1", {}),
      &ReadId);
}

Result<bool> SyncStore::Complete(int64_t job_id, const std::string& idempotency_key) {
  return TouchedARow(Bound(db_,
                           "DELETE FROM outbox WHERE id = ?1 AND idempotency_key = ?2 RETURNING id",
                           {job_id, idempotency_key}));
}

Result<void> SyncStore::Reschedule(int64_t job_id, const std::string& idempotency_key, int attempts,
                                   int64_t next_attempt_at, const std::string& error) {
  return RunAll(Bound(db_,
                      "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4"
                      " WHERE id = ?1 AND idempotency_key = ?5",
                      {job_id, int64_t{attempts}, next_attempt_at, error, idempotency_key}));
}

Result<void> SyncStore::DeadLetterJob(const Job& job, const std::string& error,
                                      const std::string& response_body, const std::string& trace_id,
                                      int64_t now) {
  Result<void> inserted = RunAll(
      Bound(db_,
            "INSERT INTO dlq (sync, link_id, target, op, payload_json, idempotency_key, lane,"
            " attempts, error, response_body, trace_id, created_at, failed_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            {job.sync, job.link_id, ToString(job.target), job.op, job.payload, job.idempotency_key,
             int64_t{job.lane}, int64_t{job.attempts}, error, response_body, trace_id,
             job.created_at, now}));
  if (!inserted) return inserted;
  // A job replaced while it was in flight carries a newer decision: it stays queued.
  Result<bool> removed = Complete(job.id, job.idempotency_key);
  if (!removed) return removed.error();
  return Ok();
}

Result<int64_t> SyncStore::OutboxDepth(const std::string& sync) {
  return OneInt(
      Bound(db_, fmt::format("SELECT count(*) FROM outbox WHERE {}", kSyncFilter), {sync}));
}

Result<std::optional<Job>> SyncStore::PendingJob(int64_t link_id, Target target) {
  return FirstRow(
      Bound(db_,
            fmt::format("SELECT {} FROM outbox WHERE link_id = ?1 AND target = ?2", kJobColumns),
            {link_id, ToString(target)}),
      &ReadJob);
}

Result<void> SyncStore::DropPendingJob(int64_t link_id, Target target) {
  return RunAll(Bound(db_, "DELETE FROM outbox WHERE link_id = ?1 AND target = ?2",
                      {link_id, ToString(target)}));
}

Result<void> SyncStore::MarkAttempt(int64_t job_id, const std::string& idempotency_key,
                                    int64_t not_before) {
  return RunAll(Bound(db_,
                      "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = "
                      "MAX(next_attempt_at, ?3) WHERE id = ?1 AND idempotency_key = ?2",
                      {job_id, idempotency_key, not_before}));
}

// ---- dead-letter queue ----

Result<std::vector<DeadLetter>> SyncStore::DeadLetters(const std::string& sync, int limit) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT {} FROM dlq WHERE {} ORDER BY id LIMIT ?2",
                                   kDeadLetterColumns, kSyncFilter),
                       {sync, int64_t{limit}}),
                 &ReadDeadLetter);
}

Result<std::optional<DeadLetter>> SyncStore::DeadLetterById(int64_t id) {
  return FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM dlq WHERE id = ?1", kDeadLetterColumns), {id}),
      &ReadDeadLetter);
}

Result<SyncStore::Replayed> SyncStore::Replay(int64_t id, int64_t now) {
  Result<std::optional<Replayable>> found = FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM dlq WHERE id = ?1", kDeadLetterColumns), {id}),
      &ReadReplayable);
  if (!found) return found.error();
  if (!*found) return Replayed::kNotFound;
  const DeadLetter& d = (*found)->dead;
  Result<std::optional<Job>> pending = PendingJob(d.link_id, d.target);
  if (!pending) return pending.error();
  if (pending->has_value()) {
    if (Result<bool> dropped = Drop(id); !dropped) return dropped.error();
    return Replayed::kSuperseded;
  }
  Job job{.sync = d.sync,
          .link_id = d.link_id,
          .target = d.target,
          .op = d.op,
          .payload = d.payload,
          .idempotency_key = d.idempotency_key,
          .lane = (*found)->lane,
          .next_attempt_at = now,
          .created_at = now};
  if (Result<int64_t> queued = Enqueue(job); !queued) return queued.error();
  if (Result<bool> dropped = Drop(id); !dropped) return dropped.error();
  return Replayed::kQueued;
}

Result<bool> SyncStore::Drop(int64_t id) {
  return TouchedARow(Bound(db_, "DELETE FROM dlq WHERE id = ?1 RETURNING id", {id}));
}

Result<int64_t> SyncStore::DeadLetterCount(const std::string& sync) {
  return OneInt(Bound(db_, fmt::format("SELECT count(*) FROM dlq WHERE {}", kSyncFilter), {sync}));
}

// ---- cursors ----

Result<std::optional<std::string>> SyncStore::Cursor(const std::string& sync,
                                                     const std::string& source) {
  return FirstRow(
      Bound(db_, "SELECT value FROM cursors WHERE sync = ?1 AND source = ?2", {sync, source}),
      &ReadText);
}

Result<void> SyncStore::SetCursor(const std::string& sync, const std::string& source,
                                  const std::string& value, int64_t now) {
  return RunAll(Bound(db_,
                      "INSERT INTO cursors (sync, source, value, updated_at)"
                      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sync, source)"
                      " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                      {sync, source, value, now}));
}

// ---- conflicts ----

Result<void> SyncStore::RecordConflict(const ConflictRecord& c) {
  return RunAll(Bound(
      db_,
      "INSERT INTO conflicts (sync, link_id, field, base_value,"
      " ghl_value, ext_value, rule, winner, at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
      {c.sync, c.link_id, c.field, c.base_json, c.ghl_json, c.ext_json, c.rule, c.winner, c.at}));
}

Result<std::vector<ConflictRecord>> SyncStore::Conflicts(const std::string& sync, int limit) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT sync, link_id, field, base_value, ghl_value, ext_value,"
                                   " rule, winner, at FROM conflicts WHERE {}"
                                   " ORDER BY id DESC LIMIT ?2",
                                   kSyncFilter),
                       {sync, int64_t{limit}}),
                 &ReadConflict);
}

// ---- deletes held by the mass-delete guard ----

namespace {

constexpr std::string_view kHeldColumns =
    "id, sync, link_id, ghl_id, ext_key, deleted_side, source, target, op, payload_json,"
    " idempotency_key, lane, version, changed, held_at";

Result<HeldDelete> ReadHeld(const Statement& s) {
  HeldDelete h;
  h.id = s.ColumnInt64(0);
  Result<Target> side = ParseTarget(s.ColumnText(5), "held_deletes", h.id);
  if (!side) return side.error();
  Result<Target> target = ParseTarget(s.ColumnText(7), "held_deletes", h.id);
  if (!target) return target.error();
  h.sync = s.ColumnText(1);
  h.link_id = s.ColumnInt64(2);
  h.ghl_id = s.ColumnText(3);
  h.ext_key = s.ColumnText(4);
  h.deleted_side = *side;
  h.source = s.ColumnText(6);
  h.job.sync = h.sync;
  h.job.link_id = h.link_id;
  h.job.target = *target;
  h.job.op = s.ColumnText(8);
  h.job.payload = s.ColumnText(9);
  h.job.idempotency_key = s.ColumnText(10);
  h.job.lane = static_cast<int>(s.ColumnInt64(11));
  h.version = s.ColumnText(12);
  h.changed = s.ColumnInt64(13) != 0;
  h.held_at = s.ColumnInt64(14);
  h.job.created_at = h.held_at;
  return h;
}

constexpr int64_t kDeleteLogKeepMs = 7LL * 86'400'000;  // the longest delete_guard.window

}  // namespace

Result<bool> SyncStore::HoldDelete(const HeldDelete& h) {
  return TouchedARow(Bound(
      db_,
      "INSERT INTO held_deletes (sync, link_id, ghl_id, ext_key, deleted_side, source, target,"
      " op, payload_json, idempotency_key, lane, version, changed, held_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
      " ON CONFLICT (link_id) DO NOTHING RETURNING id",
      {h.sync, h.link_id, h.ghl_id, h.ext_key, ToString(h.deleted_side), h.source,
       ToString(h.job.target), h.job.op, h.job.payload, h.job.idempotency_key, int64_t{h.job.lane},
       h.version, int64_t{h.changed ? 1 : 0}, h.held_at}));
}

Result<std::vector<HeldDelete>> SyncStore::HeldDeletes(const std::string& sync, int limit) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT {} FROM held_deletes WHERE {} ORDER BY id LIMIT ?2",
                                   kHeldColumns, kSyncFilter),
                       {sync, int64_t{limit}}),
                 &ReadHeld);
}

Result<std::optional<HeldDelete>> SyncStore::HeldDeleteById(int64_t id) {
  return FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM held_deletes WHERE id = ?1", kHeldColumns), {id}),
      &ReadHeld);
}

Result<std::optional<HeldDelete>> SyncStore::HeldDeleteOfLink(int64_t link_id) {
  return FirstRow(
      Bound(db_, fmt::format("SELECT {} FROM held_deletes WHERE link_id = ?1", kHeldColumns),
            {link_id}),
      &ReadHeld);
}

Result<int64_t> SyncStore::HeldDeleteCount(const std::string& sync) {
  return OneInt(
      Bound(db_, fmt::format("SELECT count(*) FROM held_deletes WHERE {}", kSyncFilter), {sync}));
}

Result<void> SyncStore::MarkHeldChanged(int64_t link_id) {
  return RunAll(Bound(db_, "UPDATE held_deletes SET changed = 1 WHERE link_id = ?1", {link_id}));
}

Result<bool> SyncStore::ForgetHeldDelete(int64_t link_id) {
  return TouchedARow(
      Bound(db_, "DELETE FROM held_deletes WHERE link_id = ?1 RETURNING id", {link_id}));
}

Result<SyncStore::Released> SyncStore::ReleaseHeldDelete(int64_t id, int64_t now) {
  Result<std::optional<HeldDelete>> held = HeldDeleteById(id);
  if (!held) return held.error();
  if (!*held) return Released::kNotFound;
  const HeldDelete& h = **held;
  if (Result<bool> gone =
          TouchedARow(Bound(db_, "DELETE FROM held_deletes WHERE id = ?1 RETURNING id", {id}));
      !gone) {
    return gone.error();
  }
  // The tombstone, as the pass commits it with its delete job.
  Result<bool> unlinked =
      TouchedARow(Bound(db_,
                        "UPDATE links SET deleted = 1, updated_at = ?2 WHERE id = ?1 AND"
                        " deleted = 0 RETURNING id",
                        {h.link_id, now}));
  if (!unlinked) return unlinked.error();
  if (!*unlinked) return Released::kGone;
  if (h.changed) return Released::kKept;
  Job job = h.job;
  job.created_at = now;
  job.next_attempt_at = now;
  if (Result<int64_t> queued = Enqueue(job); !queued) return queued.error();
  return Released::kQueued;
}

Result<bool> SyncStore::DropHeldDelete(int64_t id, int64_t now) {
  Result<std::optional<HeldDelete>> held = HeldDeleteById(id);
  if (!held) return held.error();
  if (!*held) return false;
  Result<void> unlinked = RunAll(
      Bound(db_, "UPDATE links SET deleted = 1, updated_at = ?2 WHERE id = ?1 AND deleted = 0",
            {(*held)->link_id, now}));
  if (!unlinked) return unlinked.error();
  return TouchedARow(Bound(db_, "DELETE FROM held_deletes WHERE id = ?1 RETURNING id", {id}));
}

Result<void> SyncStore::RecordDeletesMade(const std::string& sync, int64_t count, int64_t now) {
  if (count <= 0) return Ok();
  Result<void> pruned = RunAll(Bound(db_, "DELETE FROM delete_log WHERE sync = ?1 AND at < ?2",
                                     {sync, now - kDeleteLogKeepMs}));
  if (!pruned) return pruned;
  return RunAll(Bound(db_, "INSERT INTO delete_log (sync, at, deletes) VALUES (?1, ?2, ?3)",
                      {sync, now, count}));
}

Result<RecentDeletes> SyncStore::DeletesSince(const std::string& sync, int64_t since) {
  RecentDeletes out;
  Result<int64_t> made = OneInt(
      Bound(db_, "SELECT coalesce(sum(deletes), 0) FROM delete_log WHERE sync = ?1 AND at > ?2",
            {sync, since}));
  if (!made) return made.error();
  Result<int64_t> held = OneInt(Bound(
      db_, "SELECT count(*) FROM held_deletes WHERE sync = ?1 AND held_at > ?2", {sync, since}));
  if (!held) return held.error();
  out.made = *made;
  out.held = *held;
  return out;
}

Result<void> SyncStore::AddAudit(const AuditEntry& e) {
  return RunAll(Bound(db_,
                      "INSERT INTO audit (sync, link_id, at, direction, action, ghl_id, ext_key,"
                      " before_json, after_json, rule, trace_id)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                      {e.sync, e.link_id, e.at, e.direction, e.action, e.ghl_id, e.ext_key,
                       e.before_json, e.after_json, e.rule, e.trace_id}));
}

Result<std::vector<AuditEntry>> SyncStore::Audit(const std::string& sync, const std::string& record,
                                                 int limit) {
  return AllRows(Bound(db_,
                       fmt::format("SELECT id, sync, link_id, at, direction, action, ghl_id,"
                                   " ext_key, before_json, after_json, rule, trace_id FROM audit"
                                   " WHERE {} AND (?2 = '' OR ghl_id = ?2 OR ext_key = ?2)"
                                   " ORDER BY at DESC, id DESC LIMIT ?3",
                                   kSyncFilter),
                       {sync, record, int64_t{limit}}),
                 &ReadAudit);
}

Result<int64_t> SyncStore::PruneAudit(int64_t before_ms, int max_rows) {
  Result<std::vector<int64_t>> gone =
      AllRows(Bound(db_,
                    "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ?1"
                    " ORDER BY at LIMIT ?2) RETURNING id",
                    {before_ms, int64_t{max_rows}}),
              &ReadId);
  if (!gone) return gone.error();
  return static_cast<int64_t>(gone->size());
}

}  // namespace ghl::sync
