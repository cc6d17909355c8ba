// PostgresDriver: the PostgreSQL side of the SQL connector, through libpq. Parameters are
// sent as text with their types left to the server, which infers each from the column it
// meets. Result kinds come from each column's type OID: boolean; smallint/integer/bigint/
// real/double/numeric (numbers); text/varchar/char; json/jsonb (text); timestamp, timestamptz
// and date (ISO 8601 text; the session runs in UTC so timestamptz reads as
// "2024-05-01T10:00:00.25Z"); anything else is read as its text.
//
// The session sets TimeZone=UTC, DateStyle=ISO and statement_timeout. A connection whose
// server went away (restart, crash, network) is dropped and reopened on the next call.
// Retryable: connection failures (SQLSTATE class 08, a lost socket), admin shutdown and
// startup (57P01-57P03), statement timeout (57014), lock timeout (55P03), serialization
// failure (40001), deadlock (40P01), insufficient resources (class 53).
#pragma once

#include <chrono>
#include <memory>

#include "connectors/sql/driver.h"
#include "core/secret.h"

namespace ghl::connectors::sql {

std::unique_ptr<Driver> MakePostgresDriver(Secret dsn, std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds statement_timeout);

// "crm@db.internal:5432" from a conninfo string or URI: never the password.
std::string PostgresWhere(const std::string& dsn);

}  // namespace ghl::connectors::sql
