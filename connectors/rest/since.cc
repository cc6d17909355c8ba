#include "connectors/rest/since.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <string_view>

namespace ghl::connectors::rest {
namespace {

using namespace std::chrono;

// `n` decimal digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<double> Number(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// The zone suffix at `pos`: "", "Z", "+hh:mm", "+hhmm" (or "-"), as minutes east of UTC.
std::optional<int> Offset(std::string_view s, size_t pos) {
  if (pos == s.size()) return 0;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return 0;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  int h = 0, m = 0;
  const size_t colon = pos + 3 < s.size() && s[pos + 3] == ':' ? 1 : 0;
  if (!Digits(s, pos + 1, 2, &h) || !Digits(s, pos + 3 + colon, 2, &m) ||
      pos + 5 + colon != s.size() || h > 23 || m > 59) {
    return std::nullopt;
  }
  return (s[pos] == '+' ? 1 : -1) * (h * 60 + m);
}

// YYYY-MM-DD[T ]HH:MM:SS[.fraction][zone]
std::optional<int64_t> ParseIso(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 19 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec) || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    int scale = 100, digit = 0;
    for (++pos; pos < s.size() && Digits(s, pos, 1, &digit); ++pos, scale /= 10) {
      ms += digit * scale;
    }
  }
  const auto offset = Offset(s, pos);
  if (!offset) return std::nullopt;
  const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} - minutes{*offset};
  return duration_cast<milliseconds>(t.time_since_epoch()).count() + ms;
}

}  // namespace

std::optional<int64_t> ParseTime(const std::string& text, const std::string& format) {
  if (format == "iso8601") return ParseIso(text);
  if (format != "unix" && format != "unix_ms") return std::nullopt;
  const auto v = Number(text);
  if (!v) return std::nullopt;
  return std::llround(format == "unix" ? *v * 1000 : *v);
}

std::string FormatTime(int64_t epoch_ms, const std::string& format) {
  if (format == "unix_ms") return std::to_string(epoch_ms);
  const sys_time<milliseconds> t{milliseconds{epoch_ms}};
  if (format == "unix") return std::to_string(floor<seconds>(t).time_since_epoch().count());
  const auto midnight = floor<days>(t);
  const year_month_day ymd{midnight};
  const hh_mm_ss hms{t - midnight};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

std::optional<int64_t> UpdatedMs(const std::string& text, const std::string& format) {
  if (!format.empty() && format != "raw") return ParseTime(text, format);
  if (auto t = ParseIso(text)) return t;
  const auto v = Number(text);
  if (!v) return std::nullopt;
  return std::llround(*v > 1e11 ? *v : *v * 1000);
}

std::string Later(const std::string& a, const std::string& b, const std::string& format) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (format == "raw") {
    const auto na = Number(a), nb = Number(b);
    if (na && nb) return *nb > *na ? b : a;
    return b > a ? b : a;
  }
  const auto ta = ParseTime(a, format), tb = ParseTime(b, format);
  if (!tb) return a;
  if (!ta) return b;
  return *tb > *ta ? b : a;
}

std::string SinceValue(const std::string& high, const UpdatedSinceOptions& options) {
  if (options.format == "raw") return high;
  const auto t = ParseTime(high, options.format);
  if (!t) return high;
  return FormatTime(*t - options.overlap.count(), options.format);
}

}  // namespace ghl::connectors::rest
