#include "mapping/value.h"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <set>

namespace ghl::mapping {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Write(const Value& v, Writer& w) {
  if (IsNull(v)) {
    w.Null();
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    w.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
  } else if (const auto* d = std::get_if<double>(&v)) {
    const double i = static_cast<double>(static_cast<long long>(*d));
    if (i == *d && *d > -9.007199254740992e15 && *d < 9.007199254740992e15) {
      w.Int64(static_cast<int64_t>(*d));
    } else {
      w.Double(*d);
    }
  } else if (const auto* b = std::get_if<bool>(&v)) {
    w.Bool(*b);
  } else {
    w.StartArray();
    for (const auto& item : std::get<List>(v)) {
      w.String(item.data(), static_cast<rapidjson::SizeType>(item.size()));
    }
    w.EndArray();
  }
}

bool Read(const rapidjson::Value& j, Value* out) {
  if (j.IsNull()) {
    *out = std::monostate{};
  } else if (j.IsString()) {
    *out = std::string(j.GetString(), j.GetStringLength());
  } else if (j.IsNumber()) {
    *out = j.GetDouble();
  } else if (j.IsBool()) {
    *out = j.GetBool();
  } else if (j.IsArray()) {
    List list;
    for (const auto& item : j.GetArray()) {
      if (!item.IsString()) return false;
      list.emplace_back(item.GetString(), item.GetStringLength());
    }
    *out = std::move(list);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool Equal(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* la = std::get_if<List>(&a)) {
    const auto& lb = std::get<List>(b);
    return std::set<std::string>(la->begin(), la->end()) ==
           std::set<std::string>(lb.begin(), lb.end());
  }
  return a == b;
}

std::string ToJson(const Value& v) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  Write(v, w);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const Fields& fields) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  for (const auto& [name, value] : fields) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    Write(value, w);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

bool FromJson(const std::string& json, Value* out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  return !doc.HasParseError() && Read(doc, out);
}

bool FromJson(const std::string& json, Fields* out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  Fields fields;
  for (const auto& m : doc.GetObject()) {
    Value v;
    if (!Read(m.value, &v)) return false;
    fields.emplace(std::string(m.name.GetString(), m.name.GetStringLength()), std::move(v));
  }
  *out = std::move(fields);
  return true;
}

std::string Display(const Value& v) {
  if (IsNull(v)) return "(empty)";
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* l = std::get_if<List>(&v)) {
    std::string out;
    for (const auto& item : *l) out += (out.empty() ? "" : ", ") + item;
    return out;
  }
  return ToJson(v);
}

}  // namespace ghl::mapping
