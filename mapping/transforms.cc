// The transform table, compiling `transforms:` items, applying chains, and the reference.
#include "mapping/transforms.h"

#include <array>
#include <charconv>
#include <cmath>

#include "mapping/transform_defs.h"

namespace ghl::mapping {
namespace detail {

namespace {

const std::vector<TransformDef>& Defs() {
  static const std::vector<TransformDef> defs = [] {
    std::vector<TransformDef> d;
    AddTextTransforms(d);
    AddValueTransforms(d);
    AddTimeTransforms(d);
    AddPhoneTransform(d);
    return d;
  }();
  return defs;
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const auto& d : Defs()) names.push_back(d.name);
  return names;
}

std::string FormatNumber(double d) {
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  if (ec != std::errc()) return std::to_string(d);
  return std::string(buf.data(), end);
}

}  // namespace

std::string ExampleOf(const std::string& name) {
  for (const auto& d : Defs()) {
    if (d.name == name) return d.example;
  }
  return name;
}

std::optional<std::string> TextOf(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* d = std::get_if<double>(&v)) return FormatNumber(*d);
  if (const auto* b = std::get_if<bool>(&v)) return std::string(*b ? "true" : "false");
  return std::nullopt;
}

std::optional<double> ParseDouble(const std::string& text) {
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

std::string Show(const Value& v) {
  if (IsNull(v)) return "(empty)";
  if (std::holds_alternative<std::string>(v)) return "'" + std::get<std::string>(v) + "'";
  if (const auto* l = std::get_if<List>(&v)) {
    std::string out = "[";
    for (const auto& item : *l) out += (out.size() > 1 ? ", " : "") + item;
    return out + "]";
  }
  return *TextOf(v);
}

Result<Value> EachText(const Value& in,
                       const std::function<Result<std::string>(const std::string&)>& fn) {
  if (const auto* s = std::get_if<std::string>(&in)) {
    auto r = fn(*s);
    if (!r.ok()) return r.error();
    return Value(std::move(r.value()));
  }
  if (const auto* l = std::get_if<List>(&in)) {
    List out;
    out.reserve(l->size());
    for (const auto& item : *l) {
      auto r = fn(item);
      if (!r.ok()) return r.error();
      out.push_back(std::move(r.value()));
    }
    return Value(std::move(out));
  }
  return in;
}

}  // namespace detail

std::optional<TransformSteps> CompileTransform(const YAML::Node& item, const TransformEnv& env,
                                               config::Context& ctx) {
  std::string name;
  YAML::Node args;
  if (item.IsScalar()) {
    name = item.Scalar();
  } else if (item.IsMap() && item.size() == 1) {
    name = item.begin()->first.Scalar();
    args = item.begin()->second;
  } else {
    ctx.Error(item,
              "expected a transform: a name such as trim, or one name with options such as "
              "{split: \";\"}");
    return std::nullopt;
  }
  for (const auto& def : detail::Defs()) {
    if (def.name == name) return def.compile(args, item, env, ctx);
  }
  std::string msg = "unknown transform '" + name + "'";
  if (auto guess = config::DidYouMean(name, detail::Names()))
    msg += "; did you mean '" + *guess + "'?";
  msg += " (known:";
  for (const auto& n : detail::Names()) msg += " " + n;
  ctx.Error(item, msg + ")");
  return std::nullopt;
}

Result<Value> ApplyChain(const std::vector<TransformPtr>& chain, Value value, const Fields& row) {
  for (const auto& step : chain) {
    auto next = step->Apply(value, row);
    if (!next.ok()) return Error{step->name() + ": " + next.error().message};
    value = std::move(next.value());
  }
  return value;
}

std::string TransformsReferenceMarkdown() {
  std::string out =
      "| transform | example | to GHL | back to external |\n"
      "|---|---|---|---|\n";
  std::string options;
  for (const auto& d : detail::Defs()) {
    out += "| `" + d.name + "` | `" + d.example + "` | " + d.to_ghl + " | " + d.from_ghl + " |\n";
    std::vector<config::DocRow> rows;
    if (d.document) d.document(rows);
    if (rows.empty()) continue;
    options += "\nOptions of `" + d.name + "`:\n\n" + config::MarkdownTable(rows, "option");
  }
  return out + options;
}

}  // namespace ghl::mapping
