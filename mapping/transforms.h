// Transforms: the steps of a field's chain between an external column and its canonical
// (GHL) value. Each configured transform ("trim", {phone: {region: DE}}, ...) compiles into
// two steps: one applied external -> GHL and its inverse applied GHL -> external. A step
// is a pure function of the value (and, for templates, of the whole row); it returns the
// new value or the reason it cannot convert this one, which fails the record.
//
// Conventions every transform follows:
//   - null passes through unchanged (only `default` turns null into a value);
//   - text transforms (trim, lower, upper, map) apply to each item of a list;
//   - options are written as seen from the external side: `map.values` maps external
//     values to GHL values, `date.format` is the external column's format.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/schema.h"
#include "core/result.h"
#include "mapping/value.h"

namespace ghl::mapping {

// One step of a chain, in one direction. Immutable and thread-safe once built.
class Transform {
 public:
  using Fn = std::function<Result<Value>(const Value& in, const Fields& row)>;
  Transform(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}

  // The value after this step, or why this value cannot be converted. `row` is the record
  // the value belongs to: external columns on the way to GHL, canonical fields on the way
  // back (templates read other columns from it).
  Result<Value> Apply(const Value& in, const Fields& row) const { return fn_(in, row); }
  // The transform as written, for messages: "phone", "date", "inverse of split".
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Fn fn_;
};

using TransformPtr = std::shared_ptr<const Transform>;

// One configured transform, both ways.
struct TransformSteps {
  TransformPtr to_ghl;    // never null
  TransformPtr from_ghl;  // null: the identity on the way back (trim, lower, phone, default)
  // False when there is no way back at all (template, concat): such a field can only flow
  // to GHL.
  bool invertible = true;
  // True when the step builds its value from other columns of the row (template, concat):
  // it must come first, and the field then has no `external` column of its own.
  bool reads_row = false;
};

// What a transform may take from the sync it belongs to.
struct TransformEnv {
  std::string default_region = "US";  // for `phone` without its own region
};

// Compiles one item of a `transforms:` list: a name ("trim") or a one-key mapping whose
// value is the transform's options ({split: ";"}, {phone: {region: DE}}). Every problem
// is reported into `ctx` at its line and column; returns nullopt when there was any.
std::optional<TransformSteps> CompileTransform(const YAML::Node& item, const TransformEnv& env,
                                               config::Context& ctx);

// Applies `chain` in order to `value`. On failure the error names the step:
// "phone: '12' is not a phone number (region DE)".
Result<Value> ApplyChain(const std::vector<TransformPtr>& chain, Value value, const Fields& row);

// True when libphonenumber knows `region` (an ISO 3166-1 alpha-2 code such as "US", "DE").
bool IsKnownPhoneRegion(const std::string& region);

// The transforms reference (syntax, both directions, options) as Markdown.
std::string TransformsReferenceMarkdown();

}  // namespace ghl::mapping
