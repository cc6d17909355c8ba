// SqlConnector: a table or a read-only query in an SQL database, as a Connector. The
// database-specific part is a Driver (sqlite_driver.h, postgres_driver.h); everything here
// is the same for both.
//
// Scans. Without `updated_at`: a full scan in key order, paged by key (keyset, never
// OFFSET), `complete`, each row's version the hash of its values. With `updated_at`: an
// incremental scan in (updated_at, key) order, not `complete`, version "<updated_at>|<hash>"
// (the hash catches a change made within the timestamp's resolution); the cursor format and
// the overlap window are described in cursor.h. Rows whose updated_at is NULL are not seen
// by incremental scans; rows with a NULL key part are reported as rejected by full scans.
//
// Writes. All ops of one Write() run in one transaction, each inside its own savepoint: an op
// that fails on its own data (a constraint, a bad value) is rolled back alone and reported
// kFatal while the others commit; a failure of the connection, a lock or serialization
// timeout, or a failed COMMIT rolls back the whole batch and reports every op kRetry. An
// upsert is INSERT ... ON CONFLICT (key) DO UPDATE of the given columns only; an upsert with
// an empty key inserts and takes the key the table assigns (RETURNING). Values are always
// bound parameters.
//
// Own writes. After each upsert (and soft delete) the row is read again inside the same
// transaction, after the table's triggers ran (a trigger that sets updated_at is seen), and
// WriteResult::version is that row's version, computed exactly as a scan computes it. The
// engine keeps it in its ledger; a later scan reports the same version for the row as long
// as nobody else changed it, which is how the engine recognises its own write. Nothing is
// added to the user's tables or sessions.
//
// Faults. A connection that fails is dropped and reopened on the next call; such failures
// are counted (retryable_errors()). No call throws or aborts on a database failure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "connectors/sql/cursor.h"
#include "connectors/sql/driver.h"
#include "connectors/sql/options.h"
#include "connectors/sql/statements.h"

namespace ghl::connectors::sql {

class SqlConnector : public Connector {
 public:
  SqlConnector(std::unique_ptr<Driver> driver, Source source);
  SqlConnector(const SqlConnector&) = delete;  // statements_ refers to source_ and catalog_
  SqlConnector& operator=(const SqlConnector&) = delete;

  Result<ScanPage> Scan(const std::string& cursor, std::size_t limit) override;
  Result<std::optional<Row>> Get(const std::string& key) override;
  std::vector<WriteResult> Write(const std::vector<WriteOp>& ops) override;
  Result<void> Health() override;
  std::string Describe() const override;

  // Calls that failed for a reason worth retrying (connection, restart, lock, serialization)
  // since creation; and connections reopened after a failure.
  std::uint64_t retryable_errors() const { return retryable_errors_; }
  std::uint64_t reconnects() const { return driver_->reconnects(); }
  std::vector<std::pair<std::string, int64_t>> Counters() const override {
    return {{"retryable_error", static_cast<int64_t>(retryable_errors())},
            {"reconnect", static_cast<int64_t>(reconnects())}};
  }

 private:
  // Connects and reads the source's columns (once per connection).
  Result<void> Prepare();
  // `error` with what we were doing and the connector's name; counts and forgets the
  // catalog when the failure is retryable.
  Error Fail(const std::string& doing, const Error& error);
  // A result row as a Row (its cells are moved out); nullopt when a key part is NULL.
  std::optional<Row> MakeRow(ResultSet& rs, std::size_t index) const;
  Result<ScanPage> ScanFull(const Cursor& cursor, std::size_t page);
  Result<ScanPage> ScanIncremental(const Cursor& cursor, std::size_t page);
  Result<void> AddRejected(ScanPage& out);
  // One op inside the open transaction; a failure leaves the savepoint for the caller.
  Result<WriteResult> Apply(const WriteOp& op);
  Result<WriteResult> Upsert(const WriteOp& op);
  Result<WriteResult> Remove(const WriteOp& op);
  Result<WriteResult> ReadBack(const std::vector<std::string>& key, bool must_exist);
  // The key parts of `op` (decoded from op.key or, for an empty key, taken from the
  // fields); nullopt when the table must assign the key.
  Result<std::optional<std::vector<std::string>>> KeyOf(const WriteOp& op) const;
  Result<void> CheckColumns(const mapping::Fields& fields) const;

  std::unique_ptr<Driver> driver_;
  Source source_;
  std::optional<Catalog> catalog_;
  std::optional<Statements> statements_;
  std::vector<std::size_t> key_index_;  // positions of key columns in catalog_->columns
  std::vector<std::size_t> by_name_;    // positions of all columns, in name order
  std::optional<std::size_t> updated_at_index_, soft_delete_index_;
  std::uint64_t retryable_errors_ = 0;
};

}  // namespace ghl::connectors::sql
