// The decision core: see sync/decide.h. One Decider per record; each step is a method.
#include "sync/decide.h"

#include <fmt/format.h>

#include <algorithm>

namespace ghl::sync {
namespace {

using ghl_client::Lane;
using mapping::DeletePolicy;
using mapping::Direction;

bool FlowsToGhl(Direction d) { return d != Direction::kFromGhl; }
bool FlowsFromGhl(Direction d) { return d != Direction::kToGhl; }

Job MakeJob(Target target, std::string op, std::string payload, Lane lane) {
  Job job;
  job.target = target;
  job.op = std::move(op);
  job.payload = std::move(payload);
  job.lane = static_cast<int>(lane);
  return job;
}

// `side`'s values of the fields in `written` (null where it has none).
Fields ValuesOf(const std::optional<Fields>& side, const Fields& written) {
  Fields out;
  for (const auto& [field, value] : written) {
    auto it = side ? side->find(field) : Fields::const_iterator{};
    out[field] = side && it != side->end() ? it->second : Value{};
  }
  return out;
}

// field -> {`side`'s value (null where it has none), the written value}, for `plan`.
std::map<std::string, std::pair<Value, Value>> DiffOf(const std::optional<Fields>& side,
                                                      const Fields& written) {
  std::map<std::string, std::pair<Value, Value>> diff;
  const Fields before = ValuesOf(side, written);
  for (const auto& [field, value] : written) diff[field] = {before.at(field), value};
  return diff;
}

// Why a write of `written` was decided, for the audit trail (ParsedPayload::rule).
std::string RuleFor(bool to_ghl, bool create, bool paired, Lane lane, const MergeResult& merged,
                    const Fields& written) {
  std::string rules;
  for (const auto& c : merged.conflicts) {
    if (!written.count(c.field) || rules.find(c.rule) != std::string::npos) continue;
    rules += (rules.empty() ? "" : ", ") + c.rule;
  }
  if (!rules.empty()) return "conflict: " + rules;
  if (create) {
    if (lane == Lane::kBackfill) return "backfill create";
    return to_ghl ? "created outside" : "created in GHL";
  }
  if (!paired) return to_ghl ? "first link: value from outside" : "first link: value from GHL";
  return to_ghl ? "changed outside" : "changed in GHL";
}

std::string JoinErrors(const std::vector<mapping::MapError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.ToString();
  return out;
}

class Decider {
 public:
  explicit Decider(const DecideInput& in)
      : in_(in),
        spec_(in.mapping->spec()),
        known_(in.link.has_value()),
        link_(known_ ? *in.link : Link{}),
        had_ghl_(known_ && link_.ghl_id.has_value()),
        had_ext_(known_ && link_.ext_key.has_value()),
        was_paired_(had_ghl_ && had_ext_) {
    if (!known_) {
      link_.sync = spec_.name;
      link_.location = in.location;
    }
    decision_.ghl_id = link_.ghl_id.value_or(in.ghl ? in.ghl->id : "");
    decision_.ext_key = link_.ext_key.value_or(in.ext ? in.ext->key : "");
  }

  Decided Run();

 private:
  Decided Waiting(const std::string& why) const;
  Decided Deletes();
  Decided DeadLetterRow();
  void ReadGhl();
  void CreatedBase();
  void MergeSides();
  void WriteToGhl();
  std::string WriteOutside();  // returns why the record waits ("" when it does not)
  std::string ResolveOutgoing(Fields& outgoing, std::vector<mapping::MapError>& unnamed) const;
  std::string ExternalKey(const Fields& columns) const;
  void NothingToDo();

