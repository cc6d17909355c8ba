// SyncRunner::Decide: one record, both sides known, turned into link + base + jobs.
#include <spdlog/spdlog.h>

#include "sync/runner.h"
#include "sync/runner_internal.h"

namespace ghl::sync {

using namespace runner_internal;
using ghl_client::Lane;
using mapping::DeletePolicy;

namespace {

Job MakeJob(Target target, std::string op, std::string payload, Lane lane) {
  Job job;
  job.target = target;
  job.op = std::move(op);
  job.payload = std::move(payload);
  job.lane = static_cast<int>(lane);
  return job;
}

// `side`'s values of the fields in `written` (null where it has none).
Fields ValuesOf(const Fields* side, const Fields& written) {
  Fields out;
  for (const auto& [field, value] : written) {
    auto it = side != nullptr ? side->find(field) : Fields::const_iterator{};
    out[field] = side != nullptr && it != side->end() ? it->second : Value{};
  }
  return out;
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

}  // namespace

Result<std::string> SyncRunner::ResolveReferences(Fields& fields, bool to_ghl,
                                                  const std::string& location,
                                                  std::vector<mapping::MapError>* invalid) {
  const auto& refs = mapping_->spec().references;
  // By name, pipelineId first: a stage name is looked up in the record's pipeline.
  std::vector<const mapping::ReferenceSpec*> order;
  for (const auto& r : refs) order.push_back(&r);
  std::stable_partition(order.begin(), order.end(),
                        [](const auto* r) { return r->ghl != "pipelineStageId"; });
  for (const mapping::ReferenceSpec* r : order) {
    auto it = fields.find(r->ghl);
    if (it == fields.end() || mapping::IsNull(it->second)) continue;
    const auto* text = std::get_if<std::string>(&it->second);
    if (text != nullptr && text->empty()) continue;  // no reference: nothing to wait for
    const std::string from = text != nullptr ? *text : mapping::Display(it->second);
    if (r->by == "name") {
      std::string pipeline;
      if (auto p = fields.find("pipelineId"); p != fields.end()) {
        if (const auto* id = std::get_if<std::string>(&p->second)) pipeline = *id;
      }
      auto found = to_ghl ? ghl_.IdOfName(location, r->ghl, from, pipeline)
                          : ghl_.NameOfId(location, r->ghl, from);
      if (!found.ok()) return found.error();
      if (!found->problem.empty()) {
        if (invalid != nullptr) invalid->push_back({r->ghl, found->problem});
        continue;
      }
      it->second = found->value;
      continue;
    }
    auto link = to_ghl ? store_.LinkByExtKey(r->sync, from) : store_.LinkByGhlId(r->sync, from);
    if (!link.ok()) return link.error();
    const std::optional<std::string>* to = nullptr;
    if (link->has_value() && !(**link).deleted) to = to_ghl ? &(**link).ghl_id : &(**link).ext_key;
    if (to == nullptr || !to->has_value()) {
      return fmt::format("its {} ({} {} of sync {}) is not linked yet; it waits for that record",
                         r->ghl, to_ghl ? "external key" : "GHL id", from, r->sync);
    }
    it->second = **to;
  }
  return std::string();
}

SyncRunner::Outcome SyncRunner::Decide(Item& item, Lane lane) {
  const auto& spec = mapping_->spec();
  Outcome out;
  const bool known = item.link.has_value();
  Link link = known ? *item.link : Link{};
  if (!known) {
    link.sync = name();
    link.location = item.location;
  }
  if (link.deleted) return out;
  Decision decision;
  decision.ghl_id = link.ghl_id.value_or(item.ghl ? item.ghl->id : "");
  decision.ext_key = link.ext_key.value_or(item.ext ? item.ext->key : "");
  // A reference not linked yet: nothing is decided (Outcome::wait).
  auto waiting = [&](const Result<std::string>& wait) -> std::optional<Outcome> {
    if (wait.ok() && wait->empty()) return std::nullopt;
    Outcome w;
    w.wait = wait.ok() ? *wait : "reading its reference failed: " + wait.error().message;
    Decision d = decision;
    d.action = Decision::Action::kSkip;
    d.note = w.wait;
    w.decisions.push_back(std::move(d));
    return w;
  };
  const bool had_ghl = known && link.ghl_id.has_value();
  const bool had_ext = known && link.ext_key.has_value();
  const bool was_paired = had_ghl && had_ext;

  // ---- deletions ----
  const bool ext_gone = item.ext_deleted || (item.ext && item.ext->deleted);
  if (ext_gone || item.ghl_deleted) {
    out.save = known;
    link.deleted = true;
    out.link = link;
    decision.action = Decision::Action::kDelete;
    const bool to_ghl = ext_gone && !item.ghl_deleted && link.ghl_id && FlowsToGhl(spec.direction);
    const bool to_ext =
        item.ghl_deleted && !ext_gone && link.ext_key && FlowsFromGhl(spec.direction);
    if (spec.deletes == DeletePolicy::kIgnore || (!to_ghl && !to_ext)) {
      decision.action = Decision::Action::kSkip;
      decision.note = "deleted on one side; deletes: ignore (the pair is no longer synced)";
    } else if (to_ghl) {
      decision.target = "ghl";
      if (spec.deletes == DeletePolicy::kPropagate) {
        out.jobs.push_back(MakeJob(Target::kGhl, "delete",
                                   Payload({}, nullptr, "", "", nullptr, "deleted outside"), lane));
      } else {
        out.jobs.push_back(MakeJob(Target::kGhl, "tag",
                                   Payload({{"tags", mapping::List{spec.soft_delete_tag}}}, nullptr,
                                           "", "", nullptr, "deleted outside (soft delete)"),
                                   lane));
        decision.note = "soft delete: tag " + spec.soft_delete_tag;
      }
      ++out.deletes;
    } else {
      decision.target = "external";
      if (spec.deletes == DeletePolicy::kPropagate) {
        // Compare-and-set: the row is deleted only as this pass saw it; one edited after
        // that (say while the file was locked and the delete waited) is kept.
        if (item.ext && !item.ext->version.empty()) link.ext_version = item.ext->version;
        out.link = link;
        out.jobs.push_back(MakeJob(
            Target::kExternal, "delete",
            Payload({}, nullptr, *link.ext_key, link.ext_version, nullptr, "deleted in GHL"),
            lane));
      } else {
        Fields cols{{spec.soft_delete_column, std::string("true")}};
        out.jobs.push_back(MakeJob(
            Target::kExternal, "upsert",
            Payload({}, &cols, *link.ext_key, "", nullptr, "deleted in GHL (soft delete)"), lane));
        decision.note = "soft delete: " + spec.soft_delete_column + " = true";
      }
      ++out.deletes;
    }
    out.decisions.push_back(std::move(decision));
    return out;
  }

  // ---- both sides as canonical fields ----
  std::optional<Fields> external;
  if (item.ext) {
    link.ext_key = item.ext->key;
    link.ext_version = item.ext->version;
    auto mapped = mapping_->ToCanonical(item.ext->fields);
    Result<std::string> wait = std::string();
    if (mapped.ok()) {
      wait = ResolveReferences(*mapped.value, /*to_ghl=*/true, item.location, &mapped.errors);
    }
    if (!mapped.ok() || !mapped.errors.empty()) {
      const std::string error = "mapping the external row failed: " + JoinErrors(mapped.errors);
      spdlog::warn("sync {}: {} {}: {}; sent to the dead-letter queue", name(),
                   connector_->Describe(), item.ext->key, error);
      out.save = true;
      out.link = link;
      out.dead_letters.push_back(
          {MakeJob(Target::kGhl, "map", Payload({}, &item.ext->fields, item.ext->key), lane),
           error});
      decision.action = Decision::Action::kError;
      decision.note = error;
      out.decisions.push_back(std::move(decision));
      return out;
    }
    external = std::move(*mapped.value);
    if (auto w = waiting(wait)) return std::move(*w);
  }
  std::optional<Fields> ghl;
  int64_t ghl_ms = NowMs();
  if (item.ghl) {
    link.ghl_id = item.ghl->id;
    // Older than what we already know of the record (a lagging search index, a delayed
    // webhook): nothing new from GHL.
    const auto seen_at = ParseIsoMs(item.ghl->date_updated);
    const auto known_at = ParseIsoMs(link.ghl_version);
    const bool stale = known && seen_at && known_at && *seen_at < *known_at;
    if (!item.ghl->date_updated.empty() && !stale) link.ghl_version = item.ghl->date_updated;
    if (auto at = ParseIsoMs(item.ghl->date_updated)) ghl_ms = *at;
    ghl = stale ? link.base : item.ghl->fields;
    if (known && !stale) SuppressEchoes(link.id, link.base, *ghl);
  }
  const int64_t ext_ms = item.ext && item.ext->updated_ms > 0 ? item.ext->updated_ms : NowMs();

  // A link with one side only that now sees the other found it through a create whose
  // result was not recorded (a crash): that side holds our own write, so the create's
  // values are the base there, and a field someone changed since the create differs from
  // it (a later change that flows). Other fields take what the side holds.
  std::optional<Fields> created;
  if (known && !was_paired && ghl && external && (had_ghl || had_ext)) {
    created = had_ghl ? *external : *ghl;
    auto job = store_.PendingJob(link.id, had_ghl ? Target::kExternal : Target::kGhl);
    ParsedPayload p;
    if (job.ok() && job->has_value() && (**job).op == "upsert" &&
        ParsePayload((**job).payload, &p)) {
      for (const auto& [field, value] : p.canonical) (*created)[field] = value;
    }
  }
  MergeInput in;
  in.fields = rules_;
  in.policy = spec.conflict;
  in.base = was_paired ? &link.base : created ? &*created : nullptr;
  in.ghl = ghl ? &*ghl : (was_paired ? &link.base : nullptr);
  in.external = external ? &*external : (was_paired ? &link.base : nullptr);
  in.ghl_updated_ms = ghl_ms;
  in.external_updated_ms = ext_ms;
  MergeResult merged = Merge(in);

  for (const auto& c : merged.conflicts) {
    ConflictRecord record;
    record.sync = name();
    record.field = c.field;
    record.base_json = mapping::ToJson(c.base);
    record.ghl_json = mapping::ToJson(c.ghl);
    record.ext_json = mapping::ToJson(c.external);
    record.rule = c.rule;
    record.winner = mapping::ToString(c.winner);
    record.at = NowMs();
    spdlog::info("sync {}: conflict on {} field {}: GHL {} vs external {}; {} wins ({})", name(),
                 decision.ghl_id.empty() ? decision.ext_key : decision.ghl_id, c.field,
                 mapping::Display(c.ghl), mapping::Display(c.external), record.winner, c.rule);
    out.conflicts.push_back(std::move(record));
  }
  // Fields that need no write take their merged value now; written ones on success.
  for (const auto& [field, value] : merged.new_base) {
    if (!merged.to_ghl.count(field) && !merged.to_external.count(field)) link.base[field] = value;
  }
  out.save = true;

  if (!merged.to_ghl.empty() && FlowsToGhl(spec.direction)) {
    Decision d = decision;
    d.target = "ghl";
    d.action = link.ghl_id ? Decision::Action::kUpdate : Decision::Action::kCreate;
    for (const auto& [field, value] : merged.to_ghl) {
      auto before = ghl ? ghl->find(field) : Fields::const_iterator{};
      d.diff[field] = {ghl && before != ghl->end() ? before->second : Value{}, value};
    }
    if (!merged.conflicts.empty()) d.note = "after a conflict";
    const Fields before = ValuesOf(ghl ? &*ghl : nullptr, merged.to_ghl);
    const std::string rule = RuleFor(true, !link.ghl_id, was_paired, lane, merged, merged.to_ghl);
    out.jobs.push_back(MakeJob(Target::kGhl, "upsert",
                               Payload(merged.to_ghl, nullptr, "", link.ghl_version, &before, rule),
                               lane));
    out.decisions.push_back(std::move(d));
  }
  if (!merged.to_external.empty() && FlowsFromGhl(spec.direction)) {
    // References go out as the other sync's external keys (the canonical values, and so the
    // base, keep GHL ids).
    Fields outgoing = merged.to_external;
    std::vector<mapping::MapError> unnamed;  // ids GHL has no name for
    if (auto w = waiting(ResolveReferences(outgoing, /*to_ghl=*/false, item.location, &unnamed))) {
      return std::move(*w);
    }
    auto columns = mapping_->ToExternal(outgoing);
    columns.errors.insert(columns.errors.end(), unnamed.begin(), unnamed.end());
    if (!columns.ok() || !columns.errors.empty()) {
      const std::string error = "mapping the GHL record failed: " + JoinErrors(columns.errors);
      spdlog::warn("sync {}: GHL {}: {}; sent to the dead-letter queue", name(), decision.ghl_id,
                   error);
      out.dead_letters.push_back(
          {MakeJob(Target::kExternal, "map", Payload(merged.to_external), lane), error});
      Decision d = decision;
      d.action = Decision::Action::kError;
      d.note = error;
      out.decisions.push_back(std::move(d));
    } else {
      // A new external row gets a key we can repeat after a crash: the mapped key column
      // when GHL supplies it, else the GHL id.
      std::string key = link.ext_key.value_or("");
      if (key.empty() && spec.key.size() == 1) {
        auto k = columns.value->find(spec.key.front());
        if (k != columns.value->end()) key = mapping::Display(k->second);
        if (mapping::IsNull(k == columns.value->end() ? Value{} : k->second)) key.clear();
      }
      if (key.empty()) key = link.ghl_id.value_or("");
      const Fields before = ValuesOf(external ? &*external : nullptr, merged.to_external);
      Decision d = decision;
      d.target = "external";
      d.action = link.ext_key ? Decision::Action::kUpdate : Decision::Action::kCreate;
      for (const auto& [field, value] : merged.to_external) {
        auto before = external ? external->find(field) : Fields::const_iterator{};
        d.diff[field] = {external && before != external->end() ? before->second : Value{}, value};
      }
      const std::string rule =
          RuleFor(false, !link.ext_key, was_paired, lane, merged, merged.to_external);
      out.jobs.push_back(MakeJob(
          Target::kExternal, "upsert",
          Payload(merged.to_external, &*columns.value, key, link.ext_version, &before, rule),
          lane));
      out.decisions.push_back(std::move(d));
    }
  }
  if (out.decisions.empty()) {
    decision.action = known ? Decision::Action::kSkip : Decision::Action::kLink;
    decision.note = known ? "no field changed" : "linked (same values on both sides)";
    if (!known && !(link.ghl_id && link.ext_key)) decision.action = Decision::Action::kSkip;
    out.decisions.push_back(std::move(decision));
  }
  out.link = link;
  return out;
}

}  // namespace ghl::sync
