// Value conversions the SQL drivers and the connector share: numbers to and from text,
// Values shaped for a column's kind before binding, key parts, the soft-delete flag, and
// the row hash used as a version.
#pragma once

#include <string>
#include <string_view>

#include "connectors/sql/driver.h"
#include "mapping/value.h"

namespace ghl::connectors::sql {

// Integers without a fraction ("42"), others in the shortest text that reads back to the
// same double ("0.1").
std::string NumberText(double d);

// The text form of a value: strings as they are, numbers as NumberText, "true"/"false",
// lists as a JSON array, null as "". Keys and PostgreSQL parameters use it.
std::string ValueText(const Value& v);

// A number read as text ("42", "-1.5e3", "12.50"): a double, or the text itself when it is
// an integer beyond 2^53 (a double would change it) or not a number at all.
Value NumberOrText(std::string_view text);

// `v` shaped for a column of `kind` before binding: text, JSON and timestamp columns get
// the value's text (a number written to a text column reads back as that text); other
// kinds keep the value and let the database convert or refuse it.
Value ForColumn(const Value& v, Kind kind);

// One part of a key, given as text, as a value comparable with a column of `kind`
// (numbers for numeric columns, so that ordering and equality are the column's own).
Value KeyPart(const std::string& text, Kind kind);

// A soft-delete flag is set when it is true, a non-zero number, a non-empty text other than
// "false"/"f"/"0"/"no"/"n", or any non-null timestamp (a `deleted_at` column).
bool FlagSet(const Value& v, Kind kind);

// 32 hex digits (128 bits of SHA-256) of the row's fields as canonical JSON: equal for
// equal contents, different for any change.
std::string RowHash(const mapping::Fields& fields);

}  // namespace ghl::connectors::sql
