#include "connectors/sql/cursor.h"

#include <fmt/format.h>

#include <cctype>

#include "connectors/sql/values.h"

namespace ghl::connectors::sql {
namespace {

constexpr std::string_view kAfterKeyTag = "key:";
constexpr std::string_view kAfterTag = "next:";

// "<u>|<key>" -> {u, key}; the key may itself contain '|', a timestamp never does.
std::pair<std::string, std::string> SplitPosition(std::string_view text) {
  const size_t bar = text.find('|');
  if (bar == std::string_view::npos) return {std::string(text), ""};
  return {std::string(text.substr(0, bar)), std::string(text.substr(bar + 1))};
}

bool Digits(std::string_view s, size_t from, size_t count) {
  if (from + count > s.size()) return false;
  for (size_t i = from; i < from + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

int Number(std::string_view s, size_t from, size_t count) {
  int n = 0;
  for (size_t i = from; i < from + count; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

std::optional<std::chrono::sys_days> Date(std::string_view s) {
  if (!Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' || !Digits(s, 8, 2)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{Number(s, 0, 4)},
                                        std::chrono::month{static_cast<unsigned>(Number(s, 5, 2))},
                                        std::chrono::day{static_cast<unsigned>(Number(s, 8, 2))}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::string FormatDate(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

// "YYYY-MM-DD[T ]HH:MM:SS[.fff...][zone]", its parts.
struct DateTime {
  std::chrono::sys_time<std::chrono::milliseconds> wall;  // the digits, read as if UTC
  char separator = 'T';
  std::string_view fraction;  // the digits after '.'
  std::string_view zone;      // "Z", "+02:00", "+02", "" ...
};

std::optional<DateTime> ParseDateTime(std::string_view s) {
  using namespace std::chrono;
  auto day = Date(s);
  if (!day || s.size() < 19 || (s[10] != 'T' && s[10] != ' ') || !Digits(s, 11, 2) ||
      s[13] != ':' || !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2)) {
    return std::nullopt;
  }
  DateTime dt;
  dt.separator = s[10];
  size_t end = 19;
  if (end < s.size() && s[end] == '.') {
    while (end + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[end + 1]))) ++end;
    ++end;
    dt.fraction = s.substr(20, end - 20);
  }
  dt.zone = s.substr(end);
  int ms = 0;
  for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < dt.fraction.size() ? dt.fraction[i] - '0' : 0);
  dt.wall = *day + hours{Number(s, 11, 2)} + minutes{Number(s, 14, 2)} + seconds{Number(s, 17, 2)} +
            milliseconds{ms};
  return dt;
}

// Moved back, the zone text kept as it is (moving the wall-clock digits back keeps the same
// offset); a shorter fraction is rounded down, so the result is never later than asked.
std::optional<std::string> ShiftDateTime(std::string_view s, std::chrono::milliseconds by) {
  using namespace std::chrono;
  auto dt = ParseDateTime(s);
  if (!dt) return std::nullopt;
  sys_time<milliseconds> t = dt->wall - by;
  if (dt->fraction.empty()) t = floor<seconds>(t);
  const auto new_day = floor<days>(t);
  if (year_month_day{new_day}.year() < year{1}) return std::nullopt;
  const hh_mm_ss<milliseconds> hms{t - new_day};
  std::string out = fmt::format("{}{}{:02}:{:02}:{:02}", FormatDate(new_day), dt->separator,
                                hms.hours().count(), hms.minutes().count(), hms.seconds().count());
  if (!dt->fraction.empty()) {
    const std::string millis = fmt::format("{:03}", hms.subseconds().count());
    out += "." + millis.substr(0, std::min<size_t>(3, dt->fraction.size()));
    if (dt->fraction.size() > 3) out += dt->fraction.substr(3);
  }
  out += dt->zone;
  return out;
}

// "+02:00", "-0530", "+02" -> the offset; "Z" and "" -> 0; nullopt for anything else.
std::optional<std::chrono::minutes> ZoneOffset(std::string_view zone) {
  if (zone.empty() || zone == "Z") return std::chrono::minutes(0);
  if ((zone[0] != '+' && zone[0] != '-') || !Digits(zone, 1, 2)) return std::nullopt;
  int minutes = Number(zone, 1, 2) * 60;
  const std::string_view rest = zone.substr(3);
  if (rest.size() == 3 && rest[0] == ':' && Digits(rest, 1, 2)) {
    minutes += Number(rest, 1, 2);
  } else if (rest.size() == 2 && Digits(rest, 0, 2)) {
    minutes += Number(rest, 0, 2);
  } else if (!rest.empty()) {
    return std::nullopt;
  }
  return std::chrono::minutes(zone[0] == '-' ? -minutes : minutes);
}

}  // namespace

std::string EncodeKey(const std::vector<std::string>& parts) {
  if (parts.size() == 1) return parts[0];
  return mapping::ToJson(Value(mapping::List(parts)));
}

std::optional<std::vector<std::string>> DecodeKey(const std::string& key, std::size_t count) {
  if (count == 1) return std::vector<std::string>{key};
  Value v;
  if (!mapping::FromJson(key, &v)) return std::nullopt;
  const auto* list = std::get_if<mapping::List>(&v);
  if (list == nullptr || list->size() != count) return std::nullopt;
  return *list;
}

Cursor ParseCursor(const std::string& text, bool incremental) {
  Cursor c;
  const std::string_view t = text;
  if (t.empty()) return c;
  if (!incremental) {
    if (t.starts_with(kAfterKeyTag)) {
      c.kind = Cursor::Kind::kAfterKey;
      c.key = text.substr(kAfterKeyTag.size());
    }
    return c;
  }
  if (t.starts_with(kAfterKeyTag)) return c;
  const bool after = t.starts_with(kAfterTag);
  auto [u, key] = SplitPosition(after ? t.substr(kAfterTag.size()) : t);
  if (u.empty()) return c;
  c.kind = after ? Cursor::Kind::kAfter : Cursor::Kind::kResume;
  c.updated_at = std::move(u);
  c.key = std::move(key);
  return c;
}

std::string FormatCursor(const Cursor& cursor) {
  switch (cursor.kind) {
    case Cursor::Kind::kStart:
      return "";
    case Cursor::Kind::kAfterKey:
      return std::string(kAfterKeyTag) + cursor.key;
    case Cursor::Kind::kAfter:
      return std::string(kAfterTag) + cursor.updated_at + "|" + cursor.key;
    case Cursor::Kind::kResume:
      return cursor.updated_at + "|" + cursor.key;
  }
  return "";
}

std::optional<std::string> ShiftBack(const std::string& updated_at, std::chrono::milliseconds by) {
  const Value number = NumberOrText(updated_at);
  if (const auto* d = std::get_if<double>(&number)) {
    return NumberText(*d - static_cast<double>(by.count()) / 1000.0);
  }
  if (updated_at.size() == 10) {
    auto day = Date(updated_at);
    if (!day) return std::nullopt;
    const auto whole_days = std::chrono::ceil<std::chrono::days>(by);
    return FormatDate(*day - whole_days);
  }
  return ShiftDateTime(updated_at, by);
}

std::optional<int64_t> UnixMillis(const std::string& updated_at) {
  const Value number = NumberOrText(updated_at);
  if (const auto* d = std::get_if<double>(&number)) return static_cast<int64_t>(*d * 1000.0);
  std::optional<DateTime> dt;
  if (updated_at.size() == 10) {
    auto day = Date(updated_at);
    if (day) dt = DateTime{*day, 'T', {}, {}};
  } else {
    dt = ParseDateTime(updated_at);
  }
  if (!dt) return std::nullopt;
  auto offset = ZoneOffset(dt->zone);
  if (!offset) return std::nullopt;
  return (dt->wall - *offset).time_since_epoch().count();
}

}  // namespace ghl::connectors::sql
