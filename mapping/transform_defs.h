// Internal to mapping/: the table of transform definitions (one entry per transform name)
// that drives compiling `transforms:` items and the transforms reference. Each file adds
// its own entries: transforms_text.cc, transforms_time.cc, transforms_phone.cc.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/schema.h"
#include "mapping/transforms.h"

namespace ghl::mapping::detail {

struct TransformDef {
  std::string name;
  std::string example;   // as written in a mapping file, e.g. `{split: ";"}`
  std::string to_ghl;    // what it does on the way to GHL (Markdown)
  std::string from_ghl;  // what it does on the way back
  // Option rows for the reference (empty when the transform takes none).
  std::function<void(std::vector<config::DocRow>&)> document;
  // Builds the steps. `args` is the value of the one-key mapping, or null for a bare name;
  // `item` is the whole list item (for error positions).
  std::function<std::optional<TransformSteps>(const YAML::Node& args, const YAML::Node& item,
                                              const TransformEnv& env, config::Context& ctx)>
      compile;
};

void AddTextTransforms(std::vector<TransformDef>& defs);   // transforms_text.cc
void AddValueTransforms(std::vector<TransformDef>& defs);  // transforms_values.cc
void AddTimeTransforms(std::vector<TransformDef>& defs);   // transforms_time.cc
void AddPhoneTransform(std::vector<TransformDef>& defs);   // transforms_phone.cc

// A step named `name` running `fn`.
inline TransformPtr Step(std::string name, Transform::Fn fn) {
  return std::make_shared<const Transform>(std::move(name), std::move(fn));
}
// Steps whose way back is the identity.
inline TransformSteps OneWay(TransformPtr to_ghl) { return {std::move(to_ghl), nullptr}; }

// The reference example of transform `name`, for messages.
std::string ExampleOf(const std::string& name);
// A value quoted for a message: 'text', 12.5, true, [a, b].
std::string Show(const Value& v);
// The value as text for text transforms: strings as they are, numbers in their shortest
// form, booleans as true/false. Lists and null have none.
std::optional<std::string> TextOf(const Value& v);
// Applies `fn` to a string, or to each item of a list; passes null, numbers and booleans
// through unchanged.
Result<Value> EachText(const Value& in,
                       const std::function<Result<std::string>(const std::string&)>& fn);
// The whole of `text` as a finite number ("12", "-1.5", "1e3"); nullopt otherwise.
std::optional<double> ParseDouble(const std::string& text);
// Unicode lower or upper case (ICU); fails on text that is not UTF-8.
Result<std::string> CaseMap(const std::string& s, bool upper);
// Unicode White_Space (no-break space included) removed from both ends.
std::string TrimSpace(const std::string& s);

// Options given either as a mapping (parsed by `table`) or, for convenience, as a single
// scalar that sets the main option (`shorthand`, may be empty: no scalar form). A bare
// name (args null) gives the defaults, or an error when `needs_options`.
template <typename O>
O ParseOptions(const std::string& name, const YAML::Node& args, const YAML::Node& item,
               const config::Table<O>& table,
               const std::function<void(O&, const YAML::Node&, config::Context&)>& shorthand,
               bool needs_options, config::Context& ctx) {
  O options{};
  if (!args.IsDefined() || args.IsNull()) {
    if (needs_options) {
      ctx.Error(item, "'" + name + "' needs options, e.g. " + ExampleOf(name));
    }
    return options;
  }
  auto scope = ctx.Enter("." + name);
  if (args.IsScalar() && shorthand) {
    shorthand(options, args, ctx);
  } else {
    table.Parse(options, args, ctx);
  }
  return options;
}

}  // namespace ghl::mapping::detail
