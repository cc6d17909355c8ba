// Internal to the request builders (operations*.cc): query strings, JSON text, and the
// Checker that collects every problem of one request before it is built.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ghl::ghl_client::detail {

// "?a=1&b=x%20y": names and values URL-encoded, in the order added.
class Query {
 public:
  Query& Add(std::string_view name, std::string_view value);
  Query& AddIfSet(std::string_view name, std::string_view value);  // skips an empty value
  std::string str() const { return text_; }

 private:
  std::string text_;
};

// How a property of a write body is checked. Optional properties may be null.
enum class Type {
  kString,
  kBool,
  kNumber,
  kObject,
  kArray,
  kStringArray,
  kIsoTime,               // "2021-06-23T03:30:00+05:30"
  kFieldValuesById,       // [{id, field_value}] (contacts: id is required)
  kFieldValuesByIdOrKey,  // [{id | key, field_value}] (opportunities)
  kAny,
};

struct Prop {
  const char* name;
  Type type;
  bool required = false;
  std::vector<std::string_view> one_of = {};  // allowed string values, when not empty
};

class Checker {
 public:
  explicit Checker(std::string operation) : operation_(std::move(operation)) {}

  void Fail(std::string message) { problems_.push_back(std::move(message)); }
  void RequireId(std::string_view name, std::string_view value);
  void Range(std::string_view name, int64_t value, int64_t min, int64_t max);
  void OneOf(std::string_view name, std::string_view value,
             std::initializer_list<std::string_view> allowed);

  // Checks `fields` (a JSON object) against `props` and returns the request body:
  // {"locationId": location_id} first when location_id is not empty, then `fields`.
  // Properties not in `props` are refused, unless `open`.
  rapidjson::Document Body(const rapidjson::Value& fields, const std::vector<Prop>& props,
                           std::string_view location_id = "", bool open = false);

  bool ok() const { return problems_.empty(); }
  // "<operation>: <problem>; <problem>".
  Error error() const;

 private:
  void CheckProp(const Prop& prop, const rapidjson::Value& value);
  void CheckFieldValues(const Prop& prop, const rapidjson::Value& value);

  std::string operation_;
  std::vector<std::string> problems_;
};

// The string member `key` of `obj`, or "" when it is missing or not a string.
std::string_view StringOf(const rapidjson::Value& obj, const char* key);
bool OneOf(std::string_view value, std::initializer_list<std::string_view> allowed);
bool OneOf(std::string_view value, const std::vector<std::string_view>& allowed);
std::string Join(const std::vector<std::string_view>& values);  // "a, b, c"

void AddString(rapidjson::Value& obj, const char* key, std::string_view value,
               rapidjson::Document::AllocatorType& a);
std::string Dump(const rapidjson::Value& value);  // compact JSON text

}  // namespace ghl::ghl_client::detail
