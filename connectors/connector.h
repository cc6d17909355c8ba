// Connector: the external side of a sync (a CSV file, an SQL table, a REST resource),
// behind one small interface. Every connector lives in its own folder under connectors/,
// is created through the explicit registry (connectors/registry.h) and passes the same
// conformance suite (tests/conformance/).
//
// Calls are synchronous and may block (file IO, SQL, HTTP); the engine calls a connector
// from its own worker thread, never from the event loop. One connector object belongs to
// one sync and is used by one thread at a time.
//
// Rows carry the connector's own column names and values; the mapping turns them into
// canonical GHL fields. Keys are strings; a composite key is joined by the connector and
// split again by it (the engine treats keys as opaque).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "mapping/value.h"

namespace ghl::connectors {

using mapping::Fields;
using mapping::Value;

struct Row {
  std::string key;  // the external key; never empty in rows a connector returns
  Fields fields;    // every mapped-or-not column of the row, by column name
  // A change token for this row as it is now: the updated_at value, an ETag, or a hash of
  // the row's contents. Two reads of an unchanged row give the same version; any change
  // gives a new one. Write() returns the version of what it wrote, equal to what a later
  // Scan/Get reports for that row while nobody else touched it: this is how the engine
  // recognises its own writes.
  std::string version;
  bool deleted = false;  // soft-deleted in the source (a flag column); still has a key
  // When the row last changed (Unix ms), where the source knows (an updated_at column or
  // field); 0 when it does not (the engine then uses the time it noticed the change).
  int64_t updated_ms = 0;
};

// A row the connector could not read (a CSV line with an open quote, a REST item without
// its key). It is reported, never silently dropped, and a scan with rejected rows is not
// `complete` (its keys must not be taken as deleted).
struct RejectedRow {
  std::string where;  // "contacts.csv:17", "GET /customers?page=3 item 5"
  std::string reason;
};

struct ScanPage {
  std::vector<Row> rows;
  std::vector<RejectedRow> rejected;
  // Pass back to continue. While `done` is false it continues this scan; once `done`, it
  // is the resume point for the next incremental scan ("" where the source has no
  // cursor: the next scan is a full scan again).
  std::string cursor;
  bool done = true;
  // True when this scan returns every live row (a full scan): keys the engine knows but
  // did not see were deleted at the source. False for incremental scans, where absence
  // means nothing.
  bool complete = false;
};

// A write's outcome (STYLE.md: ok, retry, fatal; only the engine's dispatcher retries),
// and kConflict: the row is not as the write expected (WriteOp::expect_version), nothing
// was written.
enum class Outcome { kOk, kRetry, kFatal, kConflict };
const char* ToString(Outcome outcome);

struct WriteOp {
  enum class Kind { kUpsert, kDelete };
  Kind kind = Kind::kUpsert;
  // The row's key. For an upsert it may be empty: the connector creates the row and
  // assigns a key (a generated id, a sequence, what a REST API answers). Upserting a
  // key that exists updates only the given fields; other columns keep their values.
  std::string key;
  Fields fields;
  // Compare-and-set, for an update or delete of an existing row: the row's version when
  // the write was decided. When set and the row's version now differs (someone changed
  // it since, or it is gone), nothing is written and the result is kConflict with the
  // version now ("" when gone), so that a change made between the engine's last scan and
  // this write is never written over. Empty: write unconditionally.
  std::string expect_version;
  // The same for every attempt of this write (the outbox job's idempotency key); "" when
  // the caller has none. A connector whose source deduplicates by such a key (a REST API's
  // Idempotency-Key header) sends it with a create, so that a create sent again after its
  // answer was lost makes no second row.
  std::string idempotency_key;
};

struct WriteResult {
  Outcome outcome = Outcome::kOk;
  std::string message;  // why, for retry/fatal (kept in the dead-letter queue)
  std::string key;      // the row's key (assigned, for a create with an empty key)
  std::string version;  // the row's version after the write (see Row::version)
};

class Connector {
 public:
  virtual ~Connector() = default;

  // Rows changed since `cursor` ("" = from the beginning, a full scan), at most `limit`
  // per page. A connector without change tracking returns every row (complete = true)
  // and the engine compares versions with what it saw last. Errors are retryable from the
  // engine's point of view (the source is unreachable, locked, or mid-rewrite).
  virtual Result<ScanPage> Scan(const std::string& cursor, std::size_t limit) = 0;

  // One row by key; nullopt when there is no such row.
  virtual Result<std::optional<Row>> Get(const std::string& key) = 0;

  // Applies `ops` in order, as one batch where the source allows (one SQL transaction,
  // one rewrite of a CSV file). Returns one result per op, in order.
  virtual std::vector<WriteResult> Write(const std::vector<WriteOp>& ops) = 0;

  // Is the source reachable and shaped as configured (file readable, table and columns
  // present, endpoint answering)? The message says what to fix.
  virtual Result<void> Health() = 0;

  // For a create (an upsert of a row not linked yet: its key empty, or one the source may
  // not have used, as an API that assigns its own ids) that was attempted before and whose
  // answer was lost (a timeout, a reset, a 5xx after the source applied it, a crash with the call
  // in flight): the row that attempt made, found by what `op` writes, so that the caller
  // records it instead of creating a second one. The result:
  //   kOk, key set        found: the row's key (and version, where known)
  //   kOk, key empty      nothing to find: writing `op` again makes no second row (none
  //                       was made, or the source deduplicates it by op.idempotency_key,
  //                       or, by default, this connector cannot look creates up)
  //   kRetry              could not be told now (the source is unreachable); message: why
  //   kFatal              can never be told (`op` writes nothing to find it by); a person
  //                       must look (message: what, and where)
  virtual WriteResult FindCreated(const WriteOp& op) {
    (void)op;
    return {Outcome::kOk, "", "", ""};
  }

  // "csv:/srv/export/contacts.csv", "postgresql:crm/public.contacts"; never a secret.
  virtual std::string Describe() const = 0;

  // Trouble met and got over since the connector was made (retryable errors, reconnects,
  // 429 answers, ...), each a running count by event name; the engine exports them as
  // ghl_syncd_connector_events_total{sync,event}. None by default.
  virtual std::vector<std::pair<std::string, int64_t>> Counters() const { return {}; }
};

}  // namespace ghl::connectors
