#include "connectors/ghl/operation_checks.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

#include "connectors/ghl/operations.h"

namespace ghl::ghl_client::detail {
namespace {

const char* Expected(Type t) {
  switch (t) {
    case Type::kString:
      return "a string";
    case Type::kBool:
      return "a boolean";
    case Type::kNumber:
      return "a number";
    case Type::kObject:
      return "an object";
    case Type::kArray:
      return "an array";
    case Type::kStringArray:
      return "an array of strings";
    case Type::kIsoTime:
      return "an ISO 8601 time like 2021-06-23T03:30:00+05:30";
    case Type::kFieldValuesById:
      return "an array of {id, field_value}";
    case Type::kFieldValuesByIdOrKey:
      return "an array of {id or key, field_value}";
    case Type::kAny:
      return "a value";
  }
  return "a value";
}

// "YYYY-MM-DDTHH:MM" at least; the server parses the rest.
bool LooksIsoTime(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd";
  if (s.size() < kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return false;
  }
  return true;
}

std::string_view View(const rapidjson::Value& v) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : std::string_view();
}

bool HasType(Type t, const rapidjson::Value& v) {
  switch (t) {
    case Type::kString:
      return v.IsString();
    case Type::kBool:
      return v.IsBool();
    case Type::kNumber:
      return v.IsNumber();
    case Type::kObject:
      return v.IsObject();
    case Type::kArray:
    case Type::kFieldValuesById:
    case Type::kFieldValuesByIdOrKey:
      return v.IsArray();
    case Type::kStringArray:
      return v.IsArray() &&
             std::all_of(v.Begin(), v.End(), [](const auto& e) { return e.IsString(); });
    case Type::kIsoTime:
      return v.IsString() && LooksIsoTime({v.GetString(), v.GetStringLength()});
    case Type::kAny:
      return true;
  }
  return true;
}

}  // namespace

Query& Query::Add(std::string_view name, std::string_view value) {
  text_ += text_.empty() ? '?' : '&';
  text_ += UrlEncode(name);
  text_ += '=';
  text_ += UrlEncode(value);
  return *this;
}

Query& Query::AddIfSet(std::string_view name, std::string_view value) {
  return value.empty() ? *this : Add(name, value);
}

void Checker::RequireId(std::string_view name, std::string_view value) {
  if (value.empty()) Fail(std::string(name) + " must not be empty");
}

void Checker::Range(std::string_view name, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    Fail(std::string(name) + " must be " + std::to_string(min) + ".." + std::to_string(max) +
         ", got " + std::to_string(value));
  }
}

void Checker::OneOf(std::string_view name, std::string_view value,
                    std::initializer_list<std::string_view> allowed) {
  if (!detail::OneOf(value, allowed)) {
    Fail(std::string(name) + " must be one of " + Join(allowed) + ", got \"" + std::string(value) +
         "\"");
  }
}

void Checker::CheckFieldValues(const Prop& prop, const rapidjson::Value& value) {
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    const auto& item = value[i];
    const std::string where = std::string(prop.name) + "[" + std::to_string(i) + "]";
    if (!item.IsObject()) {
      Fail(where + " must be an object");
    } else if (prop.type == Type::kFieldValuesById && StringOf(item, "id").empty()) {
      Fail(where + " needs the custom field's id (resolve keys with CustomFieldIndex)");
    } else if (StringOf(item, "id").empty() && StringOf(item, "key").empty()) {
      Fail(where + " needs the custom field's id or key");
    }
  }
}

void Checker::CheckProp(const Prop& prop, const rapidjson::Value& value) {
  const std::string name = prop.name;
  if (value.IsNull()) {
    if (prop.required) Fail(name + " is required");
    return;
  }
  if (!HasType(prop.type, value)) return Fail(name + " must be " + Expected(prop.type));
  if (prop.required && value.IsString() && value.GetStringLength() == 0) {
    return Fail(name + " must not be empty");
  }
  if (!prop.one_of.empty() && !detail::OneOf(View(value), prop.one_of)) {
    Fail(name + " must be one of " + Join(prop.one_of) + ", got \"" + std::string(View(value)) +
         "\"");
  }
  if (prop.type == Type::kFieldValuesById || prop.type == Type::kFieldValuesByIdOrKey) {
    CheckFieldValues(prop, value);
  }
}

rapidjson::Document Checker::Body(const rapidjson::Value& fields, const std::vector<Prop>& props,
                                  std::string_view location_id, bool open) {
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  if (!fields.IsObject()) {
    Fail("the fields must be a JSON object");
    return body;
  }
  if (!location_id.empty()) AddString(body, "locationId", location_id, a);
  for (const auto& m : fields.GetObject()) {
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    auto prop =
        std::find_if(props.begin(), props.end(), [&](const Prop& p) { return key == p.name; });
    if (prop != props.end()) {
      CheckProp(*prop, m.value);
    } else if (key == "locationId" && !location_id.empty()) {
      Fail("locationId comes from the location argument, not from the fields");
    } else if (!open) {
      Fail("property " + std::string(key) + " is not accepted (GHL answers 422 \"property " +
           std::string(key) + " should not exist\")");
    }
    body.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
  }
  for (const Prop& p : props) {
    if (p.required && !fields.HasMember(p.name)) Fail(std::string(p.name) + " is required");
  }
  return body;
}

Error Checker::error() const {
  std::string m = operation_ + ": ";
  for (size_t i = 0; i < problems_.size(); ++i) m += (i ? "; " : "") + problems_[i];
  return Error{m};
}

std::string_view StringOf(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return {};
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool OneOf(std::string_view value, const std::vector<std::string_view>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

std::string Join(const std::vector<std::string_view>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i ? ", " : "");
    out += values[i];
  }
  return out;
}

void AddString(rapidjson::Value& obj, const char* key, std::string_view value,
               rapidjson::Document::AllocatorType& a) {
  obj.AddMember(rapidjson::Value(key, a),
                rapidjson::Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a),
                a);
}

std::string Dump(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace ghl::ghl_client::detail
