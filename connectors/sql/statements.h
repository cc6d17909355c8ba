// The SQL text of every statement the connector runs, built once per shape from the
// configured source and the columns the catalog reported. Every value travels as a bound
// parameter; identifiers (table and column names from the configuration and the catalog)
// are double-quoted with quotes doubled, which both SQLite and PostgreSQL read.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sql/driver.h"
#include "connectors/sql/options.h"
#include "mapping/value.h"

namespace ghl::connectors::sql {

// One statement and its parameters, in placeholder order.
struct Sql {
  std::string text;
  std::vector<Value> params;
};

// The source's columns as the catalog reports them.
struct Catalog {
  std::vector<std::string> columns;  // in table (or query) order
  std::map<std::string, Kind> kinds;
  Kind KindOf(const std::string& column) const;  // kOther for an unknown column
  bool Has(const std::string& column) const { return kinds.count(column) > 0; }
};

std::string QuoteIdentifier(const std::string& name);
std::string QuoteTable(const TableName& table);  // "schema"."table" or "table"
// The source as a FROM item: "schema"."table" or (query) AS src.
std::string FromItem(const Source& source);

class Statements {
 public:
  // REQUIRES: `catalog` has every key, updated_at and soft-delete column of `source`.
  Statements(const Source& source, const Catalog& catalog, const Driver& driver)
      : source_(source), catalog_(catalog), driver_(driver) {}

  // A page of a full scan in key order, after `after_key` (key parts) when given.
  Sql ScanByKey(const std::optional<std::vector<std::string>>& after_key, std::size_t limit) const;
  // A page of an incremental scan in (updated_at, key) order: strictly after
  // (updated_at, key) when `key` is set, else from `updated_at` on (inclusive); from the
  // first row with an updated_at when `updated_at` is unset.
  Sql ScanByUpdatedAt(const std::optional<std::string>& updated_at,
                      const std::optional<std::vector<std::string>>& key, std::size_t limit) const;
  // Up to `limit` rows whose key has a NULL part (reported as rejected).
  Sql NullKeys(std::size_t limit) const;
  Sql SelectByKey(const std::vector<std::string>& key) const;
  // The same inside a write transaction, locking the row until it ends (PostgreSQL: FOR
  // UPDATE; SQLite's BEGIN IMMEDIATE holds the database's write lock already).
  Sql LockByKey(const std::vector<std::string>& key) const;

  // INSERT ... ON CONFLICT (key) DO UPDATE SET <only the given columns>.
  Sql Upsert(const std::vector<std::string>& key, const mapping::Fields& fields) const;
  // INSERT of `fields` letting the table assign the key: RETURNING the key columns.
  Sql InsertReturningKey(const mapping::Fields& fields) const;
  Sql Delete(const std::vector<std::string>& key) const;
  Sql SoftDelete(const std::vector<std::string>& key) const;  // REQUIRES: soft-delete column

 private:
  class Builder;
  std::string From() const { return FromItem(source_); }
  std::string SelectList() const;
  std::string KeyList() const;

  const Source& source_;
  const Catalog& catalog_;
  const Driver& driver_;
};

}  // namespace ghl::connectors::sql
