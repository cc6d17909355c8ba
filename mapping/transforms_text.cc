// Text transforms: trim, lower, upper (Unicode, through ICU), split, join, template, concat.
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include "mapping/transform_defs.h"

namespace ghl::mapping::detail {
namespace {

using config::Context;
using config::Table;

// ---- Unicode helpers (ICU) ----

bool IsValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c = 0;
    U8_NEXT(p, i, n, c);
    if (c < 0) return false;
  }
  return true;
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string TrimSpace(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t n = static_cast<int32_t>(s.size());
  int32_t begin = 0;
  while (begin < n) {
    int32_t next = begin;
    UChar32 c = 0;
    U8_NEXT(p, next, n, c);
    if (c < 0 || !u_isUWhiteSpace(c)) break;
    begin = next;
  }
  int32_t end = n;
  while (end > begin) {
    int32_t prev = end;
    UChar32 c = 0;
    U8_PREV(p, 0, prev, c);
    if (c < 0 || !u_isUWhiteSpace(c)) break;
    end = prev;
  }
  return s.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
}

Result<std::string> CaseMap(const std::string& s, bool upper) {
  if (IsAscii(s)) {
    std::string out = s;
    for (char& c : out) {
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  if (!IsValidUtf8(s)) return Error{"the text is not valid UTF-8"};
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), s.size()));
  if (upper) {
    u.toUpper(icu::Locale::getRoot());
  } else {
    u.toLower(icu::Locale::getRoot());
  }
  std::string out;
  u.toUTF8String(out);
  return out;
}

namespace {

// ---- split / join ----

Value Split(const Value& in, const std::string& separator) {
  if (IsNull(in)) return List{};
  auto text = TextOf(in);
  if (!text) return in;  // already a list
  List out;
  size_t start = 0;
  while (start <= text->size()) {
    size_t end = text->find(separator, start);
    if (end == std::string::npos) end = text->size();
    std::string item = TrimSpace(text->substr(start, end - start));
    if (!item.empty()) out.push_back(std::move(item));
    start = end + separator.size();
  }
  return out;
}

std::string JoinText(const List& list, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) out += (i == 0 ? "" : separator) + list[i];
  return out;
}

Value Join(const Value& in, const std::string& separator) {
  const auto* list = std::get_if<List>(&in);
  if (list == nullptr) return in;
  if (list->empty()) return std::monostate{};
  return JoinText(*list, separator);
}

struct SeparatorOptions {
  std::string separator;
};

const Table<SeparatorOptions>& SeparatorTable() {
  static const Table<SeparatorOptions> table({
      config::fields::String("separator", &SeparatorOptions::separator,
                             "Text between items (items are trimmed; empty items dropped).")
          .Required(),
  });
  return table;
}

TransformDef SplitOrJoin(bool split) {
  const std::string name = split ? "split" : "join";
  TransformDef d;
  d.name = name;
  d.example = split ? "{split: \";\"}" : "{join: \", \"}";
  d.to_ghl = split ? "text to a list (tags, multi-select); empty to `[]`"
                   : "a list to text; `[]` to empty";
  d.from_ghl = split ? "joins the list (an empty list to empty)" : "splits the text";
  d.document = [](std::vector<config::DocRow>& rows) { SeparatorTable().Document(rows, ""); };
  d.compile = [name, split](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                            Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<SeparatorOptions>(
        name, args, item, SeparatorTable(),
        [](SeparatorOptions& o, const YAML::Node& n, Context& c) {
          if (auto v = config::ParseString(n, c, false)) o.separator = *v;
        },
        true, ctx);
    const std::string sep = o.separator;
    auto do_split = [sep](const Value& v, const Fields&) -> Result<Value> { return Split(v, sep); };
    auto do_join = [sep](const Value& v, const Fields&) -> Result<Value> { return Join(v, sep); };
    if (split) return TransformSteps{Step("split", do_split), Step("inverse of split", do_join)};
    return TransformSteps{Step("join", do_join), Step("inverse of join", do_split)};
  };
  return d;
}

// ---- template / concat: values built from other columns ----

struct TemplatePart {
  bool column = false;
  std::string text;  // literal text, or the column name
};

std::optional<std::vector<TemplatePart>> ParseTemplate(const std::string& t, std::string* why) {
  std::vector<TemplatePart> parts;
  std::string literal;
  for (size_t i = 0; i < t.size(); ++i) {
    if ((t[i] == '{' || t[i] == '}') && i + 1 < t.size() && t[i + 1] == t[i]) {
      literal += t[i++];
    } else if (t[i] == '{') {
      const size_t close = t.find('}', i);
      const std::string column = close == std::string::npos ? "" : t.substr(i + 1, close - i - 1);
      if (column.empty() || column.find('{') != std::string::npos) {
        *why = "'{' at position " + std::to_string(i + 1) +
               " does not start a {column} reference (write '{{' for a literal '{')";
        return std::nullopt;
      }
      if (!literal.empty()) parts.push_back({false, std::move(literal)}), literal.clear();
      parts.push_back({true, column});
      i = close;
    } else if (t[i] == '}') {
      *why = "'}' at position " + std::to_string(i + 1) +
             " closes nothing (write '}}' for a literal '}')";
      return std::nullopt;
    } else {
      literal += t[i];
    }
  }
  if (!literal.empty()) parts.push_back({false, std::move(literal)});
  return parts;
}

// A column's value as template text: lists joined by ", ", null as "".
std::string ColumnText(const Fields& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end()) return "";
  if (auto t = TextOf(it->second)) return *t;
  if (const auto* l = std::get_if<List>(&it->second)) return JoinText(*l, ", ");
  return "";
}

