#include "mapping/mapping.h"

#include <set>

#include "mapping/fields_catalog.h"
#include "mapping/spec.h"
#include "mapping/transform_defs.h"
#include "mapping/transforms.h"

namespace ghl::mapping {

const char* ToString(GhlObject o) {
  switch (o) {
    case GhlObject::kContacts:
      return "contacts";
    case GhlObject::kOpportunities:
      return "opportunities";
    case GhlObject::kAppointments:
      return "appointments";
  }
  return "?";
}

const char* ToString(Direction d) {
  switch (d) {
    case Direction::kBoth:
      return "both";
    case Direction::kToGhl:
      return "to_ghl";
    case Direction::kFromGhl:
      return "from_ghl";
  }
  return "?";
}

const char* ToString(Side s) { return s == Side::kGhl ? "ghl" : "external"; }

const char* ToString(ConflictPolicy p) {
  switch (p) {
    case ConflictPolicy::kGhlWins:
      return "ghl_wins";
    case ConflictPolicy::kExternalWins:
      return "external_wins";
    case ConflictPolicy::kNewest:
      return "newest";
    case ConflictPolicy::kOwner:
      return "owner";
  }
  return "?";
}

const char* ToString(DeletePolicy p) {
  switch (p) {
    case DeletePolicy::kPropagate:
      return "propagate";
    case DeletePolicy::kIgnore:
      return "ignore";
    case DeletePolicy::kSoft:
      return "soft";
  }
  return "?";
}

namespace {

bool IsEmpty(const Value& v) {
  if (IsNull(v)) return true;
  if (const auto* s = std::get_if<std::string>(&v)) return s->empty();
  if (const auto* l = std::get_if<List>(&v)) return l->empty();
  return false;
}

// "YYYY-MM-DD" (digits where the pattern has 9), by shape.
bool HasShape(const std::string& s, std::string_view pattern) {
  if (s.size() != pattern.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (pattern[i] == '9' ? !digit : s[i] != pattern[i]) return false;
  }
  return true;
}

// The value in the shape GHL expects for `field`, or why it is not.
Result<Value> CheckKind(const StandardField& field, Value v) {
  if (IsNull(v)) return v;
  const auto got = [&v] { return ", got " + detail::Show(v); };
  switch (field.kind) {
    case FieldKind::kText:
    case FieldKind::kId:
      if (std::holds_alternative<List>(v)) {
        return Error{"expected text" + got() + "; add {join: \", \"}"};
      }
      return Value(*detail::TextOf(v));
    case FieldKind::kNumber:
      if (std::holds_alternative<double>(v)) return v;
      return Error{"expected a number" + got() + "; add the number transform"};
    case FieldKind::kBoolean:
      if (std::holds_alternative<bool>(v)) return v;
      return Error{"expected true or false" + got() + "; add the boolean transform"};
    case FieldKind::kList:
      if (std::holds_alternative<List>(v)) return v;
      return Error{"expected a list" + got() + "; add {split: \",\"}"};
    case FieldKind::kDate:
      if (const auto* s = std::get_if<std::string>(&v); s && HasShape(*s, "9999-99-99")) return v;
      return Error{"expected a date YYYY-MM-DD" + got() + "; add {date: \"<its format>\"}"};
    case FieldKind::kDateTime:
      if (const auto* s = std::get_if<std::string>(&v); s && HasShape(*s, "9999-99-99T99:99:99Z")) {
        return v;
      }
      return Error{"expected a UTC time YYYY-MM-DDTHH:MM:SSZ" + got() +
                   "; add {datetime: {format: ..., timezone: ...}}"};
  }
  return v;
}

bool FlowsToGhl(Direction d) { return d != Direction::kFromGhl; }
bool FlowsFromGhl(Direction d) { return d != Direction::kToGhl; }

}  // namespace

Mapping::Mapping(SyncSpec spec) : spec_(std::move(spec)) {
  standard_.reserve(spec_.fields.size());
  for (const auto& f : spec_.fields) standard_.push_back(FindStandardField(spec_.object, f.ghl));
}

std::shared_ptr<const Mapping> Mapping::Compile(const config::MappingFile& file,
                                                config::Diagnostics& errors) {
  const size_t before = errors.size();
  SyncSpec spec;
  spec.name = file.name;
  spec.file = file.path.string();
  config::Context ctx(spec.file, file.path.parent_path(), config::ProcessEnv(), &errors);
  try {
    detail::SyncTable().Parse(spec, file.root, ctx);
  } catch (const YAML::Exception& e) {  // yaml-cpp's adapter: none expected on a parsed tree
    errors.push_back({spec.file, e.mark.line + 1, e.mark.column + 1, "", "YAML: " + e.msg});
  }
  if (errors.size() != before) return nullptr;
  return std::shared_ptr<const Mapping>(new Mapping(std::move(spec)));
}

Mapped<Fields> Mapping::ToCanonical(const Fields& external_row) const {
  Mapped<Fields> out;
  Fields canonical;
  for (size_t i = 0; i < spec_.fields.size(); ++i) {
    const FieldSpec& f = spec_.fields[i];
    if (!FlowsToGhl(f.direction)) continue;
    Value in;
    if (auto it = external_row.find(f.external); !f.external.empty() && it != external_row.end()) {
      in = it->second;
    }
    auto v = ApplyChain(f.to_ghl, std::move(in), external_row);
    if (v.ok() && standard_[i] != nullptr) v = CheckKind(*standard_[i], std::move(v.value()));
    if (!v.ok()) {
      out.errors.push_back({f.ghl, v.error().message});
    } else if (f.required && IsEmpty(*v)) {
      out.errors.push_back(
          {f.ghl, "required, but empty" +
                      (f.external.empty() ? std::string() : " (column " + f.external + ")")});
    } else {
      canonical[f.ghl] = std::move(v.value());
    }
  }
  for (const auto& r : spec_.references) {
    auto it = external_row.find(r.external);
    canonical[r.ghl] = it == external_row.end() ? Value() : it->second;
  }
  if (out.errors.empty()) out.value = std::move(canonical);
  return out;
}

Mapped<Fields> Mapping::ToExternal(const Fields& canonical) const {
  Mapped<Fields> out;
  Fields row;
  for (const FieldSpec& f : spec_.fields) {
    if (!FlowsFromGhl(f.direction)) continue;
    auto it = canonical.find(f.ghl);
    if (it == canonical.end()) continue;
    auto v = ApplyChain(f.from_ghl, it->second, canonical);
    if (!v.ok()) {
      out.errors.push_back({f.ghl, v.error().message});
    } else if (f.required && IsEmpty(*v)) {
      out.errors.push_back({f.ghl, "required, but empty in GHL"});
    } else {
      row[f.external] = std::move(v.value());
    }
  }
  for (const auto& r : spec_.references) {
    if (auto it = canonical.find(r.ghl); it != canonical.end()) row[r.external] = it->second;
  }
  if (out.errors.empty()) out.value = std::move(row);
  return out;
}

std::vector<std::string> Mapping::CanonicalFields() const {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& f : spec_.fields) {
    if (seen.insert(f.ghl).second) names.push_back(f.ghl);
  }
  for (const auto& r : spec_.references) {
    if (seen.insert(r.ghl).second) names.push_back(r.ghl);
  }
  return names;
}

}  // namespace ghl::mapping
