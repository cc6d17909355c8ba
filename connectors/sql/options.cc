#include "connectors/sql/options.h"

#include <libpq-fe.h>

#include <cctype>

namespace ghl::connectors::sql {
namespace {

using config::Context;
using config::Table;
using std::chrono::milliseconds;
namespace fields = config::fields;

constexpr milliseconds kDay{86'400'000};

const Table<SqliteOptions>& SqliteTable() {
  static const Table<SqliteOptions> table({
      fields::String("type", &SqliteOptions::type, "`sqlite`."),
      fields::Path("path", &SqliteOptions::path,
                   "The database file (relative to the config file). It must exist: the "
                   "connector never creates one.")
          .Required(),
      fields::Duration("busy_timeout", &SqliteOptions::busy_timeout, milliseconds(0),
                       milliseconds(600'000),
                       "How long a statement waits for another connection's lock before the "
                       "write is retried later."),
  });
  return table;
}

bool ValidConninfo(const std::string& dsn) {
  char* message = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &message);
  // libpq's message may quote part of the string, which may hold a password: not shown.
  PQfreemem(message);
  if (parsed == nullptr) return false;
  PQconninfoFree(parsed);
  return true;
}

const Table<PostgresOptions>& PostgresTable() {
  static const Table<PostgresOptions> table(
      {
          fields::String("type", &PostgresOptions::type, "`postgresql`."),
          fields::SecretValue("dsn", &PostgresOptions::dsn,
                              "libpq connection string (`host=db dbname=crm user=sync`) or "
                              "`postgresql://` URI. A secret: use `${ENV}`, `dsn_file`, or "
                              "leave the password to PGPASSWORD / ~/.pgpass.")
              .Required(),
          fields::Duration("connect_timeout", &PostgresOptions::connect_timeout, milliseconds(1000),
                           milliseconds(600'000), "How long opening a connection may take."),
          fields::Duration("statement_timeout", &PostgresOptions::statement_timeout,
                           milliseconds(0), milliseconds(3'600'000),
                           "Server-side limit for one statement (0s = none); a statement "
                           "that hits it is retried later."),
      },
      [](PostgresOptions& o, const YAML::Node& node, Context& ctx) {
        if (!o.dsn.empty() && !ValidConninfo(o.dsn.Reveal())) {
          auto scope = ctx.Enter(".dsn");
          ctx.Error(node["dsn"] ? node["dsn"] : node,
                    "not a valid libpq connection string: expected `key=value` pairs such "
                    "as `host=db dbname=crm`, or a `postgresql://` URI");
        }
      });
  return table;
}

const Table<SourceOptions>& SourceTable() {
  static const Table<SourceOptions> table(
      {
          fields::String("connector", &SourceOptions::connector,
                         "The connector's name under `connectors:`."),
          fields::String("table", &SourceOptions::table,
                         "The table (`contacts` or `schema.contacts`). Needs a primary key "
                         "or unique index on the key columns for writes."),
          fields::String("query", &SourceOptions::query,
                         "A SELECT to read instead of a table: a read-only source (writes "
                         "are refused)."),
          fields::String("updated_at", &SourceOptions::updated_at,
                         "A column set on every change (timestamp, ISO 8601 text or epoch "
                         "seconds): scans become incremental. Index (updated_at, key)."),
          fields::Duration("overlap", &SourceOptions::overlap, milliseconds(0), kDay,
                           "Incremental scans re-read this far before the cursor, for "
                           "transactions that commit late; longer than your longest write "
                           "transaction."),
          fields::Int("batch_size", &SourceOptions::batch_size, 1, 100'000,
                      "Most rows read per statement."),
      },
      [](SourceOptions& o, const YAML::Node& node, Context& ctx) {
        if (o.table.empty() == o.query.empty()) {
          ctx.Error(node, "give exactly one of 'table' (read and write) or 'query' (read only)");
        }
      });
  return table;
}

template <typename T>
std::optional<T> ParseBlock(const Table<T>& table, const YAML::Node& node, const std::string& file,
                            const std::filesystem::path& dir, const std::string& path,
                            const config::EnvLookup& env, config::Diagnostics& errors) {
  const size_t before = errors.size();
  Context ctx(file, dir, env, &errors);
  auto scope = ctx.Enter(path);
  T out{};
  table.Parse(out, node, ctx);
  if (errors.size() != before) return std::nullopt;
  return out;
}

void Report(const ConnectorSpec& spec, const std::string& message, config::Diagnostics& errors) {
  const auto mark = spec.resource.Mark();
  errors.push_back(
      {spec.resource_file, mark.line + 1, mark.column + 1, spec.resource_path, message});
}

// Key, updated_at and soft-delete columns must be distinct names.
bool CheckColumns(const ConnectorSpec& spec, const SourceOptions& o, config::Diagnostics& errors) {
  bool ok = true;
  if (spec.key_columns.empty()) {
    Report(spec, "the mapping names no key column (`key:`); the SQL connector needs one", errors);
    ok = false;
  }
  for (const auto& k : spec.key_columns) {
    if (k == o.updated_at || k == spec.soft_delete_column) {
      Report(spec, "column '" + k + "' cannot be both a key and the updated_at/soft-delete column",
             errors);
      ok = false;
    }
  }
  if (!o.updated_at.empty() && o.updated_at == spec.soft_delete_column) {
    Report(spec, "updated_at and the soft-delete column must differ", errors);
    ok = false;
  }
  return ok;
}

std::vector<config::DocRow> Rows(auto const& table) {
  std::vector<config::DocRow> rows;
  table.Document(rows, "");
  return rows;
}

}  // namespace

TableName SplitTableName(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

std::optional<SqliteOptions> ParseSqliteOptions(const ConnectorSpec& spec,
                                                config::Diagnostics& errors) {
  return ParseBlock(SqliteTable(), spec.options, spec.options_file, spec.options_dir,
                    spec.options_path, spec.env, errors);
}

std::optional<PostgresOptions> ParsePostgresOptions(const ConnectorSpec& spec,
                                                    config::Diagnostics& errors) {
  return ParseBlock(PostgresTable(), spec.options, spec.options_file, spec.options_dir,
                    spec.options_path, spec.env, errors);
}

std::optional<Source> ParseSource(const ConnectorSpec& spec, config::Diagnostics& errors) {
  auto o = ParseBlock(SourceTable(), spec.resource, spec.resource_file, spec.resource_dir,
                      spec.resource_path, spec.env, errors);
  if (!o || !CheckColumns(spec, *o, errors)) return std::nullopt;
  Source s;
  if (!o->table.empty()) {
    s.table = SplitTableName(o->table);
    s.label = o->table;
  } else {
    s.query = o->query;
    // A trailing ';' would end the statement the query is wrapped in.
    while (!s.query.empty() &&
           (s.query.back() == ';' || std::isspace(static_cast<unsigned char>(s.query.back())))) {
      s.query.pop_back();
    }
    s.label = "query";
  }
  s.key_columns = spec.key_columns;
  s.updated_at = o->updated_at;
  s.soft_delete = spec.soft_delete_column;
  s.overlap = o->overlap;
  s.batch_size = static_cast<std::size_t>(o->batch_size);
  return s;
}

std::vector<config::DocRow> SqliteReference() { return Rows(SqliteTable()); }
std::vector<config::DocRow> PostgresReference() { return Rows(PostgresTable()); }
std::vector<config::DocRow> SourceReference() { return Rows(SourceTable()); }

}  // namespace ghl::connectors::sql
