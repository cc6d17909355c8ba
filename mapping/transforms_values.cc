// Value transforms: map (enums), number, boolean, default.
#include <map>
#include <set>

#include "mapping/transform_defs.h"

namespace ghl::mapping::detail {
namespace {

using config::Context;
using config::DocRow;
using config::Field;
using config::Table;

std::string Lower(const std::string& s) {
  auto r = CaseMap(s, false);
  return r.ok() ? r.value() : s;
}

// ---- map ----

struct MapOptions {
  std::vector<std::pair<std::string, std::string>> values;  // external -> GHL, file order
  std::optional<std::string> default_value;                 // GHL value for unlisted ones
  std::optional<std::string> reverse_default;               // external value for unlisted ones
  bool ignore_case = false;
};

Field<MapOptions> ValuesField() {
  return {"values",
          "mapping of text to text",
          "External value -> GHL value. On the way back each GHL value maps to the first "
          "external value listed for it.",
          true,
          {},
          [](const MapOptions&) { return std::string(); },
          [](MapOptions& o, const YAML::Node& n, Context& c) {
            if (!n.IsMap() || n.size() == 0) {
              c.Error(n, "expected a mapping of external values to GHL values, e.g. {G: gold}");
              return;
            }
            std::set<std::string> seen;
            for (const auto& kv : n) {
              auto scope = c.Enter("." + kv.first.Scalar());
              auto from = c.Scalar(kv.first), to = c.Scalar(kv.second);
              if (!from || !to) continue;
              if (!seen.insert(*from).second) {
                c.Error(kv.first, "'" + *from + "' is listed twice");
                continue;
              }
              o.values.emplace_back(*from, *to);
            }
          }};
}

Field<MapOptions> OptionalText(std::string key, std::optional<std::string> MapOptions::*m,
                               std::string help) {
  return {std::move(key),
          "string",
          std::move(help),
          false,
          {},
          [](const MapOptions&) { return std::string("none: an error"); },
          [m](MapOptions& o, const YAML::Node& n, Context& c) {
            if (auto v = c.Scalar(n)) o.*m = *v;
          }};
}

const Table<MapOptions>& MapTable() {
  static const Table<MapOptions> table({
      ValuesField(),
      OptionalText("default", &MapOptions::default_value,
                   "GHL value for an external value not listed; without it such a value fails "
                   "the record."),
      OptionalText("reverse_default", &MapOptions::reverse_default,
                   "External value for a GHL value not listed; without it such a value fails "
                   "the record."),
      config::fields::Bool("ignore_case", &MapOptions::ignore_case,
                           "Match values regardless of case (Unicode)."),
  });
  return table;
}

// One direction of a map: lookup table plus fallback.
struct Lookup {
  std::map<std::string, std::string> table;
  std::optional<std::string> fallback;
  bool ignore_case = false;
  std::string side;  // "external" or "GHL": what the input values are, for messages

