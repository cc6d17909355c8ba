// JSON items <-> rows for the REST connector (pure; RapidJSON).
//
// Paths in the options are either JSON pointers ("/data/items", RFC 6901) or dotted paths
// ("data.items"); "" is the whole document.
//
// An item becomes fields like this: each member by name; nested objects are flattened to
// dotted names ("address.city"), so that a mapping can name them and a dotted key_field
// finds the same value; arrays of strings become lists; other arrays (numbers, objects)
// arrive as their JSON text. A body is built the other way round: dotted names become
// nested objects, and each Value keeps its JSON type (number, bool, null, string, list ->
// array of strings).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>

#include "mapping/value.h"

namespace ghl::connectors::rest {

// The value at `path` within `root`, or null when there is none.
const rapidjson::Value* Find(const rapidjson::Value& root, const std::string& path);

// A key's or version's text: strings as they are (nullopt when empty), integers without a
// fraction, other numbers and booleans as JSON. nullopt for null, objects and arrays.
std::optional<std::string> ScalarText(const rapidjson::Value& v);

// The fields of an item (an object).
mapping::Fields ItemFields(const rapidjson::Value& item);

// The JSON object body for `fields`.
std::string Body(const mapping::Fields& fields);

// A stable content hash of `v`: SHA-256 over its JSON with object members sorted by name at
// every level, as 32 hex digits. Equal for equal JSON whatever the member order.
std::string ContentHash(const rapidjson::Value& v);

// The value as compact JSON, for messages.
std::string Dump(const rapidjson::Value& v);

}  // namespace ghl::connectors::rest
