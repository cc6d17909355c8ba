// Time transforms: date and datetime, through Howard Hinnant's date/tz (the library
// C++20's <chrono> calendar and time zones came from; GCC 12's libstdc++ has neither).
// Time zones come from the system's IANA database (/usr/share/zoneinfo).
//
// Canonical forms: a date is "YYYY-MM-DD"; a datetime is UTC "YYYY-MM-DDTHH:MM:SSZ".
#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "mapping/transform_defs.h"

namespace ghl::mapping::detail {
namespace {

using config::Context;
using config::DocRow;
using config::Table;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kCanonicalDate[] = "%Y-%m-%d";
constexpr char kCanonicalDateTime[] = "%Y-%m-%dT%H:%M:%SZ";

// A wall-clock time as read from text, with the UTC offset when the text had one.
struct WallTime {
  date::local_seconds local;
  std::optional<minutes> offset;
};

// Parses all of `text` with `format`; nullopt when it does not match or leaves text over.
// GCC 12 reports a maybe-uninitialized long double inside date.h's parser (a false
// positive in the library's seconds handling), inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
std::optional<WallTime> ParseWith(const std::string& format, const std::string& text) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  WallTime out;
  minutes offset{minutes::max()};
  in >> date::parse(format, out.local, offset);
  if (in.fail() || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  if (offset != minutes::max()) out.offset = offset;
  return out;
}
#pragma GCC diagnostic pop

bool HasOffset(const std::string& format) {
  return format.find("%z") != std::string::npos || format.find("%Ez") != std::string::npos ||
         format.find("%Oz") != std::string::npos;
}

// ISO 8601 as systems write it: a date, optionally "T" or " " and a time with optional
// seconds and fraction (dropped), optionally "Z" or an offset (+05:30, +0530).
std::optional<WallTime> ParseIso(std::string text) {
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  if (text.size() > 19 && text[19] == '.') {
    size_t end = 20;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    text.erase(19, end - 19);
  }
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) {
    text.back() = '+';
    text += "00:00";
  }
  // One parse, with the format the text's shape calls for.
  if (text.size() == 10) return ParseWith("%Y-%m-%d", text);
  const bool with_seconds = text.size() >= 19 && text[16] == ':';
  std::string format = with_seconds ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%dT%H:%M";
  const size_t time_end = with_seconds ? 19 : 16;
  if (text.size() > time_end) {
    format += text.find(':', time_end) != std::string::npos ? "%Ez" : "%z";
  }
  return ParseWith(format, text);
}

// ---- date ----

struct DateOptions {
  std::string format = kCanonicalDate;
};

const Table<DateOptions>& DateTable() {
  static const Table<DateOptions> table({
      config::fields::String("format", &DateOptions::format,
                             "The external column's format, strftime-style (`%d`, `%m`, `%Y`, "
                             "`%y`, `%b`, ...)."),
  });
  return table;
}

TransformDef DateDef() {
  TransformDef d;
  d.name = "date";
  d.example = "{date: \"%d/%m/%Y\"}";
  d.to_ghl = "text in `format` to `YYYY-MM-DD`";
  d.from_ghl = "`YYYY-MM-DD` (or the date part of an ISO 8601 time) to `format`";
  d.document = [](std::vector<DocRow>& rows) { DateTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<DateOptions>(
        "date", args, item, DateTable(),
        [](DateOptions& o, const YAML::Node& n, Context& c) {
          if (auto v = config::ParseString(n, c, false)) o.format = *v;
        },
        false, ctx);
    auto to = [format = o.format](const Value& v, const Fields&) -> Result<Value> {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr) return IsNull(v) ? v : Result<Value>(Error{Show(v) + " is not a date"});
      auto t = ParseWith(format, TrimSpace(*s));
      if (!t) return Error{"'" + *s + "' is not a date in the format " + format};
      return Value(date::format(kCanonicalDate, date::floor<date::days>(t->local)));
    };
    auto back = [format = o.format](const Value& v, const Fields&) -> Result<Value> {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr) return IsNull(v) ? v : Result<Value>(Error{Show(v) + " is not a date"});
      auto t = ParseIso(s->substr(0, 10));
      if (!t) return Error{"'" + *s + "' is not a date YYYY-MM-DD"};
      return Value(date::format(format, date::floor<date::days>(t->local)));
    };
    return TransformSteps{Step("date", to), Step("inverse of date", back)};
  };
  return d;
}

// ---- datetime ----

struct DateTimeOptions {
  std::string format = "iso8601";
  std::string timezone = "UTC";
};

const Table<DateTimeOptions>& DateTimeTable() {
  static const Table<DateTimeOptions> table({
      config::fields::String(
          "format", &DateTimeOptions::format,
          "`iso8601` (reads any ISO 8601 form, writes `2024-05-01T14:30:00+02:00`), `unix` "
          "(seconds since 1970), `unix_ms`, or a strftime-style format such as "
          "`%d.%m.%Y %H:%M`; with `%z` the text carries its own offset (`Z` accepted)."),
      config::fields::String("timezone", &DateTimeOptions::timezone,
                             "IANA time zone of external times without an offset, and of the "
                             "times written back. A local time skipped by a DST change reads "
                             "as the first valid time; a repeated one as the earlier."),
  });
  return table;
}