  Result<std::string> operator()(const std::string& in) const {
    auto it = table.find(ignore_case ? Lower(in) : in);
    if (it != table.end()) return it->second;
    if (fallback) return *fallback;
    std::string known;
    for (const auto& [k, v] : table) known += (known.empty() ? "" : ", ") + k;
    return Error{"'" + in + "' is not a listed " + side + " value (" + known +
                 "); list it or set a default"};
  }
};

TransformDef MapDef() {
  TransformDef d;
  d.name = "map";
  d.example = "{map: {values: {G: gold, S: silver}, default: bronze}}";
  d.to_ghl = "replaces listed values (text, or each list item)";
  d.from_ghl = "the inverse map";
  d.document = [](std::vector<DocRow>& rows) { MapTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<MapOptions>("map", args, item, MapTable(), {}, true, ctx);
    Lookup to{{}, o.default_value, o.ignore_case, "external"};
    Lookup back{{}, o.reverse_default, o.ignore_case, "GHL"};
    for (const auto& [ext, ghl] : o.values) {
      to.table.emplace(o.ignore_case ? Lower(ext) : ext, ghl);
      back.table.emplace(o.ignore_case ? Lower(ghl) : ghl, ext);  // first listed wins
    }
    auto apply = [](Lookup l) {
      return [l = std::move(l)](const Value& v, const Fields&) -> Result<Value> {
        if (IsNull(v) || std::holds_alternative<List>(v)) return EachText(v, l);
        return EachText(*TextOf(v), l);
      };
    };
    return TransformSteps{Step("map", apply(std::move(to))),
                          Step("inverse of map", apply(std::move(back)))};
  };
  return d;
}

// ---- number ----

struct NumberOptions {
  std::string decimal = ".";
  std::string thousands;
};

const Table<NumberOptions>& NumberTable() {
  static const Table<NumberOptions> table({
      config::fields::String("decimal", &NumberOptions::decimal, "Decimal separator."),
      config::fields::String("thousands", &NumberOptions::thousands,
                             "Grouping separator, removed when reading (not written back).", true),
  });
  return table;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

Result<Value> ToNumber(const Value& v, const NumberOptions& o) {
  if (IsNull(v) || std::holds_alternative<double>(v)) return v;
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return Error{Show(v) + " is not a number"};
  std::string text = ReplaceAll(ReplaceAll(TrimSpace(*s), o.thousands, ""), o.decimal, ".");
  if (text.empty()) return Value();
  if (text[0] == '+') text.erase(0, 1);
  auto d = ParseDouble(text);
  if (!d) return Error{"'" + *s + "' is not a number (decimal separator '" + o.decimal + "')"};
  return Value(*d);
}

TransformDef NumberDef() {
  TransformDef d;
  d.name = "number";
  d.example = "{number: {decimal: \",\", thousands: \".\"}}";
  d.to_ghl = "text to a number (blank to empty)";
  d.from_ghl = "the number (as text with `decimal` when that is not `.`)";
  d.document = [](std::vector<DocRow>& rows) { NumberTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<NumberOptions>("number", args, item, NumberTable(), {}, false, ctx);
    auto to = Step("number", [o](const Value& v, const Fields&) { return ToNumber(v, o); });
    if (o.decimal == ".") return OneWay(to);
    auto back = [o](const Value& v, const Fields&) -> Result<Value> {
      if (!std::holds_alternative<double>(v)) return v;
      return Value(ReplaceAll(*TextOf(v), ".", o.decimal));
    };
    return TransformSteps{to, Step("inverse of number", back)};
  };
  return d;
}

// ---- boolean ----

struct BooleanOptions {
  std::string true_text;
  std::string false_text;
};

const Table<BooleanOptions>& BooleanTable() {
  static const Table<BooleanOptions> table({
      config::fields::String("true", &BooleanOptions::true_text,
                             "External text for true: also accepted when reading, and written "
                             "back as text (otherwise a boolean goes back as a boolean)."),
      config::fields::String("false", &BooleanOptions::false_text, "External text for false."),
  });
  return table;
}

Result<Value> ToBoolean(const Value& v, const BooleanOptions& o) {
  if (IsNull(v) || std::holds_alternative<bool>(v)) return v;
  if (const auto* d = std::get_if<double>(&v)) {
    if (*d == 0 || *d == 1) return Value(*d == 1);
    return Error{Show(v) + " is not a boolean (0 or 1)"};
  }
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) return Error{Show(v) + " is not a boolean"};
  const std::string text = Lower(TrimSpace(*s));
  if (text.empty()) return Value();
  if (!o.true_text.empty() && text == Lower(o.true_text)) return Value(true);
  if (!o.false_text.empty() && text == Lower(o.false_text)) return Value(false);
  static const std::set<std::string> yes = {"true", "t", "yes", "y", "1", "on"};
  static const std::set<std::string> no = {"false", "f", "no", "n", "0", "off"};
  if (yes.count(text) > 0) return Value(true);
  if (no.count(text) > 0) return Value(false);
  return Error{"'" + *s + "' is not a boolean (true/false, yes/no, 1/0, on/off" +
               (o.true_text.empty() ? "" : ", " + o.true_text + "/" + o.false_text) + ")"};
}

TransformDef BooleanDef() {
  TransformDef d;
  d.name = "boolean";
  d.example = "{boolean: {true: \"Y\", false: \"N\"}}";
  d.to_ghl = "true/false, yes/no, y/n, 1/0, on/off (any case) to a boolean";
  d.from_ghl = "the boolean, or the `true`/`false` text when given";
  d.document = [](std::vector<DocRow>& rows) { BooleanTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<BooleanOptions>("boolean", args, item, BooleanTable(), {}, false, ctx);
    if (o.true_text.empty() != o.false_text.empty()) {
      ctx.Error(args, "give both 'true' and 'false', or neither");
    }
    auto to = Step("boolean", [o](const Value& v, const Fields&) { return ToBoolean(v, o); });
    if (o.true_text.empty()) return OneWay(to);
    auto back = [o](const Value& v, const Fields&) -> Result<Value> {
      if (const auto* b = std::get_if<bool>(&v)) return Value(*b ? o.true_text : o.false_text);
      return v;
    };
    return TransformSteps{to, Step("inverse of boolean", back)};
  };
  return d;
}

// ---- default ----

// A YAML value as a Value: quoted scalars are text; plain true/false are booleans, plain
// numbers are numbers; a list is a list of text.
std::optional<Value> TypedScalar(const YAML::Node& n, Context& ctx) {
  if (n.IsSequence()) {
    List out;
    for (size_t i = 0; i < n.size(); ++i) {
      auto scope = ctx.Enter("[" + std::to_string(i) + "]");
      if (auto s = ctx.Scalar(n[i])) out.push_back(*s);
    }
    return out;
  }
  auto s = ctx.Scalar(n);
  if (!s) return std::nullopt;
  if (n.Tag() == "!") return Value(*s);  // quoted
  if (*s == "true" || *s == "false") return Value(*s == "true");
  if (auto d = ParseDouble(*s)) return Value(*d);
  return Value(*s);
}

TransformDef DefaultDef() {
  TransformDef d;
  d.name = "default";
  d.example = "{default: \"unknown\"}";
  d.to_ghl =
      "an empty value becomes this one (`{default: 0}` is a number, `{default: \"0\"}` text, "
      "`{default: [a, b]}` a list)";
  d.from_ghl = "unchanged";
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv&,
                 Context& ctx) -> std::optional<TransformSteps> {
    if (!args.IsDefined() || args.IsNull() || args.IsMap()) {
      ctx.Error(args.IsDefined() ? args : item, "expected {default: value}");
      return std::nullopt;
    }
    auto scope = ctx.Enter(".default");
    auto value = TypedScalar(args, ctx);
    if (!value) return std::nullopt;
    return OneWay(Step("default", [value = *value](const Value& v, const Fields&) -> Result<Value> {
      return IsNull(v) ? value : v;
    }));
  };
  return d;
}

}  // namespace

void AddValueTransforms(std::vector<TransformDef>& defs) {
  defs.push_back(MapDef());
  defs.push_back(NumberDef());
  defs.push_back(BooleanDef());
  defs.push_back(DefaultDef());
}

}  // namespace ghl::mapping::detail
