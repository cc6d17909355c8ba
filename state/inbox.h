// InboxStore: the webhook inbox in the state store (migration 4). Webhooks are appended as
// received, before their 200; the sync engine reads the pending rows oldest first and marks
// each done (or skipped) in the same transaction that commits its change, so a row is done
// exactly when its change is durable downstream, and a restart processes unfinished rows
// again.
//
// `webhook_seen` remembers every webhookId appended, so a replay (GHL retrying after a
// lost answer, or an attacker) is reported as a duplicate and not stored twice. Prune()
// forgets ids and finished rows older than the retention.
//
// A row whose change cannot be committed (a side unreachable, a record the mapping cannot
// take) is deferred on its own with a growing wait, so the rows behind it go on; after too
// many attempts the engine marks it failed, and it waits for an operator (`ghl-syncd dlq`).
//
// Times are Unix milliseconds, passed in (no clock here).
// Thread-safety: one InboxStore per connection per thread; several connections (the
// webhook writer's and the engine's) may use the same file at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "state/sqlite.h"

namespace ghl::state {

// One verified webhook as received.
struct InboxItem {
  std::string webhook_id;  // the dedupe key
  int64_t received_at = 0;
  std::string body;          // the raw bytes the signature covered
  std::string headers_json;  // the request headers that matter, as a JSON object
};

enum class AppendResult { kStored, kDuplicate };

struct InboxRow {
  int64_t id = 0;  // increasing in the order rows were appended
  std::string webhook_id;
  int64_t received_at = 0;
  std::string body;
  std::string headers_json;
  int attempts = 0;  // failed attempts so far (Defer)
  // Tried before and deferred (counted or not), or replayed from the dead-letter queue:
  // the webhook is old news, its record may have changed or gone since.
  bool tried = false;
};

// A row the engine gave up on (MarkFailed): the inbox's dead letters.
struct FailedInboxRow {
  int64_t id = 0;
  std::string webhook_id;
  int64_t received_at = 0;
  std::string body;
  int attempts = 0;
  std::string error;
  int64_t failed_at = 0;
};

class InboxStore {
 public:
  explicit InboxStore(sqlite::Db& db) : db_(db) {}

  // Appends `batch` in one transaction (BEGIN IMMEDIATE .. COMMIT): one result per item, in
  // order. An item whose webhook_id was seen before (earlier, or earlier in this batch) is
  // kDuplicate and not stored. On an error nothing of the batch is stored (the caller
  // answers 429 and GHL retries). REQUIRES: no transaction open on the connection.
  Result<std::vector<AppendResult>> Append(const std::vector<InboxItem>& batch, int64_t now);

  // Up to `limit` pending rows with an id above `after_id`, oldest first, leaving out rows
  // deferred past `now` (Defer). `after_id` lets a caller page past rows it could not
  // finish yet.
  Result<std::vector<InboxRow>> Pending(int limit, int64_t after_id = 0,
                                        int64_t now = std::numeric_limits<int64_t>::max());

  // A pending row whose change could not be committed: counts the attempt (unless not
  // `count`), keeps `error` as its note and leaves it out of Pending() until `retry_at`.
  // Returns the attempts so far. Fails when the row is not pending.
  Result<int> Defer(int64_t id, std::string_view error, int64_t retry_at, bool count = true);

  // Finishes a pending row: done (its change is committed) or skipped (an event this
  // daemon does not sync: unknown type or location). `note` says why, for `status` and
  // debugging. Neither opens a transaction: the engine calls them inside the transaction
  // that commits the change. Fails when the row does not exist or is not pending.
  Result<void> MarkDone(int64_t id, std::string_view note, int64_t now);
  Result<void> MarkSkipped(int64_t id, std::string_view note, int64_t now);
  // Gives up on a pending row after one more failed attempt (counted): it is kept, with
  // `error`, until Retry() or Drop(); Prune() leaves it alone.
  Result<void> MarkFailed(int64_t id, std::string_view error, int64_t now);

  // ---- failed rows (`ghl-syncd dlq`) ----
  Result<std::vector<FailedInboxRow>> Failed(int limit);  // newest first
  Result<std::optional<FailedInboxRow>> FailedById(int64_t id);
  Result<int64_t> FailedCount();
  // Back to pending with no attempts counted; false when `id` is not a failed row.
  Result<bool> Retry(int64_t id);
  // Deletes a failed row for good; false when `id` is not a failed row.
  Result<bool> Drop(int64_t id);

  // Pending rows (deferred ones included).
  Result<int64_t> Depth();
  // How long the oldest pending row has waited; nullopt when none is pending.
  Result<std::optional<int64_t>> OldestPendingAgeMs(int64_t now);

  struct Pruned {
    int64_t seen = 0;  // webhookIds forgotten
    int64_t rows = 0;  // done or skipped rows deleted
  };
  // Deletes seen ids and done/skipped rows older than `retention`, at most `max_rows` of
  // each per call (so the write lock is held briefly; call again for the rest). Pending
  // rows are never pruned. Each delete is its own statement (no transaction opened).
  Result<Pruned> Prune(std::chrono::milliseconds retention, int64_t now, int64_t max_rows = 10'000);

 private:
  Result<void> Finish(int64_t id, const char* state, std::string_view note, int64_t now);
  Result<int64_t> DeleteOld(const char* sql, int64_t cutoff, int64_t max_rows);

  sqlite::Db& db_;
};

}  // namespace ghl::state
