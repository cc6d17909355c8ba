#include "connectors/rest/pagination.h"

#include <curl/curl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "connectors/rest/json.h"

namespace ghl::connectors::rest {
namespace {

std::string Escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

// A page number or offset from a cursor (0 when it is not one).
int64_t Int(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The value of the `rel` parameter in one link's parameters ("; rel=\"next prev\"").
std::string RelOf(const std::string& params) {
  const std::string lower = Lower(params);
  size_t at = lower.find("rel");
  while (at != std::string::npos) {
    size_t eq = lower.find_first_not_of(" \t", at + 3);
    if (eq != std::string::npos && lower[eq] == '=' &&
        (at == 0 || lower[at - 1] == ';' || std::isspace(lower[at - 1]) != 0)) {
      size_t start = lower.find_first_not_of(" \t", eq + 1);
      if (start == std::string::npos) return "";
      if (lower[start] == '"') {
        const size_t end = lower.find('"', start + 1);
        return lower.substr(start + 1, end == std::string::npos ? end : end - start - 1);
      }
      return lower.substr(start, lower.find_first_of("; \t", start) - start);
    }
    at = lower.find("rel", at + 3);
  }
  return "";
}

}  // namespace

std::string EncodeCursor(const ScanState& s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  if (s.in_scan) {
    w.Key("in_scan");
    w.Bool(true);
    w.Key("next");
    w.String(s.next.c_str(), static_cast<rapidjson::SizeType>(s.next.size()));
    w.Key("size");
    w.Int64(s.size);
    w.Key("since");
    w.String(s.since.c_str(), static_cast<rapidjson::SizeType>(s.since.size()));
    w.Key("rejected");
    w.Bool(s.rejected);
    w.Key("first");
    w.String(s.first.c_str(), static_cast<rapidjson::SizeType>(s.first.size()));
  }
  w.Key("high");
  w.String(s.high.c_str(), static_cast<rapidjson::SizeType>(s.high.size()));
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<ScanState> DecodeCursor(const std::string& cursor) {
  rapidjson::Document doc;
  doc.Parse(cursor.data(), cursor.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  ScanState s;
  auto text = [&](const char* name, std::string* out) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return true;
    if (!it->value.IsString()) return false;
    *out = std::string(it->value.GetString(), it->value.GetStringLength());
    return true;
  };
  if (!text("high", &s.high) || !text("next", &s.next) || !text("since", &s.since) ||
      !text("first", &s.first)) {
    return std::nullopt;
  }
  auto in_scan = doc.FindMember("in_scan");
  s.in_scan = in_scan != doc.MemberEnd() && in_scan->value.IsBool() && in_scan->value.GetBool();
  auto size = doc.FindMember("size");
  if (size != doc.MemberEnd() && size->value.IsInt64()) s.size = size->value.GetInt64();
  auto rejected = doc.FindMember("rejected");
  s.rejected = rejected != doc.MemberEnd() && rejected->value.IsBool() && rejected->value.GetBool();
  if (s.in_scan && s.size <= 0) return std::nullopt;
  return s;
}

std::string AppendQuery(const std::string& target, const std::string& name,
                        const std::string& value) {
  const char sep = target.find('?') == std::string::npos ? '?' : '&';
  return target + sep + Escape(name) + "=" + Escape(value);
}

std::string PageTarget(const ListOptions& list, const ScanState& s) {
  const PaginationOptions& p = list.pagination;
  if (p.type == "link" && !s.next.empty()) return s.next;
  std::string target = list.path;
  if (!s.since.empty()) target = AppendQuery(target, list.updated_since.param, s.since);
  if (p.type == "none") return target;
  target = AppendQuery(target, p.size_param, std::to_string(s.size));
  if (p.type == "page") {
    return AppendQuery(target, p.page_param,
                       s.next.empty() ? std::to_string(p.first_page) : s.next);
  }
  if (p.type == "offset") return AppendQuery(target, p.offset_param, s.next.empty() ? "0" : s.next);
  if (p.type == "cursor" && !s.next.empty()) return AppendQuery(target, p.cursor_param, s.next);
  return target;
}

std::optional<std::string> NextPage(const PaginationOptions& p, const ScanState& s, size_t items,
                                    const rapidjson::Value& doc, const std::string& link) {
  if (p.type == "none" || items == 0) return std::nullopt;
  const bool short_page = static_cast<int64_t>(items) < s.size;
  if (p.type == "page") {
    if (short_page) return std::nullopt;
    const int64_t page = s.next.empty() ? p.first_page : Int(s.next);
    return std::to_string(page + 1);
  }
  if (p.type == "offset") {
    if (short_page) return std::nullopt;
    const int64_t offset = s.next.empty() ? 0 : Int(s.next);
    return std::to_string(offset + static_cast<int64_t>(items));
  }
  if (p.type == "cursor") {
    const rapidjson::Value* v = Find(doc, p.cursor_path);
    auto next = v != nullptr ? ScalarText(*v) : std::nullopt;
    if (!next || *next == s.next) return std::nullopt;  // a repeated cursor would loop
    return next;
  }
  return LinkNext(link);
}

std::optional<std::string> LinkNext(const std::string& link) {
  size_t open = link.find('<');
  while (open != std::string::npos) {
    const size_t close = link.find('>', open);
    if (close == std::string::npos) return std::nullopt;
    const size_t following = link.find('<', close);
    const std::string params = link.substr(
        close + 1, following == std::string::npos ? std::string::npos : following - close - 1);
    std::istringstream rels(RelOf(params));
    for (std::string rel; rels >> rel;) {
      if (rel == "next") return link.substr(open + 1, close - open - 1);
    }
    open = following;
  }
  return std::nullopt;
}

}  // namespace ghl::connectors::rest
