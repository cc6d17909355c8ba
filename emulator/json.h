// JSON helpers over RapidJSON for the emulator's handlers.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ghl::emulator {

// RapidJSON's pool with 1 KB chunks instead of 64 KB: the emulator keeps every record as
// two documents of its own (the record and the search view's copy; three for a moment
// after a change), and a million contacts must fit.
class Pool : public rapidjson::MemoryPoolAllocator<> {
 public:
  Pool() : MemoryPoolAllocator(1024) {}
};

using Json = rapidjson::GenericValue<rapidjson::UTF8<>, Pool>;
using JsonDoc = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool>;
using Alloc = Pool;

std::string Dump(const Json& value);

// Parses `text`; on failure returns nullopt and sets `error` in the words a NestJS
// server (which GHL is) uses: "Unexpected token } in JSON at position 10".
std::optional<JsonDoc> Parse(std::string_view text, std::string* error);

std::optional<std::string> GetString(const Json& obj, const char* key);
std::optional<double> GetNumber(const Json& obj, const char* key);
std::optional<bool> GetBool(const Json& obj, const char* key);
const Json* GetArray(const Json& obj, const char* key);
const Json* GetObject(const Json& obj, const char* key);

Json Str(std::string_view s, Alloc& a);
// Sets obj[key] = value, replacing an existing member.
void Set(Json& obj, std::string_view key, Json value, Alloc& a);
void SetString(Json& obj, std::string_view key, std::string_view value, Alloc& a);
void Remove(Json& obj, std::string_view key);
JsonDoc Copy(const Json& value);

// ISO 8601 UTC with milliseconds, as GHL writes dateAdded/dateUpdated.
std::string IsoTime(int64_t epoch_ms);
// Parses ISO 8601 with Z or ±hh:mm offset; nullopt if malformed.
std::optional<int64_t> ParseIsoTime(std::string_view s);

}  // namespace ghl::emulator
