#include "state/inbox.h"

#include <fmt/format.h>

#include <algorithm>

namespace ghl::state {

Result<std::vector<AppendResult>> InboxStore::Append(const std::vector<InboxItem>& batch,
                                                     int64_t now) {
  std::vector<AppendResult> results;
  results.reserve(batch.size());
  Result<void> done = db_.Transaction([&]() -> Result<void> {
    results.clear();
    // RETURNING yields a row only when the id was not seen before.
    auto seen = db_.Prepare(
        "INSERT INTO webhook_seen (webhook_id, seen_at) VALUES (?1, ?2) "
        "ON CONFLICT DO NOTHING RETURNING 1");
    if (!seen) return seen.error();
    auto insert = db_.Prepare(
        "INSERT INTO webhook_inbox (webhook_id, received_at, body, headers_json) "
        "VALUES (?1, ?2, ?3, ?4)");
    if (!insert) return insert.error();
    for (const InboxItem& item : batch) {
      if (auto b = seen->BindText(1, item.webhook_id); !b) return b;
      if (auto b = seen->BindInt64(2, now); !b) return b;
      Result<bool> fresh = seen->Step();
      seen->Reset();  // a RETURNING statement makes its change on the first step
      if (!fresh) return fresh.error();
      if (!*fresh) {
        results.push_back(AppendResult::kDuplicate);
        continue;
      }
      insert->Reset();
      if (auto b = insert->BindText(1, item.webhook_id); !b) return b;
      if (auto b = insert->BindInt64(2, item.received_at); !b) return b;
      if (auto b = insert->BindText(3, item.body); !b) return b;
      if (auto b = insert->BindText(4, item.headers_json); !b) return b;
      if (auto run = insert->Run(); !run) return run;
      results.push_back(AppendResult::kStored);
    }
    return Ok();
  });
  if (!done) return done.error();
  return results;
}

Result<std::vector<InboxRow>> InboxStore::Pending(int limit, int64_t after_id, int64_t now) {
  auto stmt = db_.Prepare(
      "SELECT id, webhook_id, received_at, body, headers_json, attempts, "
      "coalesce(note, '') != '' FROM webhook_inbox "
      "WHERE state = 'new' AND id > ?1 AND retry_at <= ?3 ORDER BY id LIMIT ?2");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, after_id); !b) return b.error();
  if (auto b = stmt->BindInt64(2, limit); !b) return b.error();
  if (auto b = stmt->BindInt64(3, now); !b) return b.error();
  std::vector<InboxRow> rows;
  for (;;) {
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (!*row) break;
    rows.push_back({stmt->ColumnInt64(0), stmt->ColumnText(1), stmt->ColumnInt64(2),
                    stmt->ColumnText(3), stmt->ColumnText(4),
                    static_cast<int>(stmt->ColumnInt64(5)), stmt->ColumnInt64(6) != 0});
  }
  return rows;
}

Result<int> InboxStore::Defer(int64_t id, std::string_view error, int64_t retry_at, bool count) {
  auto stmt = db_.Prepare(
      "UPDATE webhook_inbox SET attempts = attempts + ?4, note = ?1, retry_at = ?2 "
      "WHERE id = ?3 AND state = 'new' RETURNING attempts");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, error); !b) return b.error();
  if (auto b = stmt->BindInt64(2, retry_at); !b) return b.error();
  if (auto b = stmt->BindInt64(3, id); !b) return b.error();
  if (auto b = stmt->BindInt64(4, count ? 1 : 0); !b) return b.error();
  Result<bool> updated = stmt->Step();
  if (!updated) return updated.error();
  if (!*updated) {
    return Error{
        fmt::format("state file {}: webhook inbox row {} is not pending", db_.path().string(), id)};
  }
  return static_cast<int>(stmt->ColumnInt64(0));
}

Result<void> InboxStore::Finish(int64_t id, const char* state, std::string_view note, int64_t now) {
  auto stmt = db_.Prepare(
      "UPDATE webhook_inbox SET state = ?1, note = ?2, processed_at = ?3, "
      "attempts = attempts + (?1 = 'failed') WHERE id = ?4 AND state = 'new' RETURNING id");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindText(1, state); !b) return b;
  if (auto b = stmt->BindText(2, note); !b) return b;
  if (auto b = stmt->BindInt64(3, now); !b) return b;
  if (auto b = stmt->BindInt64(4, id); !b) return b;
  Result<bool> updated = stmt->Step();
  if (!updated) return updated.error();
  if (!*updated) {
    return Error{
        fmt::format("state file {}: webhook inbox row {} is not pending (unknown, or "
                    "already finished)",
                    db_.path().string(), id)};
  }
  return Ok();
}

