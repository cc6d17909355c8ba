// Keys and scan cursors of the SQL connectors, as text (the engine treats both as opaque).
//
// Key: one key column gives the column's text ("42", "ann@example.com"); a composite key is
// a JSON array of the columns' texts (["acme","42"]), which no separator inside a value
// can make ambiguous.
//
// Cursors:
//   ""                  start a scan from the beginning
//   "key:<key>"         full scan (no updated_at), continue after this key
//   "next:<u>|<key>"    incremental scan, continue strictly after (updated_at, key)
//   "<u>|<key>"         where the last incremental scan ended: the next scan re-reads from
//                       <u> minus the overlap window (rows committed late with an older
//                       updated_at), or strictly after (<u>, <key>) when overlap is 0.
// Rows are ordered by (updated_at, key), so rows with equal timestamps are neither skipped
// nor repeated across pages.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mapping/value.h"

namespace ghl::connectors::sql {

// Joins key parts (their text) into a Row::key. REQUIRES: parts.size() >= 1.
std::string EncodeKey(const std::vector<std::string>& parts);
// Splits a key back into `count` parts; nullopt when it has another shape.
std::optional<std::vector<std::string>> DecodeKey(const std::string& key, std::size_t count);

struct Cursor {
  enum class Kind { kStart, kAfterKey, kAfter, kResume };
  Kind kind = Kind::kStart;
  std::string updated_at;  // kAfter, kResume
  std::string key;         // kAfterKey, kAfter, kResume ("" when a resume point has none)
};

// Reads a cursor for a scan that is incremental or not; a cursor of the other mode (the
// configuration changed) starts over.
Cursor ParseCursor(const std::string& text, bool incremental);
std::string FormatCursor(const Cursor& cursor);

// `updated_at` moved back by `by`, in the same layout so that text columns still compare
// correctly: ISO 8601 date-times ("2024-05-01T10:00:00.250Z", "2024-05-01 10:00:00+02:00"),
// dates (back by whole days, rounded up) and numbers (epoch seconds). nullopt for any
// other text.
std::optional<std::string> ShiftBack(const std::string& updated_at, std::chrono::milliseconds by);

// The same texts as Unix milliseconds (a date-time without a zone is taken as UTC, a number
// as epoch seconds), for Row::updated_ms; nullopt for any other text.
std::optional<int64_t> UnixMillis(const std::string& updated_at);

}  // namespace ghl::connectors::sql
