// SyncStore: the engine's tables in the state store (migration 3): links with their base
// snapshots, the outbox, the dead-letter queue, cursors and recorded conflicts; the audit
// trail of writes (migration 8); deletes held by the mass-delete guard (migration 10).
//
// Every method is one or a few SQL statements on the given connection; none opens its own
// transaction, so the engine can commit "cursor + state + outbox" of one change together
// inside Transaction(). Times are Unix milliseconds, passed in (no clock here).
//
// Thread-safety: one SyncStore per connection per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "mapping/value.h"
#include "state/sqlite.h"
#include "sync/delete_guard.h"

namespace ghl::sync {

enum class Target { kGhl, kExternal };
const char* ToString(Target t);  // "ghl" | "external"

struct Link {
  int64_t id = 0;  // 0 until inserted
  std::string sync;
  std::string location;
  std::optional<std::string> ghl_id;   // unset until created in GHL
  std::optional<std::string> ext_key;  // unset until created externally
  mapping::Fields base;                // canonical values as last synced
  std::string ghl_version;             // GHL dateUpdated last seen or written by us
  std::string ext_version;             // connector Row::version last seen or written by us
  bool deleted = false;                // tombstone: deleted on a side and handled
  int64_t updated_at = 0;
  // Bumped by every save (migration 11): a pass saves a link only when no webhook or
  // dispatch saved it since the pass read it (SaveLinkIfUnchanged).
  int64_t rev = 0;
};

struct Job {
  int64_t id = 0;
  std::string sync;
  int64_t link_id = 0;
  Target target = Target::kGhl;
  std::string op;       // "upsert" | "delete"
  std::string payload;  // JSON (canonical fields for GHL, external columns outside, ...)
  std::string idempotency_key;
  int lane = 0;  // ghl_client::Lane as int: 0 realtime, 1 reconcile, 2 backfill
  int attempts = 0;
  int64_t next_attempt_at = 0;
  std::string last_error;
  int64_t created_at = 0;
};

struct DeadLetter {
  int64_t id = 0;
  std::string sync;
  int64_t link_id = 0;
  Target target = Target::kGhl;
  std::string op;
  std::string payload;
  std::string idempotency_key;
  int attempts = 0;
  std::string error;
  std::string response_body;
  std::string trace_id;
  int64_t created_at = 0;
  int64_t failed_at = 0;
};

struct ConflictRecord {
  std::string sync;
  int64_t link_id = 0;
  std::string field;
  std::string base_json, ghl_json, ext_json;
  std::string rule;
  std::string winner;  // "ghl" | "external"
  int64_t at = 0;
};

// A delete the mass-delete guard held (migration 10, sync/delete_guard.h): the outbox job
// the pass or webhook decided, not enqueued. Its link stays live (not a tombstone) until
// the delete is released (the job enqueued, the link a tombstone) or dropped (the link a
// tombstone, nothing deleted); a link has at most one.
struct HeldDelete {
  int64_t id = 0;  // set when read
  std::string sync;
  int64_t link_id = 0;
  std::string ghl_id;                       // the pair when held, for listings
  std::string ext_key;                      //
  Target deleted_side = Target::kExternal;  // the side whose record is gone
  std::string source;                       // "pass" | "webhook"
  Job job;               // what a release enqueues (its target is the other side)
  std::string version;   // the other side's version when held (dateUpdated / Row::version)
  bool changed = false;  // that record changed after the delete was held: a release keeps it
  int64_t held_at = 0;
};

// One write the engine carried out (migration 8, table audit).
struct AuditEntry {
  int64_t id = 0;  // set when read
  std::string sync;
  int64_t link_id = 0;
  int64_t at = 0;         // Unix ms
  std::string direction;  // "to_ghl" | "to_external"
  std::string action;     // "create" | "update" | "delete"
  std::string ghl_id;     // "" when the record has none (yet)
  std::string ext_key;
  std::string before_json = "{}";  // the target's values of the written fields, when decided
  std::string after_json = "{}";   // the values written (canonical)
  std::string rule;                // why: "changed in GHL", "conflict: newest", ...
  std::string trace_id;            // GHL's traceId of the write ("" for external writes)
};

class SyncStore {
 public:
  explicit SyncStore(state::sqlite::Db& db) : db_(db) {}