  const DecideInput& in_;
  const mapping::SyncSpec& spec_;
  const bool known_;
  Link link_;
  const bool had_ghl_, had_ext_, was_paired_;
  Decision decision_;  // the record's ids; each decision starts from it
  Decided out_;
  std::optional<Fields> external_, ghl_, created_;  // canonical; created_: see CreatedBase
  int64_t ghl_ms_ = 0, ext_ms_ = 0;
  MergeResult merged_;
};

Decided Decider::Run() {
  if (link_.deleted) return Decided{};
  const bool ext_gone = in_.ext_deleted || (in_.ext && in_.ext->deleted);
  if (ext_gone || in_.ghl_deleted) return Deletes();
  if (in_.ext) {
    link_.ext_key = in_.ext->key;
    link_.ext_version = in_.ext->version;
    if (!in_.ext->canonical || !in_.ext->errors.empty()) return DeadLetterRow();
    external_ = *in_.ext->canonical;
    if (!in_.ext->wait.empty()) return Waiting(in_.ext->wait);
  }
  ReadGhl();
  CreatedBase();
  MergeSides();
  if (!merged_.to_ghl.empty() && FlowsToGhl(spec_.direction)) WriteToGhl();
  if (!merged_.to_external.empty() && FlowsFromGhl(spec_.direction)) {
    if (std::string wait = WriteOutside(); !wait.empty()) return Waiting(wait);
  }
  if (out_.decisions.empty()) NothingToDo();
  if (in_.pending_unsent) out_.cancel_pending = had_ghl_ ? Target::kExternal : Target::kGhl;
  out_.link = link_;
  return std::move(out_);
}

// A reference not linked yet: nothing is decided (Decided::wait).
Decided Decider::Waiting(const std::string& why) const {
  Decided w;
  w.wait = why;
  w.echo_suppressed = out_.echo_suppressed;
  Decision d = decision_;
  d.action = Decision::Action::kSkip;
  d.note = why;
  w.decisions.push_back(std::move(d));
  return w;
}

Decided Decider::Deletes() {
  const bool ext_gone = in_.ext_deleted || (in_.ext && in_.ext->deleted);
  out_.save = known_;
  link_.deleted = true;
  Decision decision = decision_;
  decision.action = Decision::Action::kDelete;
  const bool to_ghl = ext_gone && !in_.ghl_deleted && link_.ghl_id && FlowsToGhl(spec_.direction);
  const bool to_ext =
      in_.ghl_deleted && !ext_gone && link_.ext_key && FlowsFromGhl(spec_.direction);
  if (spec_.deletes == DeletePolicy::kIgnore || (!to_ghl && !to_ext)) {
    decision.action = Decision::Action::kSkip;
    decision.note = "deleted on one side; deletes: ignore (the pair is no longer synced)";
  } else if (to_ghl) {
    decision.target = "ghl";
    if (spec_.deletes == DeletePolicy::kPropagate) {
      out_.jobs.push_back(MakeJob(Target::kGhl, "delete",
                                  JobPayload({}, nullptr, "", "", nullptr, "deleted outside"),
                                  in_.lane));
    } else {
      const Fields tags{{"tags", mapping::List{spec_.soft_delete_tag}}};
      out_.jobs.push_back(MakeJob(
          Target::kGhl, "tag",
          JobPayload(tags, nullptr, "", "", nullptr, "deleted outside (soft delete)"), in_.lane));
      decision.note = "soft delete: tag " + spec_.soft_delete_tag;
    }
    ++out_.deletes;
  } else {
    decision.target = "external";
    if (spec_.deletes == DeletePolicy::kPropagate) {
      // Compare-and-set: the row is deleted only as this pass saw it; one edited after
      // that (say while the file was locked and the delete waited) is kept.
      if (in_.ext && !in_.ext->version.empty()) link_.ext_version = in_.ext->version;
      out_.jobs.push_back(MakeJob(
          Target::kExternal, "delete",
          JobPayload({}, nullptr, *link_.ext_key, link_.ext_version, nullptr, "deleted in GHL"),
          in_.lane));
    } else {
      const Fields cols{{spec_.soft_delete_column, std::string("true")}};
      out_.jobs.push_back(MakeJob(
          Target::kExternal, "upsert",
          JobPayload({}, &cols, *link_.ext_key, "", nullptr, "deleted in GHL (soft delete)"),
          in_.lane));
      decision.note = "soft delete: " + spec_.soft_delete_column + " = true";
    }
    ++out_.deletes;
  }
  out_.link = link_;
  out_.decisions.push_back(std::move(decision));
  return std::move(out_);
}

// The external row could not be mapped: it goes to the dead-letter queue as it was read.
Decided Decider::DeadLetterRow() {
  const std::string error = "mapping the external row failed: " + JoinErrors(in_.ext->errors);
  out_.logs.push_back(
      {DecideLog::Level::kWarn, fmt::format("{} {}: {}; sent to the dead-letter queue",
                                            in_.ext_source, in_.ext->key, error)});
  out_.save = true;
  out_.link = link_;
  out_.dead_letters.push_back(
      {MakeJob(Target::kGhl, "map", JobPayload({}, &in_.ext->row, in_.ext->key), in_.lane), error});
  Decision decision = decision_;
  decision.action = Decision::Action::kError;
  decision.note = error;
  out_.decisions.push_back(std::move(decision));
  return std::move(out_);
}

// The GHL side as canonical fields, and both sides' times for the `newest` policy.
void Decider::ReadGhl() {
  ghl_ms_ = in_.now_ms;
  if (in_.ghl) {
    link_.ghl_id = in_.ghl->id;
    // Older than what we already know of the record (a lagging search index, a delayed
    // webhook): nothing new from GHL.
    const auto& seen_at = in_.ghl->updated_ms;
    const auto& known_at = in_.link_version_ms;
    const bool stale = known_ && seen_at && known_at && *seen_at < *known_at;
    if (!in_.ghl->date_updated.empty() && !stale) link_.ghl_version = in_.ghl->date_updated;
    if (seen_at) ghl_ms_ = *seen_at;
    ghl_ = stale ? link_.base : in_.ghl->fields;
    if (known_ && !stale && in_.ledger != nullptr) {
      const Fields echoes = in_.ledger->Echoes(link_.id, link_.base, *ghl_, seen_at, in_.now_ms);
      for (const auto& [field, value] : echoes) (*ghl_)[field] = value;
      out_.echo_suppressed = !echoes.empty();
    }
  }
  ext_ms_ = in_.ext && in_.ext->updated_ms > 0 ? in_.ext->updated_ms : in_.now_ms;
}

// A link with one side only that now sees the other found it through a create whose
// result was not recorded (a crash): that side holds our own write, so the create's values
// are the base there, and a field someone changed since the create differs from it (a
// later change that flows). Other fields take what the side holds.
void Decider::CreatedBase() {
  if (!known_ || was_paired_ || !ghl_ || !external_ || !(had_ghl_ || had_ext_)) return;
  if (in_.pending_unsent) return;  // not our record: a first link, no base
  created_ = had_ghl_ ? *external_ : *ghl_;
  if (in_.pending_create) {
    for (const auto& [field, value] : *in_.pending_create) (*created_)[field] = value;
  }
}

// The three-way merge; its conflicts recorded, the fields that need no write settled in
// the base (written ones settle when their write succeeds).
void Decider::MergeSides() {
  MergeInput in;
  in.fields = *in_.rules;
  in.policy = spec_.conflict;
  in.base = was_paired_ ? &link_.base : created_ ? &*created_ : nullptr;
  in.ghl = ghl_ ? &*ghl_ : (was_paired_ ? &link_.base : nullptr);
  in.external = external_ ? &*external_ : (was_paired_ ? &link_.base : nullptr);
  in.ghl_updated_ms = ghl_ms_;
  in.external_updated_ms = ext_ms_;
  merged_ = Merge(in);
  for (const auto& c : merged_.conflicts) {
    ConflictRecord record;
    record.sync = spec_.name;
    record.field = c.field;
    record.base_json = mapping::ToJson(c.base);
    record.ghl_json = mapping::ToJson(c.ghl);
    record.ext_json = mapping::ToJson(c.external);
    record.rule = c.rule;
    record.winner = mapping::ToString(c.winner);
    record.at = in_.now_ms;
    out_.logs.push_back(
        {DecideLog::Level::kInfo,
         fmt::format("conflict on {} field {}: GHL {} vs external {}; {} wins ({})",
                     decision_.ghl_id.empty() ? decision_.ext_key : decision_.ghl_id, c.field,
                     mapping::Display(c.ghl), mapping::Display(c.external), record.winner,
                     c.rule)});
    out_.conflicts.push_back(std::move(record));
  }
  for (const auto& [field, value] : merged_.new_base) {
    if (!merged_.to_ghl.count(field) && !merged_.to_external.count(field)) {
      link_.base[field] = value;
    }
  }
  out_.save = true;
}

void Decider::WriteToGhl() {
  Decision d = decision_;
  d.target = "ghl";
  d.action = link_.ghl_id ? Decision::Action::kUpdate : Decision::Action::kCreate;
  d.diff = DiffOf(ghl_, merged_.to_ghl);
  if (!merged_.conflicts.empty()) d.note = "after a conflict";
  const Fields before = ValuesOf(ghl_, merged_.to_ghl);
  const std::string rule =
      RuleFor(true, !link_.ghl_id, was_paired_, in_.lane, merged_, merged_.to_ghl);
  out_.jobs.push_back(
      MakeJob(Target::kGhl, "upsert",
              JobPayload(merged_.to_ghl, nullptr, "", link_.ghl_version, &before, rule), in_.lane));
  out_.decisions.push_back(std::move(d));
}

std::string Decider::WriteOutside() {
  // References go out as the other sync's external keys or GHL's names (the canonical
  // values, and so the base, keep GHL ids).
  Fields outgoing = merged_.to_external;
  std::vector<mapping::MapError> unnamed;  // ids GHL has no name for
  if (std::string wait = ResolveOutgoing(outgoing, unnamed); !wait.empty()) return wait;
  auto columns = in_.mapping->ToExternal(outgoing);
  columns.errors.insert(columns.errors.end(), unnamed.begin(), unnamed.end());
  if (!columns.ok() || !columns.errors.empty()) {
    const std::string error = "mapping the GHL record failed: " + JoinErrors(columns.errors);
    out_.logs.push_back(
        {DecideLog::Level::kWarn,
         fmt::format("GHL {}: {}; sent to the dead-letter queue", decision_.ghl_id, error)});
    out_.dead_letters.push_back(
        {MakeJob(Target::kExternal, "map", JobPayload(merged_.to_external), in_.lane), error});
    Decision d = decision_;
    d.action = Decision::Action::kError;
    d.note = error;
    out_.decisions.push_back(std::move(d));
    return "";
  }
  const std::string key = ExternalKey(*columns.value);
  const Fields before = ValuesOf(external_, merged_.to_external);
  Decision d = decision_;
  d.target = "external";
  d.action = link_.ext_key ? Decision::Action::kUpdate : Decision::Action::kCreate;
  d.diff = DiffOf(external_, merged_.to_external);
  const std::string rule =
      RuleFor(false, !link_.ext_key, was_paired_, in_.lane, merged_, merged_.to_external);
  out_.jobs.push_back(MakeJob(
      Target::kExternal, "upsert",
      JobPayload(merged_.to_external, &*columns.value, key, link_.ext_version, &before, rule),
      in_.lane));
  out_.decisions.push_back(std::move(d));
  return "";
}

// Puts the resolve stage's answers (DecideInput::outgoing) in place of the reference values
// of `outgoing`, in the order the runner resolves references (pipelineStageId last: a stage
// name is looked up in its pipeline). The first one that is not linked yet makes the record
// wait; one GHL has no name for goes to `unnamed` (its value left as it was).
std::string Decider::ResolveOutgoing(Fields& outgoing,
                                     std::vector<mapping::MapError>& unnamed) const {
  std::vector<const mapping::ReferenceSpec*> order;
  for (const auto& r : spec_.references) order.push_back(&r);
  std::stable_partition(order.begin(), order.end(),
                        [](const auto* r) { return r->ghl != "pipelineStageId"; });
  for (const mapping::ReferenceSpec* r : order) {
    auto it = outgoing.find(r->ghl);
    if (it == outgoing.end() || mapping::IsNull(it->second)) continue;
    const auto* text = std::get_if<std::string>(&it->second);
    if (text != nullptr && text->empty()) continue;  // no reference: nothing to wait for
    auto answer = std::find_if(in_.outgoing.begin(), in_.outgoing.end(), [&](const auto& o) {
      return o.field == r->ghl && mapping::Equal(o.from, it->second);
    });
    if (answer == in_.outgoing.end()) {
      return fmt::format("its {} ({}) was not resolved; it waits for the next pass", r->ghl,
                         mapping::Display(it->second));
    }
    if (!answer->wait.empty()) return answer->wait;
    if (!answer->unnamed.empty()) {
      unnamed.push_back({r->ghl, answer->unnamed});
      continue;
    }
    it->second = answer->to;
  }
  return "";
}

// A new external row gets a key we can repeat after a crash: the mapped key column when
// GHL supplies it, else the GHL id.
std::string Decider::ExternalKey(const Fields& columns) const {
  std::string key = link_.ext_key.value_or("");
  if (key.empty() && spec_.key.size() == 1) {
    auto k = columns.find(spec_.key.front());
    if (k != columns.end()) key = mapping::Display(k->second);
    if (mapping::IsNull(k == columns.end() ? Value{} : k->second)) key.clear();
  }
  if (key.empty()) key = link_.ghl_id.value_or("");
  return key;
}

void Decider::NothingToDo() {
  Decision d = decision_;
  d.action = known_ ? Decision::Action::kSkip : Decision::Action::kLink;
  d.note = known_ ? "no field changed" : "linked (same values on both sides)";
  if (!known_ && !(link_.ghl_id && link_.ext_key)) d.action = Decision::Action::kSkip;
  out_.decisions.push_back(std::move(d));
}

}  // namespace

Decided Decide(const DecideInput& in) { return Decider(in).Run(); }

std::string JobPayload(const Fields& canonical, const Fields* external, const std::string& key,
                       const std::string& expect, const Fields* before, const std::string& rule) {
  std::string out = "{\"canonical\":" + mapping::ToJson(canonical);
  if (external != nullptr) out += ",\"external\":" + mapping::ToJson(*external);
  out += ",\"key\":" + mapping::ToJson(Value{key});
  if (!expect.empty()) out += ",\"expect\":" + mapping::ToJson(Value{expect});
  if (before != nullptr) out += ",\"before\":" + mapping::ToJson(*before);
  if (!rule.empty()) out += ",\"rule\":" + mapping::ToJson(Value{rule});
  return out + "}";
}

}  // namespace ghl::sync
