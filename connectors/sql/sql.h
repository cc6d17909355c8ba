// The SQL connectors' entry points for the registry (connectors/registry.cc): `sqlite` (a
// database file) and `postgresql` (a server, through libpq). Both are a SqlConnector
// (sql_connector.h: scans, writes, own-write recognition, faults) over their own Driver.
#pragma once

#include <memory>
#include <string>

#include "config/diagnostics.h"
#include "connectors/registry.h"
#include "connectors/sql/sql_connector.h"

namespace ghl::connectors::sql {

// Validate spec.options (connection block) and spec.resource (`external:` block), reporting
// every problem into `errors`; null when anything was wrong. No IO beyond reading a
// `dsn_file`.
std::unique_ptr<Connector> CreateSqlite(const ConnectorSpec& spec, config::Diagnostics& errors);
std::unique_ptr<Connector> CreatePostgres(const ConnectorSpec& spec, config::Diagnostics& errors);
// Either, by spec.type, as the concrete SqlConnector (whose retryable_errors() and
// reconnects() counters the daemon exports as metrics, through Connector::Counters).
std::unique_ptr<SqlConnector> CreateConnector(const ConnectorSpec& spec,
                                              config::Diagnostics& errors);

// The options reference of both types (connection blocks and the shared `external:` block)
// as Markdown tables, for ReferenceMarkdown().
std::string ReferenceMarkdown();

}  // namespace ghl::connectors::sql
