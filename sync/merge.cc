#include "sync/merge.h"

namespace ghl::sync {
namespace {

using mapping::ConflictPolicy;
using mapping::Direction;

const Value& Get(const Fields* fields, const std::string& name) {
  static const Value kNull;
  if (fields == nullptr) return kNull;
  auto it = fields->find(name);
  return it == fields->end() ? kNull : it->second;
}

// Whether the field may be written on the side opposite to `from`.
bool MayFlow(Direction direction, Side from) {
  return direction == Direction::kBoth ||
         direction == (from == Side::kGhl ? Direction::kFromGhl : Direction::kToGhl);
}

// Who wins a conflict on a field that flows both ways. Newest: the external side only when
// both times are known and the external one is strictly later. Owner: a field without an
// owner falls back to GHL, the system of record.
Side Winner(const MergeInput& in, const FieldRule& rule) {
  switch (in.policy) {
    case ConflictPolicy::kGhlWins:
      return Side::kGhl;
    case ConflictPolicy::kExternalWins:
      return Side::kExternal;
    case ConflictPolicy::kNewest:
      return in.ghl_updated_ms > 0 && in.external_updated_ms > in.ghl_updated_ms ? Side::kExternal
                                                                                 : Side::kGhl;
    case ConflictPolicy::kOwner:
      return rule.owner.value_or(Side::kGhl);
  }
  return Side::kGhl;
}

// One field's decision, written into `out`.
class FieldMerge {
 public:
  FieldMerge(const MergeInput& in, const FieldRule& rule, MergeResult& out)
      : in_(in),
        rule_(rule),
        out_(out),
        base_(Get(in.base, rule.name)),
        ghl_(Get(in.ghl, rule.name)),
        ext_(Get(in.external, rule.name)) {}

  void Run() {
    out_.new_base[rule_.name] = base_;  // left alone unless decided below
    if (in_.ghl == nullptr || in_.external == nullptr) return Create();
    const bool ghl_changed = !mapping::Equal(ghl_, base_);
    const bool ext_changed = !mapping::Equal(ext_, base_);
    if (!ghl_changed && !ext_changed) return;
    if (!ext_changed) return Flow(Side::kGhl);
    if (!ghl_changed) return Flow(Side::kExternal);
    if (mapping::Equal(ghl_, ext_)) {
      out_.new_base[rule_.name] = ghl_;
      return;
    }
    if (rule_.direction == Direction::kToGhl) return Flow(Side::kExternal);
    if (rule_.direction == Direction::kFromGhl) return Flow(Side::kGhl);
    const Side winner = Winner(in_, rule_);
    out_.conflicts.push_back(
        {rule_.name, base_, ghl_, ext_, mapping::ToString(in_.policy), winner});
    Flow(winner);
  }

 private:
  const Value& ValueOf(Side side) const { return side == Side::kGhl ? ghl_ : ext_; }

  // `from`'s value goes to the other side and becomes the base, if the direction allows.
  void Flow(Side from) {
    if (!MayFlow(rule_.direction, from)) return;
    const Value& value = ValueOf(from);
    (from == Side::kGhl ? out_.to_external : out_.to_ghl)[rule_.name] = value;
    out_.new_base[rule_.name] = value;
  }

  // The record is missing on one side (or both): the present side's non-null values flow.
  // The base becomes what both sides will hold once the record is created: the value where
  // it flows, null where it does not (the new record will not have it).
  void Create() {
    if (in_.ghl == nullptr && in_.external == nullptr) return;
    const Side present = in_.ghl != nullptr ? Side::kGhl : Side::kExternal;
    out_.new_base[rule_.name] = Value{};
    if (!mapping::IsNull(ValueOf(present))) Flow(present);
  }

  const MergeInput& in_;
  const FieldRule& rule_;
  MergeResult& out_;
  const Value& base_;
  const Value& ghl_;
  const Value& ext_;
};

}  // namespace

MergeResult Merge(const MergeInput& in) {
  MergeResult out;
  for (const FieldRule& rule : in.fields) FieldMerge(in, rule, out).Run();
  return out;
}

std::vector<FieldRule> RulesOf(const mapping::SyncSpec& spec) {
  std::vector<FieldRule> rules;
  rules.reserve(spec.fields.size());
  for (const mapping::FieldSpec& field : spec.fields) {
    rules.push_back({field.ghl, field.direction, field.owner});
  }
  // A reference (an opportunity's contactId) merges like a field; its values are GHL ids.
  for (const mapping::ReferenceSpec& r : spec.references) {
    rules.push_back({r.ghl, spec.direction, std::nullopt});
  }
  return rules;
}

}  // namespace ghl::sync
