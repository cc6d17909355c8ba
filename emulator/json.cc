#include "emulator/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>

namespace ghl::emulator {

std::string Dump(const Json& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  value.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::optional<JsonDoc> Parse(std::string_view text, std::string* error) {
  JsonDoc doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    const size_t at = doc.GetErrorOffset();
    if (at < text.size()) {
      *error = "Unexpected token " + std::string(1, text[at]) + " in JSON at position " +
               std::to_string(at);
    } else {
      *error = "Unexpected end of JSON input";
    }
    return std::nullopt;
  }
  return doc;
}

std::optional<std::string> GetString(const Json& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::optional<double> GetNumber(const Json& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
  return it->value.GetDouble();
}

std::optional<bool> GetBool(const Json& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsBool()) return std::nullopt;
  return it->value.GetBool();
}

const Json* GetArray(const Json& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

const Json* GetObject(const Json& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

Json Str(std::string_view s, Alloc& a) {
  return Json(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void Set(Json& obj, std::string_view key, Json value, Alloc& a) {
  auto it = obj.FindMember(Json(rapidjson::StringRef(key.data(), key.size())));
  if (it != obj.MemberEnd()) {
    it->value = std::move(value);
  } else {
    obj.AddMember(Str(key, a), std::move(value), a);
  }
}

void SetString(Json& obj, std::string_view key, std::string_view value, Alloc& a) {
  Set(obj, key, Str(value, a), a);
}

void Remove(Json& obj, std::string_view key) {
  obj.RemoveMember(Json(rapidjson::StringRef(key.data(), key.size())));
}

JsonDoc Copy(const Json& value) {
  JsonDoc doc;
  doc.CopyFrom(value, doc.GetAllocator());
  return doc;
}

std::string IsoTime(int64_t epoch_ms) {
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return buf;
}

std::optional<int64_t> ParseIsoTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  const std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(n);
  int64_t ms = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && std::isdigit(static_cast<unsigned char>(str[i]))) {
      if (digits < 3) ms = ms * 10 + (str[i] - '0');
      ++digits, ++i;
    }
    while (digits++ < 3) ms *= 10;
  }
  int64_t offset_min = 0;
  if (i < str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_min = (str[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else if (i < str.size() && str[i] == 'Z') {
    ++i;
  }
  if (i != str.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
  tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  const int64_t epoch = timegm(&tm);
  return (epoch - offset_min * 60) * 1000 + ms;
}

}  // namespace ghl::emulator
