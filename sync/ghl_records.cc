#include "sync/ghl_records.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>

namespace ghl::sync {
namespace {

using mapping::GhlObject;
using mapping::Value;

Value FromJsonValue(const rapidjson::Value& j) {
  if (j.IsString()) return std::string(j.GetString(), j.GetStringLength());
  if (j.IsBool()) return j.GetBool();
  if (j.IsNumber()) return j.GetDouble();
  if (j.IsArray()) {
    mapping::List list;
    for (const auto& item : j.GetArray()) {
      if (item.IsString()) {
        list.emplace_back(item.GetString(), item.GetStringLength());
      } else {
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        item.Accept(w);
        list.emplace_back(b.GetString(), b.GetSize());
      }
    }
    return list;
  }
  if (j.IsObject()) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    j.Accept(w);
    return std::string(b.GetString(), b.GetSize());
  }
  return std::monostate{};
}

rapidjson::Value ToJsonValue(const Value& v, rapidjson::Document::AllocatorType& a) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    return rapidjson::Value(s->data(), static_cast<rapidjson::SizeType>(s->size()), a);
  }
  if (const auto* d = std::get_if<double>(&v)) return rapidjson::Value(*d);
  if (const auto* b = std::get_if<bool>(&v)) return rapidjson::Value(*b);
  if (const auto* l = std::get_if<mapping::List>(&v)) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& item : *l) {
      arr.PushBack(rapidjson::Value(item.data(), static_cast<rapidjson::SizeType>(item.size()), a),
                   a);
    }
    return arr;
  }
  return rapidjson::Value(rapidjson::kNullType);
}

std::string StringMember(const rapidjson::Value& record, const char* name) {
  auto it = record.FindMember(name);
  if (it == record.MemberEnd() || !it->value.IsString()) return "";
  return {it->value.GetString(), it->value.GetStringLength()};
}

// Canonical forms (mapping.h): a date of birth is "YYYY-MM-DD" (GHL answers a midnight
// timestamp); times are UTC "YYYY-MM-DDTHH:MM:SSZ" (GHL answers offsets and milliseconds).
Value Normalise(std::string_view name, Value v) {
  auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return v;
  if (name == "dateOfBirth") {
    if (s->size() > 10 && (*s)[4] == '-') s->resize(10);
  } else if (name == "startTime" || name == "endTime") {
    if (auto ms = ParseIsoMs(*s)) {
      std::string iso = FormatIsoMs(*ms);  // "...:SS.mmmZ"
      *s = iso.substr(0, 19) + "Z";
    }
  }
  return v;
}

}  // namespace

std::string_view CustomFieldModel(GhlObject object) {
  switch (object) {
    case GhlObject::kContacts:
      return "contact";
    case GhlObject::kOpportunities:
      return "opportunity";
    case GhlObject::kAppointments:
      return "";
  }
  return "";
}

const char* RecordKey(GhlObject object) {
  switch (object) {
    case GhlObject::kContacts:
      return "contact";
    case GhlObject::kOpportunities:
      return "opportunity";
    case GhlObject::kAppointments:
      return "appointment";
  }
  return "";
}

Result<GhlRecord> FromGhl(const rapidjson::Value& record, GhlObject object,
                          const std::vector<std::string>& wanted,
                          const ghl_client::CustomFieldIndex& index, bool partial) {
  if (!record.IsObject()) return Error{"the GHL record is not a JSON object"};
  GhlRecord out;
  out.id = StringMember(record, "id");
  if (out.id.empty()) return Error{"the GHL record has no id"};
  out.location_id = StringMember(record, "locationId");
  out.date_updated = StringMember(record, "dateUpdated");
  // Opportunities carry `updatedAt` instead (apps/opportunities.json); without it every
  // linked opportunity looked unchanged to the poll.
  if (out.date_updated.empty()) out.date_updated = StringMember(record, "updatedAt");
  ghl_client::FieldValues custom;
  bool custom_parsed = false;
  const bool has_custom = record.HasMember("customFields");
  for (const auto& name : wanted) {
    if (name.starts_with(kCustomFieldPrefix)) {
      if (partial && !has_custom) {
        out.unknown.push_back(name);
        continue;
      }
      if (!custom_parsed) {
        auto values = ghl_client::ParseFieldValues(record);
        if (!values.ok()) return values.error();  // its messages name customFields
        custom = std::move(values.value());
        custom_parsed = true;
      }
      const std::string key = name.substr(kCustomFieldPrefix.size());
      auto id = index.IdOf(CustomFieldModel(object), key);
      if (!id) {
        return Error{fmt::format(
            "custom field '{}' is not defined in GHL location {} (renamed or deleted?); fix "
            "the mapping or recreate the field",
            key, out.location_id.empty() ? "?" : out.location_id)};
      }
      Value v;
      auto it = custom.find(*id);
      if (it != custom.end() && !mapping::FromJson(it->second, &v)) {
        // Objects (e.g. file uploads) are kept as their JSON text.
        v = it->second;
      }
      out.fields[name] = std::move(v);
      continue;
    }
    auto it = record.FindMember(name.c_str());
    if (partial && it == record.MemberEnd()) {
      out.unknown.push_back(name);
      continue;
    }
    out.fields[name] =
        it == record.MemberEnd() ? Value{} : Normalise(name, FromJsonValue(it->value));
  }
  return out;
}

Result<rapidjson::Document> ToGhlBody(const mapping::Fields& fields, GhlObject object,
                                      const ghl_client::CustomFieldIndex& index) {
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  ghl_client::FieldValues custom;
  for (const auto& [name, value] : fields) {
    if (name.starts_with(kCustomFieldPrefix)) {
      const std::string key = name.substr(kCustomFieldPrefix.size());
      auto id = index.IdOf(CustomFieldModel(object), key);
      if (!id) {
        return Error{fmt::format(
            "custom field '{}' is not defined in GHL (renamed or deleted?); fix the mapping or "
            "recreate the field",
            key)};
      }
      custom[*id] = mapping::IsNull(value) ? "\"\"" : mapping::ToJson(value);
      continue;
    }
    body.AddMember(rapidjson::Value(name.c_str(), a), ToJsonValue(value, a), a);
  }
  if (!custom.empty()) {
    auto input = ghl_client::FieldValuesInput(custom, a);
    if (!input.ok()) return input.error();
    body.AddMember("customFields", std::move(input.value()), a);
  }
  return body;
}

std::optional<int64_t> ParseIsoMs(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  int consumed = 0;
  const std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) <
      6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  int64_t ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int digits = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      if (digits < 3) ms = ms * 10 + (rest[i] - '0'), ++digits;
      ++i;
    }
    while (digits < 3) ms *= 10, ++digits;
    rest.remove_prefix(i);
  }
  int64_t offset_min = 0;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) < 1) {
      return std::nullopt;
    }
    offset_min = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else if (!rest.empty() && rest[0] != 'Z') {
    return std::nullopt;
  }
  using namespace std::chrono;
  const sys_days date = year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)};
  const auto t = date + hours{h} + minutes{mi} + seconds{s} - minutes{offset_min};
  return duration_cast<milliseconds>(t.time_since_epoch()).count() + ms;
}

std::string FormatIsoMs(int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{ms}};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss clock_time{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock_time.hours().count(), clock_time.minutes().count(),
                     clock_time.seconds().count(), clock_time.subseconds().count());
}

}  // namespace ghl::sync