Result<void> InboxStore::MarkDone(int64_t id, std::string_view note, int64_t now) {
  return Finish(id, "done", note, now);
}

Result<void> InboxStore::MarkSkipped(int64_t id, std::string_view note, int64_t now) {
  return Finish(id, "skipped", note, now);
}

Result<void> InboxStore::MarkFailed(int64_t id, std::string_view error, int64_t now) {
  return Finish(id, "failed", error, now);
}

namespace {
FailedInboxRow ReadFailed(sqlite::Statement& stmt) {
  return {stmt.ColumnInt64(0),
          stmt.ColumnText(1),
          stmt.ColumnInt64(2),
          stmt.ColumnText(3),
          static_cast<int>(stmt.ColumnInt64(4)),
          stmt.ColumnText(5),
          stmt.ColumnInt64(6)};
}
constexpr const char* kFailedColumns =
    "SELECT id, webhook_id, received_at, body, attempts, note, processed_at FROM webhook_inbox "
    "WHERE state = 'failed' ";
}  // namespace

Result<std::vector<FailedInboxRow>> InboxStore::Failed(int limit) {
  auto stmt = db_.Prepare(std::string(kFailedColumns) + "ORDER BY id DESC LIMIT ?1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, limit); !b) return b.error();
  std::vector<FailedInboxRow> rows;
  for (;;) {
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return rows;
    rows.push_back(ReadFailed(*stmt));
  }
}

Result<std::optional<FailedInboxRow>> InboxStore::FailedById(int64_t id) {
  auto stmt = db_.Prepare(std::string(kFailedColumns) + "AND id = ?1");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, id); !b) return b.error();
  Result<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<FailedInboxRow>();
  return std::optional<FailedInboxRow>(ReadFailed(*stmt));
}

Result<int64_t> InboxStore::FailedCount() {
  return db_.QueryInt64("SELECT count(*) FROM webhook_inbox WHERE state = 'failed'");
}

Result<bool> InboxStore::Retry(int64_t id) {
  auto stmt = db_.Prepare(
      "UPDATE webhook_inbox SET state = 'new', attempts = 0, retry_at = 0, processed_at = NULL "
      "WHERE id = ?1 AND state = 'failed' RETURNING id");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, id); !b) return b.error();
  return stmt->Step();
}

Result<bool> InboxStore::Drop(int64_t id) {
  auto stmt =
      db_.Prepare("DELETE FROM webhook_inbox WHERE id = ?1 AND state = 'failed' RETURNING id");
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, id); !b) return b.error();
  return stmt->Step();
}

Result<int64_t> InboxStore::Depth() {
  return db_.QueryInt64("SELECT count(*) FROM webhook_inbox WHERE state = 'new'");
}

Result<std::optional<int64_t>> InboxStore::OldestPendingAgeMs(int64_t now) {
  // Ids grow with receive order, so the lowest pending id is the oldest.
  auto stmt =
      db_.Prepare("SELECT received_at FROM webhook_inbox WHERE state = 'new' ORDER BY id LIMIT 1");
  if (!stmt) return stmt.error();
  Result<bool> row = stmt->Step();
  if (!row) return row.error();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(std::max<int64_t>(0, now - stmt->ColumnInt64(0)));
}

Result<int64_t> InboxStore::DeleteOld(const char* sql, int64_t cutoff, int64_t max_rows) {
  auto stmt = db_.Prepare(sql);
  if (!stmt) return stmt.error();
  if (auto b = stmt->BindInt64(1, cutoff); !b) return b.error();
  if (auto b = stmt->BindInt64(2, max_rows); !b) return b.error();
  int64_t deleted = 0;
  for (;;) {
    Result<bool> row = stmt->Step();
    if (!row) return row.error();
    if (!*row) return deleted;
    ++deleted;
  }
}

Result<InboxStore::Pruned> InboxStore::Prune(std::chrono::milliseconds retention, int64_t now,
                                             int64_t max_rows) {
  const int64_t cutoff = now - retention.count();
  Pruned pruned;
  auto seen = DeleteOld(
      "DELETE FROM webhook_seen WHERE webhook_id IN (SELECT webhook_id FROM webhook_seen "
      "WHERE seen_at < ?1 ORDER BY seen_at LIMIT ?2) RETURNING 1",
      cutoff, max_rows);
  if (!seen) return seen.error();
  pruned.seen = *seen;
  auto rows = DeleteOld(
      "DELETE FROM webhook_inbox WHERE id IN (SELECT id FROM webhook_inbox "
      "WHERE state IN ('done', 'skipped') AND processed_at < ?1 ORDER BY processed_at "
      "LIMIT ?2) RETURNING 1",
      cutoff, max_rows);
  if (!rows) return rows.error();
  pruned.rows = *rows;
  return pruned;
}

}  // namespace ghl::state
