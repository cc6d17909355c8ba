#include "connectors/sql/sql.h"

#include "connectors/sql/options.h"
#include "connectors/sql/postgres_driver.h"
#include "connectors/sql/sqlite_driver.h"

namespace ghl::connectors::sql {
namespace {

std::unique_ptr<SqlConnector> Build(const ConnectorSpec& spec, bool sqlite,
                                    config::Diagnostics& errors) {
  std::optional<SqliteOptions> lite;
  std::optional<PostgresOptions> pg;
  if (sqlite) {
    lite = ParseSqliteOptions(spec, errors);
  } else {
    pg = ParsePostgresOptions(spec, errors);
  }
  auto source = ParseSource(spec, errors);
  if (!(lite || pg) || !source) return nullptr;
  auto driver = sqlite ? MakeSqliteDriver(lite->path, lite->busy_timeout)
                       : MakePostgresDriver(pg->dsn, pg->connect_timeout, pg->statement_timeout);
  return std::make_unique<SqlConnector>(std::move(driver), std::move(*source));
}

}  // namespace

std::unique_ptr<SqlConnector> CreateConnector(const ConnectorSpec& spec,
                                              config::Diagnostics& errors) {
  return Build(spec, spec.type == "sqlite", errors);
}

std::unique_ptr<Connector> CreateSqlite(const ConnectorSpec& spec, config::Diagnostics& errors) {
  return Build(spec, true, errors);
}

std::unique_ptr<Connector> CreatePostgres(const ConnectorSpec& spec, config::Diagnostics& errors) {
  return Build(spec, false, errors);
}

std::string ReferenceMarkdown() {
  return "#### `sqlite`\n\nThe connection, under `connectors.<name>`:\n\n" +
         config::MarkdownTable(SqliteReference()) +
         "\n#### `postgresql`\n\nThe connection, under `connectors.<name>`:\n\n" +
         config::MarkdownTable(PostgresReference()) +
         "\nThe table or query of either, in a mapping's `external:` block:\n\n" +
         config::MarkdownTable(SourceReference()) +
         "\nWithout `updated_at` every scan reads the whole source in key order (keyset "
         "pages, never OFFSET) and a row's version is a hash of its values; with it, scans "
         "read what changed since the cursor, ordered by (updated_at, key) so that equal "
         "timestamps are neither skipped nor repeated, re-reading `overlap` before the cursor "
         "for transactions that committed late. Writes are parameterised statements, one "
         "transaction per batch: an upsert is `INSERT ... ON CONFLICT (key) DO UPDATE` of the "
         "given columns only; an op that fails on its own data is rolled back alone (fatal), "
         "a lost connection, lock or statement timeout, or serialization failure retries the "
         "batch. After each write the row is read back in the same transaction: its version "
         "is what the next scan reports, which is how the daemon recognises its own writes. "
         "A composite key is a JSON array of the key columns' texts.\n";
}

}  // namespace ghl::connectors::sql
