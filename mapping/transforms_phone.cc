// The phone transform: E.164 through libphonenumber (Google's phone number library).
#include <phonenumbers/phonenumberutil.h>

#include <set>

#include "mapping/transform_defs.h"

namespace ghl::mapping {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& Util() { return *PhoneNumberUtil::GetInstance(); }

}  // namespace

bool IsKnownPhoneRegion(const std::string& region) {
  static const std::set<std::string> regions = [] {
    std::set<std::string> out;
    Util().GetSupportedRegions(&out);
    return out;
  }();
  return regions.count(region) > 0;
}

namespace detail {
namespace {

using config::Context;
using config::DocRow;
using config::Table;

struct PhoneOptions {
  std::string region;  // "" = the sync's default_region
  std::string check = "valid";
};

const Table<PhoneOptions>& PhoneTable() {
  static const Table<PhoneOptions> table({
      config::fields::String("region", &PhoneOptions::region,
                             "Region of numbers written without `+country` (ISO 3166 code such "
                             "as `US`, `DE`); defaults to the sync's `default_region`.",
                             true),
      config::fields::Enum("check", &PhoneOptions::check, {"valid", "possible"},
                           "`valid`: the number must be in its country's numbering plan "
                           "(libphonenumber's metadata); `possible`: only of a possible "
                           "length, for numbering plans newer than the metadata."),
  });
  return table;
}

Result<Value> ToE164(const Value& v, const std::string& region, bool strict) {
  // strict: valid in the numbering plan; otherwise of a possible length.
  if (IsNull(v)) return v;
  auto text = TextOf(v);
  if (!text || std::holds_alternative<bool>(v)) return Error{Show(v) + " is not a phone number"};
  const std::string input = TrimSpace(*text);
  if (input.empty()) return Value();
  PhoneNumber number;
  if (Util().Parse(input, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return Error{"'" + input + "' is not a phone number (region " + region + ")"};
  }
  if (!(strict ? Util().IsValidNumber(number) : Util().IsPossibleNumber(number))) {
    return Error{"'" + input + "' is not a " + (strict ? "valid" : "possible") +
                 " phone number (region " + region + ")" +
                 (strict ? "; `check: possible` accepts any number of a possible length" : "")};
  }
  std::string out;
  Util().Format(number, PhoneNumberUtil::E164, &out);
  return Value(std::move(out));
}

TransformDef PhoneDef() {
  TransformDef d;
  d.name = "phone";
  d.example = "{phone: {region: DE}}";
  d.to_ghl = "a phone number to E.164 (`+4930123456`); a number that is not valid fails the record";
  d.from_ghl = "unchanged (E.164)";
  d.document = [](std::vector<DocRow>& rows) { PhoneTable().Document(rows, ""); };
  d.compile = [](const YAML::Node& args, const YAML::Node& item, const TransformEnv& env,
                 Context& ctx) -> std::optional<TransformSteps> {
    auto o = ParseOptions<PhoneOptions>(
        "phone", args, item, PhoneTable(),
        [](PhoneOptions& o, const YAML::Node& n, Context& c) {
          if (auto v = config::ParseString(n, c, false)) o.region = *v;
        },
        false, ctx);
    if (!o.region.empty() && !IsKnownPhoneRegion(o.region)) {
      const YAML::Node at = args.IsMap() && args["region"] ? args["region"] : args;
      auto scope = ctx.Enter(args.IsMap() ? ".phone.region" : ".phone");
      ctx.Error(at, "unknown region '" + o.region + "'; use an ISO 3166 code such as US or DE");
      return std::nullopt;
    }
    const std::string region = o.region.empty() ? env.default_region : o.region;
    const bool strict = o.check == "valid";
    return OneWay(Step("phone", [region, strict](const Value& v, const Fields&) {
      return ToE164(v, region, strict);
    }));
  };
  return d;
}

}  // namespace

void AddPhoneTransform(std::vector<TransformDef>& defs) { defs.push_back(PhoneDef()); }

}  // namespace detail
}  // namespace ghl::mapping