// The instant of an external text under the options.
Result<date::sys_seconds> ReadInstant(const std::string& text, const DateTimeOptions& o,
                                      const date::time_zone* zone) {
  std::optional<WallTime> t;
  if (o.format == "iso8601") {
    t = ParseIso(text);
  } else {
    std::string input = text;
    if (HasOffset(o.format) && !input.empty() && input.back() == 'Z') {
      input.back() = '+';
      input += o.format.find("%Ez") != std::string::npos ? "00:00" : "0000";
    }
    t = ParseWith(o.format, input);
  }
  if (!t) return Error{"'" + text + "' is not a time in the format " + o.format};
  if (t->offset) return date::sys_seconds{t->local.time_since_epoch() - *t->offset};
  return zone->to_sys(t->local, date::choose::earliest);
}

Result<Value> ToCanonicalTime(const Value& v, const DateTimeOptions& o,
                              const date::time_zone* zone) {
  if (IsNull(v)) return v;
  const bool unix_s = o.format == "unix", unix_ms = o.format == "unix_ms";
  if (unix_s || unix_ms) {
    double n = 0;
    if (const auto* d = std::get_if<double>(&v)) {
      n = *d;
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      auto parsed = ParseDouble(TrimSpace(*s));
      if (!parsed) {
        return Error{Show(v) + " is not a number of " + (unix_s ? "seconds" : "milliseconds")};
      }
      n = *parsed;
    } else {
      return Error{Show(v) + " is not a Unix time"};
    }
    const auto secs = static_cast<int64_t>(unix_ms ? std::floor(n / 1000) : std::floor(n));
    return Value(date::format(kCanonicalDateTime, date::sys_seconds{seconds{secs}}));
  }
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return Error{Show(v) + " is not a time"};
  auto instant = ReadInstant(TrimSpace(*s), o, zone);
  if (!instant.ok()) return instant.error();
  return Value(date::format(kCanonicalDateTime, *instant));
}

Result<Value> FromCanonicalTime(const Value& v, const DateTimeOptions& o,
                                const date::time_zone* zone) {
  if (IsNull(v)) return v;
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return Error{Show(v) + " is not an ISO 8601 time"};
  auto t = ParseIso(*s);
  if (!t) return Error{"'" + *s + "' is not an ISO 8601 time"};
  const date::sys_seconds instant{t->local.time_since_epoch() - t->offset.value_or(minutes{0})};
  const auto epoch_s = static_cast<double>(instant.time_since_epoch().count());
  if (o.format == "unix") return Value(epoch_s);
  if (o.format == "unix_ms") return Value(epoch_s * 1000);
  const auto zoned = date::make_zoned(zone, instant);
  if (o.format == "iso8601") {
    return Value(
        date::format(o.timezone == "UTC" ? kCanonicalDateTime : "%Y-%m-%dT%H:%M:%S%Ez", zoned));
  }
  return Value(date::format(o.format, zoned));
}

const date::time_zone* LocateZone(const std::string& name, const YAML::Node& at, Context& ctx) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    std::vector<std::string> names;
    try {
      for (const auto& z : date::get_tzdb().zones) names.emplace_back(z.name());
    } catch (const std::exception&) {
      // No database at all: the message below says so.
    }
    std::string msg = "unknown time zone '" + name + "'";
    if (names.empty()) msg += " (no time zone database found; install the tzdata package)";
    if (auto guess = config::DidYouMean(name, names)) msg += "; did you mean '" + *guess + "'?";
    ctx.Error(at, msg + "; use an IANA name such as Europe/Berlin or America/New_York");
    return nullptr;
  }
}

TransformDef DateTimeDef() {
  TransformDef d;
  d.name = "datetime";
  d.example = "{datetime: {format: \"%d.%m.%Y %H:%M\", timezone: Europe/Berlin}}";
  d.to_ghl = "text (or a Unix time) to UTC `YYYY-MM-DDTHH:MM:SSZ`";
  d.from_ghl = "an ISO 8601 time to `format` in `timezone`";
  d.document = [](std::vector<DocRow>& rows) { DateTimeTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<DateTimeOptions>(
        "datetime", args, item, DateTimeTable(),
        [](DateTimeOptions& o, const YAML::Node& n, Context& c) {
          if (auto v = config::ParseString(n, c, false)) o.format = *v;
        },
        false, ctx);
    const YAML::Node at = args.IsMap() && args["timezone"] ? args["timezone"] : item;
    auto scope = ctx.Enter(args.IsMap() && args["timezone"] ? ".datetime.timezone" : "");
    const date::time_zone* zone = LocateZone(o.timezone, at, ctx);
    if (zone == nullptr) return std::nullopt;
    auto to = [o, zone](const Value& v, const Fields&) { return ToCanonicalTime(v, o, zone); };
    auto back = [o, zone](const Value& v, const Fields&) { return FromCanonicalTime(v, o, zone); };
    return TransformSteps{Step("datetime", to), Step("inverse of datetime", back)};
  };
  return d;
}

}  // namespace

void AddTimeTransforms(std::vector<TransformDef>& defs) {
  defs.push_back(DateDef());
  defs.push_back(DateTimeDef());
}

}  // namespace ghl::mapping::detail