Value NullIfEmpty(std::string s) {
  s = TrimSpace(s);
  if (s.empty()) return std::monostate{};
  return s;
}

TransformDef TemplateDef() {
  TransformDef d;
  d.name = "template";
  d.example = "{template: \"{first_name} {last_name}\"}";
  d.to_ghl =
      "text built from other columns of the row (`{column}`; `{{`/`}}` for braces); the result "
      "is trimmed, and empty when every column is";
  d.from_ghl = "none: the field must be `direction: to_ghl`, without `external`";
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    if (!args.IsDefined() || !args.IsScalar()) {
      ctx.Error(args.IsDefined() ? args : item, "expected {template: \"{column} text {column}\"}");
      return std::nullopt;
    }
    auto scope = ctx.Enter(".template");
    std::string why;
    auto parts = ParseTemplate(args.Scalar(), &why);
    if (!parts) {
      ctx.Error(args, why);
      return std::nullopt;
    }
    auto fn = [parts = *parts](const Value&, const Fields& row) -> Result<Value> {
      std::string out;
      for (const auto& p : parts) out += p.column ? ColumnText(row, p.text) : p.text;
      return NullIfEmpty(std::move(out));
    };
    return TransformSteps{Step("template", fn), nullptr, false, true};
  };
  return d;
}

struct ConcatOptions {
  std::vector<std::string> columns;
  std::string separator = " ";
};

const Table<ConcatOptions>& ConcatTable() {
  static const Table<ConcatOptions> table({
      config::fields::StringList("columns", &ConcatOptions::columns, "The columns, in order.")
          .Required(),
      config::fields::String("separator", &ConcatOptions::separator,
                             "Text between the non-empty values.", true),
  });
  return table;
}

TransformDef ConcatDef() {
  TransformDef d;
  d.name = "concat";
  d.example = "{concat: {columns: [street, number], separator: \" \"}}";
  d.to_ghl = "the non-empty values of `columns`, trimmed, joined by `separator`";
  d.from_ghl = "none: the field must be `direction: to_ghl`, without `external`";
  d.document = [](std::vector<config::DocRow>& rows) { ConcatTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    ConcatOptions o;
    if (args.IsDefined() && args.IsSequence()) {  // {concat: [a, b]}
      for (size_t i = 0; i < args.size(); ++i) {
        auto scope = ctx.Enter(".concat[" + std::to_string(i) + "]");
        if (auto v = config::ParseString(args[i], ctx, false)) o.columns.push_back(*v);
      }
    } else {
      o = ParseOptions<ConcatOptions>("concat", args, item, ConcatTable(), {}, true, ctx);
    }
    auto fn = [o](const Value&, const Fields& row) -> Result<Value> {
      std::string out;
      for (const auto& c : o.columns) {
        std::string v = TrimSpace(ColumnText(row, c));
        if (!v.empty()) out += (out.empty() ? "" : o.separator) + v;
      }
      return NullIfEmpty(std::move(out));
    };
    return TransformSteps{Step("concat", fn), nullptr, false, true};
  };
  return d;
}

// ---- trim / lower / upper ----

TransformDef TextDef(const std::string& name, std::string to_ghl,
                     std::function<Result<std::string>(const std::string&)> fn) {
  TransformDef d;
  d.name = name;
  d.example = name;
  d.to_ghl = std::move(to_ghl);
  d.from_ghl = "unchanged";
  d.compile = [name, fn](const YAML::Node& args, const YAML::Node&, const TransformEnv&,
                         Context& ctx) -> std::optional<TransformSteps> {
    if (args.IsDefined() && !args.IsNull()) {
      ctx.Error(args, "'" + name + "' takes no options; write it as a plain name");
    }
    return OneWay(Step(name, [fn](const Value& v, const Fields&) { return EachText(v, fn); }));
  };
  return d;
}

// trim: blank text becomes null, and blank list items are dropped.
TransformDef TrimDef() {
  TransformDef d = TextDef("trim", "", {});
  d.to_ghl =
      "removes white space (Unicode, incl. no-break space) at both ends; blank text becomes "
      "empty, blank list items are dropped";
  d.compile = [](const YAML::Node& args, const YAML::Node&, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    if (args.IsDefined() && !args.IsNull()) {
      ctx.Error(args, "'trim' takes no options; write it as a plain name");
    }
    return OneWay(Step("trim", [](const Value& v, const Fields&) -> Result<Value> {
      if (const auto* s = std::get_if<std::string>(&v)) return NullIfEmpty(*s);
      if (const auto* l = std::get_if<List>(&v)) {
        List out;
        for (const auto& item : *l) {
          std::string t = TrimSpace(item);
          if (!t.empty()) out.push_back(std::move(t));
        }
        return Value(std::move(out));
      }
      return v;
    }));
  };
  return d;
}

}  // namespace

void AddTextTransforms(std::vector<TransformDef>& defs) {
  defs.push_back(TrimDef());
  defs.push_back(TextDef("lower", "lower case (Unicode)",
                         [](const std::string& s) { return CaseMap(s, false); }));
  defs.push_back(TextDef("upper", "upper case (Unicode)",
                         [](const std::string& s) { return CaseMap(s, true); }));
  defs.push_back(SplitOrJoin(true));
  defs.push_back(SplitOrJoin(false));
  defs.push_back(TemplateDef());
  defs.push_back(ConcatDef());
}

}  // namespace ghl::mapping::detail