  // BEGIN IMMEDIATE ... COMMIT around `body` (see sqlite::Db::Transaction).
  Result<void> Transaction(const std::function<Result<void>()>& body) {
    return db_.Transaction(body);
  }

  // ---- links ----
  Result<std::optional<Link>> LinkById(int64_t id);
  Result<std::optional<Link>> LinkByGhlId(const std::string& sync, const std::string& ghl_id);
  Result<std::optional<Link>> LinkByExtKey(const std::string& sync, const std::string& ext_key);
  // Inserts (id == 0; returns the new id) or updates every column of an existing link.
  // Fails on a unique-index clash (the same GHL id or external key linked twice).
  Result<int64_t> SaveLink(const Link& link);
  // As SaveLink, for a link read before (link.id set): only when its rev is still
  // link.rev. nullopt: it was saved since (by a webhook's decision or a dispatch), nothing
  // was written.
  Result<std::optional<int64_t>> SaveLinkIfUnchanged(const Link& link);
  // Makes the next pass read both sides of the link again (LinksToReread).
  Result<void> ReadLinkAgain(int64_t link_id);
  // A link's external side in brief: what a scan needs to tell an unchanged row from a
  // changed one, and a complete scan to tell what was deleted, without reading whole links
  // (their base snapshots) a million times.
  struct ExtSide {
    int64_t id = 0;
    std::string ext_key;
    std::string ext_version;
  };
  // The links of `sync` (live or deleted) holding these external keys, in one query; a key
  // without one is not linked.
  Result<std::vector<ExtSide>> ExtSides(const std::string& sync,
                                        const std::vector<std::string>& keys);
  // Every live (not deleted) link of a sync that has an external key, ordered by id;
  // `after_id` pages.
  Result<std::vector<ExtSide>> LinkedExtKeys(const std::string& sync, int64_t after_id, int limit);
  Result<int64_t> CountLinks(const std::string& sync);
  // Live links of a sync paired on both sides whose versions were both cleared (the
  // engine could not tell what a side holds): the next pass reads both sides again.
  Result<std::vector<Link>> LinksToReread(const std::string& sync, int limit);

  // Creates not finished yet: live links whose GHL id (target ghl) or external key (target
  // external) is still unset while a job for that side is pending. A record that appears
  // on that side meanwhile (a crash after the create, before its result was recorded) is
  // this link's, not a new one.
  struct PendingCreate {
    int64_t link_id = 0;
    Target target = Target::kGhl;
    std::string payload;
  };
  Result<std::vector<PendingCreate>> PendingCreates(const std::string& sync);

  // ---- outbox ----
  // Enqueues a job, or replaces the pending job of the same (link, target): its op,
  // payload, key and lane become the new ones, due at `job.next_attempt_at`; attempts are
  // kept (an earlier attempt may have been made: the new job is read back first too).
  // Returns the job id.
  Result<int64_t> Enqueue(const Job& job);
  // Jobs of `sync` ("" = every sync) due at `now`, oldest first, at most `limit`.
  // `max_lane`: only jobs of this lane or a more urgent one (ghl_client::Lane: 0 real time).
  Result<std::vector<Job>> DueJobs(const std::string& sync, int64_t now, int limit,
                                   int max_lane = 2);
  // The earliest next_attempt_at of any job, if there is one (for the dispatcher's timer).
  Result<std::optional<int64_t>> NextDue();
  // Deletes the job if it still carries `idempotency_key` (a job replaced while it was in
  // flight stays). Returns whether it was deleted.
  Result<bool> Complete(int64_t job_id, const std::string& idempotency_key);
  // Sets the next attempt of a job that still carries `idempotency_key` (a job replaced
  // while in flight keeps the new decision's schedule).
  Result<void> Reschedule(int64_t job_id, const std::string& idempotency_key, int attempts,
                          int64_t next_attempt_at, const std::string& error);
  // Moves the job to the dead-letter queue (same transaction: callers wrap it).
  Result<void> DeadLetterJob(const Job& job, const std::string& error,
                             const std::string& response_body, const std::string& trace_id,
                             int64_t now);
  Result<int64_t> OutboxDepth(const std::string& sync = "");  // "" = all syncs
  Result<std::optional<Job>> PendingJob(int64_t link_id, Target target);
  // Counts an attempt of a job that still carries `idempotency_key`, before its write is
  // sent: after a crash, a job with attempts > 0 may have been carried out already.
  // Deletes the outbox job of `link_id` for `target`, if any (a create never sent whose
  // record turned out to be there already).
  Result<void> DropPendingJob(int64_t link_id, Target target);
  // `not_before`: the job is not due again before this time (0: its due time stays).
  Result<void> MarkAttempt(int64_t job_id, const std::string& idempotency_key,
                           int64_t not_before = 0);

