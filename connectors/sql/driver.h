// Driver: the part of the SQL connector that differs between databases (SQLite, PostgreSQL):
// the connection, running one statement with bound parameters, converting result cells to
// Values, and classifying failures. Everything else (statement text, scans, keys, versions,
// transactions) is shared and lives in sql_connector.cc and statements.cc.
//
// A driver is used by one thread at a time (the connector's, see connectors/connector.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "mapping/value.h"

namespace ghl::connectors::sql {

using mapping::Value;

// A column's kind, from the catalog (SQLite declared type, PostgreSQL type OID). It decides
// how a Value is bound for that column and how a cell reads back.
enum class Kind { kText, kInteger, kReal, kNumeric, kBool, kTimestamp, kJson, kOther };

// The rows of one statement. `kinds` is parallel to `names`; every row has names.size()
// cells.
struct ResultSet {
  std::vector<std::string> names;
  std::vector<Kind> kinds;
  std::vector<std::vector<Value>> rows;
};

// "schema.table" split; schema is "" when not given (SQLite: main; PostgreSQL: search_path).
struct TableName {
  std::string schema;
  std::string table;
};

class Driver {
 public:
  virtual ~Driver() = default;

  // "sqlite" / "postgresql", and where the data is without any secret ("/srv/erp.db",
  // "crm@db.internal:5432"), for Describe() and messages.
  virtual const char* type() const = 0;
  virtual std::string Where() const = 0;

  // The text of bound parameter `index` (1-based) in a statement: "?1" or "$1".
  virtual std::string Placeholder(int index) const = 0;

  // Opens the connection when it is not open (after a failure, the next call reconnects).
  virtual Result<void> Connect() = 0;

  // Runs one statement (connecting first when needed) with `params` bound in order, and
  // returns every row. Cells read back by the column's kind: text/JSON/timestamps as
  // strings (timestamps as ISO 8601), numbers as doubles (integers beyond 2^53 as text to
  // stay exact), booleans as bools, NULL as null.
  virtual Result<ResultSet> Run(const std::string& sql, const std::vector<Value>& params) = 0;

  // Starts a transaction (SQLite takes the write lock at once: BEGIN IMMEDIATE). COMMIT,
  // ROLLBACK and savepoints are plain statements through Run().
  virtual Result<void> Begin() = 0;

  // The column sets of the table's primary key and unique indexes (not partial, no
  // expressions): an upsert's ON CONFLICT needs one equal to the key columns.
  virtual Result<std::vector<std::vector<std::string>>> UniqueKeys(const TableName& table) = 0;

  // Whether the last failure is worth retrying as is: the connection was lost or refused,
  // the server is restarting, a lock or statement timed out, a serialization failure or
  // deadlock. False for failures of the statement itself (constraint, bad value, SQL).
  virtual bool LastErrorRetryable() const = 0;

  // How many times a connection was (re)opened after the first.
  virtual std::uint64_t reconnects() const = 0;
};

}  // namespace ghl::connectors::sql
