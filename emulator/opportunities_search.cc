// GET /opportunities/search (search-opportunity; FACTS.md §4.1). Query names are
// snake_case; paging is by page/limit or by the (createdAt, id) cursor that
// startAfter/startAfterId carry, over the search view that lags behind writes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "emulator/emulator.h"
#include "emulator/opportunities.h"

namespace ghl::emulator {
namespace {

constexpr int kDefaultLimit = 20;
constexpr int kMaxLimit = 100;
// Inferred: the search index serves offset pages only within its first 10,000 hits, as
// contact search does (FACTS.md §3.2); startAfter/startAfterId page beyond that.
constexpr int kMaxPagedResults = 10'000;

bool IsStatus(std::string_view s) {
  return s == "open" || s == "won" || s == "lost" || s == "abandoned" || s == "all";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct SearchParams {
  std::string location, q, pipeline, stage, contact, assigned, id, campaign, country;
  std::string status = "all";  // Inferred: no status filter means every status
  bool ascending = false;
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;  // createdAt window
  std::optional<int64_t> start_after;
  std::string start_after_id;
  int page = 1, limit = kDefaultLimit;
  bool tasks = false, notes = false, events = false;
};

std::optional<double> ParseNumber(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return std::nullopt;
  return v;
}

// mm-dd-yyyy → epoch ms of that day's start (UTC).
// Inferred: days are UTC days; GHL may use the location's timezone.
std::optional<int64_t> ParseDay(const std::string& s) {
  int m = 0, d = 0, y = 0, n = 0;
  if (std::sscanf(s.c_str(), "%2d-%2d-%4d%n", &m, &d, &y, &n) != 3 ||
      static_cast<size_t>(n) != s.size() || m < 1 || m > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = m - 1, tm.tm_mday = d;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

void ParseBool(const Call& c, const char* key, bool* out, std::vector<std::string>* errors) {
  const auto v = c.Query(key);
  if (!v) return;
  if (*v != "true" && *v != "false") {
    errors->push_back(std::string(key) + " must be a boolean value");
  }
  *out = *v == "true";
}

void ParseInt(const Call& c, const char* key, int min, int max, int* out,
              std::vector<std::string>* errors) {
  const auto v = c.Query(key);
  if (!v || v->empty()) return;
  const auto n = ParseNumber(*v);
  const std::string k = key;
  if (!n) {
    errors->push_back(k + " must be a number conforming to the specified constraints");
  } else if (*n > max) {
    errors->push_back(k + " must not be greater than " + std::to_string(max));
  } else if (*n < min) {
    errors->push_back(k + " must not be less than " + std::to_string(min));
  } else {
    *out = static_cast<int>(*n);
  }
}

// date, endDate, startAfter: set *out or add an error.
template <typename Convert>
void ParseTime(const Call& c, const char* key, Convert convert, const char* format, int64_t* out,
               std::vector<std::string>* errors) {
  const auto v = c.Query(key);
  if (!v || v->empty()) return;
  if (auto ms = convert(*v)) {
    *out = *ms;
  } else {
    errors->push_back(std::string(key) + " must be " + format);
  }
}

// Inferred: unknown query parameters are ignored, not refused: GHL's own nextPageUrl
// example carries a stray "assigned_to " key.
std::vector<std::string> ParseFilters(const Call& c, SearchParams* p) {
  std::vector<std::string> errors;
  p->location = c.Query("location_id").value_or("");
  if (p->location.empty()) errors.push_back("location_id should not be empty");
  p->q = Lower(c.Query("q").value_or(""));
  p->pipeline = c.Query("pipeline_id").value_or("");
  p->stage = c.Query("pipeline_stage_id").value_or("");
  p->contact = c.Query("contact_id").value_or("");
  p->assigned = c.Query("assigned_to").value_or("");
  p->id = c.Query("id").value_or("");
  p->campaign = c.Query("campaignId").value_or("");
  p->country = c.Query("country").value_or("");
  if (auto s = c.Query("status"); s && !s->empty()) {
    if (!IsStatus(*s)) {
      errors.push_back(
          "status must be one of the following values: open, won, lost, abandoned, all");
    }
    p->status = *s;
  }
  // Inferred: newest first unless order=added_asc; other orders are not documented.
  if (auto o = c.Query("order"); o && !o->empty()) {
    if (*o != "added_asc" && *o != "added_desc") {
      errors.push_back("order must be one of the following values: added_asc, added_desc");
    }
    p->ascending = *o == "added_asc";
  }
  const char* day = "a date in the format mm-dd-yyyy";
  ParseTime(c, "date", ParseDay, day, &p->from_ms, &errors);
  ParseTime(c, "endDate", ParseDay, day, &p->to_ms, &errors);
  if (p->to_ms != INT64_MAX) p->to_ms += 86'400'000 - 1;  // through the end of that day
  return errors;
}

// Inferred: startAfterId without startAfter is ignored (the cursor is the pair).
void ParsePaging(const Call& c, SearchParams* p, std::vector<std::string>* errors) {
  int64_t after = INT64_MIN;
  ParseTime(
      c, "startAfter",
      [](const std::string& s) -> std::optional<int64_t> {
        if (auto v = ParseNumber(s)) return static_cast<int64_t>(*v);
        return std::nullopt;
      },
      "a number string (epoch milliseconds)", &after, errors);
  if (after != INT64_MIN) p->start_after = after;
  p->start_after_id = c.Query("startAfterId").value_or("");
  ParseInt(c, "limit", 1, kMaxLimit, &p->limit, errors);
  ParseInt(c, "page", 1, INT32_MAX, &p->page, errors);
  ParseBool(c, "getTasks", &p->tasks, errors);
  ParseBool(c, "getNotes", &p->notes, errors);
  ParseBool(c, "getCalendarEvents", &p->events, errors);
}

bool Contains(const Json& obj, const char* field, const std::string& needle) {
  return Lower(GetString(obj, field).value_or("")).find(needle) != std::string::npos;
}

// Inferred: q matches the opportunity's name and its contact's name, email, phone and
// company, case-insensitively; country is the contact's country; campaignId matches a
// field API writes never set, so it finds nothing.
bool Matches(World& w, const SearchParams& p, const Json& doc) {
  auto is = [&](const char* f, const std::string& want) {
    return want.empty() || GetString(doc, f) == want;
  };
  if (!is("pipelineId", p.pipeline) || !is("pipelineStageId", p.stage) ||
      !is("contactId", p.contact) || !is("assignedTo", p.assigned) || !is("id", p.id) ||
      !is("campaignId", p.campaign)) {
    return false;
  }
  if (p.status != "all" && GetString(doc, "status") != p.status) return false;
  if (!p.q.empty()) {
    const Json* contact = GetObject(doc, "contact");
    bool hit = Contains(doc, "name", p.q);
    for (const char* f : {"name", "email", "phone", "companyName"}) {
      hit = hit || (contact != nullptr && Contains(*contact, f, p.q));
    }
    if (!hit) return false;
  }
  if (!p.country.empty()) {
    const Record* c = w.contacts.Find(GetString(doc, "contactId").value_or(""));
    if (c == nullptr || GetString(c->doc, "country") != p.country) return false;
  }
  return true;
}

struct Hit {
  int64_t created;
  std::string id;
  const Json* doc;
};

// Whether `h` comes after the (startAfter, startAfterId) cursor in the search order.
bool AfterCursor(const Hit& h, const SearchParams& p) {
  const int64_t at = *p.start_after;
  if (h.created != at) return p.ascending ? h.created > at : h.created < at;
  if (p.start_after_id.empty()) return false;
  return p.ascending ? h.id > p.start_after_id : h.id < p.start_after_id;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// The caller's query with the cursor of the next page, as an absolute URL as in the
// spec's example (relative when the request had no Host, as for admin "as user" calls).
// Inferred: the scheme is http, the emulator's own; GHL's is https.
std::string NextPageUrl(const Call& c, const Hit& last, int next_page) {
  auto query = c.query;
  query["startAfter"] = std::to_string(last.created);
  query["startAfterId"] = last.id;
  query["page"] = std::to_string(next_page);
  std::string url;
  const auto host = c.req[http::field::host];
  if (!host.empty()) url = "http://" + std::string(host.data(), host.size());
  url += "/opportunities/search?";
  bool first = true;
  for (const auto& [k, v] : query) {
    url += (first ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
    first = false;
  }
  return url;
}

Json SearchMeta(const Call& c, const SearchParams& p, const std::vector<Hit>& hits, size_t start,
                size_t end, Alloc& a) {
  // Inferred: startAfter/startAfterId name the page's last hit even on the last page;
  // nextPageUrl and nextPage are null when nothing follows.
  Json meta(rapidjson::kObjectType);
  const bool more = end < hits.size();
  meta.AddMember("total", static_cast<uint64_t>(hits.size()), a);
  meta.AddMember("nextPageUrl", more ? Str(NextPageUrl(c, hits[end - 1], p.page + 1), a) : Json(),
                 a);
  if (end > start) {
    meta.AddMember("startAfterId", Str(hits[end - 1].id, a), a);
    meta.AddMember("startAfter", hits[end - 1].created, a);
  } else {
    meta.AddMember("startAfterId", Json(), a);
    meta.AddMember("startAfter", Json(), a);
  }
  meta.AddMember("currentPage", p.page, a);
  meta.AddMember("nextPage", more ? Json(p.page + 1) : Json(), a);
  meta.AddMember("prevPage", p.page > 1 ? Json(p.page - 1) : Json(), a);
  return meta;
}

}  // namespace

Reply SearchOpportunities(Call& c) {
  SearchParams p;
  auto errors = ParseFilters(c, &p);
  ParsePaging(c, &p, &errors);
  if (!p.location.empty()) {
    if (auto denied = c.CheckLocation(p.location)) return *denied;
  }
  if (!errors.empty()) return Unprocessable(errors);
  if (!p.start_after && static_cast<int64_t>(p.page) * p.limit > kMaxPagedResults) {
    return BadRequest("page * limit exceeds 10000 results; use startAfter and startAfterId");
  }
  World& w = c.emu.world();
  std::vector<Hit> hits;
  for (const auto& [id, doc] : w.opportunities.SearchView(c.now_ms)) {
    if (GetString(*doc, "locationId") != p.location || !Matches(w, p, *doc)) continue;
    const int64_t created = ParseIsoTime(GetString(*doc, "createdAt").value_or("")).value_or(0);
    if (created < p.from_ms || created > p.to_ms) continue;
    hits.push_back({created, id, doc.get()});
  }
  auto less = [](const Hit& x, const Hit& y) {
    return x.created != y.created ? x.created < y.created : x.id < y.id;
  };
  std::sort(hits.begin(), hits.end(),
            [&](const Hit& x, const Hit& y) { return p.ascending ? less(x, y) : less(y, x); });
  size_t start = static_cast<size_t>(p.page - 1) * static_cast<size_t>(p.limit);
  if (p.start_after) {
    start = 0;
    while (start < hits.size() && !AfterCursor(hits[start], p)) ++start;
  }
  start = std::min(start, hits.size());
  const size_t end = std::min(hits.size(), start + static_cast<size_t>(p.limit));

  JsonDoc d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  Json list(rapidjson::kArrayType);
  for (size_t i = start; i < end; ++i) {
    Json item = RenderOpportunity(w, *hits[i].doc, a);
    // Inferred: the emulator keeps no notes, tasks or events, so asking for them adds [].
    if (p.notes) item.AddMember("notes", Json(rapidjson::kArrayType), a);
    if (p.tasks) item.AddMember("tasks", Json(rapidjson::kArrayType), a);
    if (p.events) item.AddMember("calendarEvents", Json(rapidjson::kArrayType), a);
    list.PushBack(item, a);
  }
  d.AddMember("opportunities", list, a);
  d.AddMember("meta", SearchMeta(c, p, hits, start, end, a), a);
  d.AddMember("aggregations", Json(rapidjson::kObjectType), a);  // Inferred: undocumented
  return JsonReply(200, d);
}

}  // namespace ghl::emulator
