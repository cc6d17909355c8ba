// Value and Fields: record contents as they travel between the sides, the mapping and the
// merge. One small closed set of types, so that comparing, hashing and storing a record is
// the same code everywhere.
//
//   null      a field that is empty or absent (CSV "", SQL NULL, JSON null, missing key)
//   string    text, exactly as given (no trimming here: transforms do that)
//   number    a JSON number (double); integers up to 2^53 round-trip exactly
//   bool      true / false
//   list      an ordered list of strings (GHL tags, multi-select options). Lists compare
//             as sets (GHL does not keep tag order), see Equal().
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

namespace ghl::mapping {

using List = std::vector<std::string>;
using Value = std::variant<std::monostate, std::string, double, bool, List>;
// Field name -> value. For canonical records the names are GHL field names ("email",
// "tags", "customFields.<key>"); for external rows they are the connector's columns.
using Fields = std::map<std::string, Value>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// Semantic equality: lists compare as sets (order and duplicates ignored); numbers compare
// exactly; a value of another type is never equal (the string "1" is not the number 1).
bool Equal(const Value& a, const Value& b);

// The value as compact JSON (null, "text", 1.5, true, ["a","b"]). Stable: used for base
// snapshots, idempotency keys, logs and `plan` output.
std::string ToJson(const Value& v);
std::string ToJson(const Fields& fields);  // {"a":..., "b":...} in key order
// Parses what ToJson wrote (and any JSON of these shapes: objects/arrays of non-strings in
// a list are rejected). Returns false on anything else.
bool FromJson(const std::string& json, Value* out);
bool FromJson(const std::string& json, Fields* out);

// A human-readable rendering for log lines and diffs: text unquoted, lists joined by ", ",
// null as "(empty)". Not for storage.
std::string Display(const Value& v);

}  // namespace ghl::mapping
