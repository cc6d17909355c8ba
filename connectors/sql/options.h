// The SQL connectors' configuration: the connection block (`connectors.<name>` in
// ghl-syncd.yaml) for each database, and the resource block (a mapping's `external:`) they
// share. Each is one schema Table (config/schema.h), which parses, checks, and documents it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/schema.h"
#include "connectors/registry.h"
#include "connectors/sql/driver.h"
#include "core/secret.h"

namespace ghl::connectors::sql {

// connectors.<name> with `type: sqlite`.
struct SqliteOptions {
  std::string type;
  std::filesystem::path path;  // an existing database file; never created by the connector
  std::chrono::milliseconds busy_timeout{5000};
};

// connectors.<name> with `type: postgresql`.
struct PostgresOptions {
  std::string type;
  Secret dsn;  // libpq conninfo ("host=... dbname=...") or a postgresql:// URI
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds statement_timeout{30'000};
};

// The mapping's `external:` block, the same for both databases.
struct SourceOptions {
  std::string connector;
  std::string table;  // "contacts" or "crm.contacts"
  std::string query;  // a read-only source instead of a table
  std::string updated_at;
  std::chrono::milliseconds overlap{30'000};
  int64_t batch_size = 1000;
};

// What the shared connector works on, resolved from SourceOptions and the ConnectorSpec.
struct Source {
  std::optional<TableName> table;  // set for a table; unset for a query
  std::string query;
  std::vector<std::string> key_columns;
  std::string updated_at;   // "" = full scans with row hashes
  std::string soft_delete;  // "" = deletes are real DELETEs
  std::chrono::milliseconds overlap{0};
  std::size_t batch_size = 1000;
  std::string label;  // "public.contacts" or "query", for Describe()
};

// Parse and check the blocks of `spec`, reporting into `errors`; nullopt when anything was
// wrong. No IO except reading a `dsn_file`.
std::optional<SqliteOptions> ParseSqliteOptions(const ConnectorSpec& spec,
                                                config::Diagnostics& errors);
std::optional<PostgresOptions> ParsePostgresOptions(const ConnectorSpec& spec,
                                                    config::Diagnostics& errors);
std::optional<Source> ParseSource(const ConnectorSpec& spec, config::Diagnostics& errors);

// "schema.table" -> {schema, table}; a name without a dot has an empty schema.
TableName SplitTableName(const std::string& name);

// The reference rows of each block, for ReferenceMarkdown().
std::vector<config::DocRow> SqliteReference();
std::vector<config::DocRow> PostgresReference();
std::vector<config::DocRow> SourceReference();

}  // namespace ghl::connectors::sql
