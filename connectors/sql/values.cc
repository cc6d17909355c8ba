#include "connectors/sql/values.h"

#include <openssl/evp.h>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace ghl::connectors::sql {
namespace {

constexpr int64_t kExactIntegers = int64_t{1} << 53;

bool IsIntegerText(std::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::string NumberText(double d) {
  char buf[32];
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
    return {buf, r.ptr};
  }
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return {buf, r.ptr};
}

std::string ValueText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* d = std::get_if<double>(&v)) return NumberText(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (std::holds_alternative<mapping::List>(v)) return mapping::ToJson(v);
  return "";
}

Value NumberOrText(std::string_view text) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && text[0] == '+') ++begin;
  if (IsIntegerText(text)) {
    int64_t i = 0;
    auto r = std::from_chars(begin, end, i);
    if (r.ec != std::errc() || i > kExactIntegers || i < -kExactIntegers) return std::string(text);
    return static_cast<double>(i);
  }
  double d = 0;
  auto r = std::from_chars(begin, end, d);
  if (r.ec != std::errc() || r.ptr != end) return std::string(text);
  return d;
}

Value ForColumn(const Value& v, Kind kind) {
  const bool textual = kind == Kind::kText || kind == Kind::kJson || kind == Kind::kTimestamp;
  if (textual && !mapping::IsNull(v) && !std::holds_alternative<std::string>(v)) {
    return ValueText(v);
  }
  if (std::holds_alternative<mapping::List>(v)) return ValueText(v);
  return v;
}

Value KeyPart(const std::string& text, Kind kind) {
  if (kind == Kind::kInteger || kind == Kind::kReal || kind == Kind::kNumeric) {
    return NumberOrText(text);
  }
  return text;
}

bool FlagSet(const Value& v, Kind kind) {
  if (mapping::IsNull(v)) return false;
  if (kind == Kind::kTimestamp) return true;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* d = std::get_if<double>(&v)) return *d != 0;
  if (const auto* s = std::get_if<std::string>(&v)) {
    return !s->empty() && *s != "false" && *s != "f" && *s != "0" && *s != "no" && *s != "n";
  }
  return !std::get<mapping::List>(v).empty();
}

std::string RowHash(const mapping::Fields& fields) {
  const std::string json = mapping::ToJson(fields);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(json.data(), json.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned int i = 0; i < 16 && i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace ghl::connectors::sql