  // ---- dead-letter queue ----
  Result<std::vector<DeadLetter>> DeadLetters(const std::string& sync, int limit);  // "" = all
  Result<std::optional<DeadLetter>> DeadLetterById(int64_t id);
  // Puts the entry back into the outbox (as Enqueue does, due at `now`) and removes it.
  // When a newer write of the same record to the same side is already waiting, that one
  // stands (it was decided later, from fresher values) and the entry is only removed.
  enum class Replayed { kNotFound, kQueued, kSuperseded };
  Result<Replayed> Replay(int64_t id, int64_t now);
  Result<bool> Drop(int64_t id);
  Result<int64_t> DeadLetterCount(const std::string& sync = "");

  // ---- cursors ----
  Result<std::optional<std::string>> Cursor(const std::string& sync, const std::string& source);
  Result<void> SetCursor(const std::string& sync, const std::string& source,
                         const std::string& value, int64_t now);

  // ---- conflicts ----
  Result<void> RecordConflict(const ConflictRecord& c);
  Result<std::vector<ConflictRecord>> Conflicts(const std::string& sync, int limit);

  // ---- deletes held by the mass-delete guard ----
  // Records a held delete; returns false when its link has one already (that one stays).
  Result<bool> HoldDelete(const HeldDelete& held);
  // Oldest first, at most `limit`; sync "" = every sync.
  Result<std::vector<HeldDelete>> HeldDeletes(const std::string& sync, int limit);
  Result<std::optional<HeldDelete>> HeldDeleteById(int64_t id);
  Result<std::optional<HeldDelete>> HeldDeleteOfLink(int64_t link_id);
  Result<int64_t> HeldDeleteCount(const std::string& sync = "");  // "" = all syncs
  // The record the delete would remove changed after the delete was held.
  Result<void> MarkHeldChanged(int64_t link_id);
  // Removes the held delete of a link whose deleted record is back (nothing to delete);
  // returns whether there was one.
  Result<bool> ForgetHeldDelete(int64_t link_id);
  // A release does what the pass would have done: the link becomes a tombstone and the
  // job is enqueued (as Enqueue does, due at `now`). Not for a delete whose other record
  // changed since it was held (HeldDelete::changed): that pair is unlinked and both records
  // kept (kKept). kGone: its link was deleted or unlinked meanwhile; the entry is removed.
  enum class Released { kNotFound, kQueued, kKept, kGone };
  Result<Released> ReleaseHeldDelete(int64_t id, int64_t now);
  // Discards a held delete: the pair is unlinked (its link a tombstone, as `deletes:
  // ignore` does) and nothing is deleted. Returns whether there was one.
  Result<bool> DropHeldDelete(int64_t id, int64_t now);
  // The guard's window: deletes it let through at `now` (pruned after 7 days), and the
  // deletes made and held since `since`.
  Result<void> RecordDeletesMade(const std::string& sync, int64_t count, int64_t now);
  Result<RecentDeletes> DeletesSince(const std::string& sync, int64_t since);

  // ---- audit trail ----
  Result<void> AddAudit(const AuditEntry& entry);
  // Newest first, at most `limit`. sync "" = every sync; record "" = every record, else the
  // entries whose GHL id or external key is `record`.
  Result<std::vector<AuditEntry>> Audit(const std::string& sync, const std::string& record,
                                        int limit);
  // Deletes at most `max_rows` entries older than `before_ms` (oldest first); returns how
  // many it deleted.
  Result<int64_t> PruneAudit(int64_t before_ms, int max_rows);

 private:
  state::sqlite::Db& db_;
};

}  // namespace ghl::sync
