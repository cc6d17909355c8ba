// SyncRunner::Decide: one record, both sides known, turned into link + base + jobs. The
// resolve stage here reads what the pure decider (sync/decide.h) needs from the store, GHL
// and the clock; the decider decides; its log lines and counters are reported here.
#include <spdlog/spdlog.h>

#include "sync/runner.h"
#include "sync/runner_internal.h"

namespace ghl::sync {

using namespace runner_internal;
using ghl_client::Lane;

namespace {

// Why a record waits for a reference: not linked yet, or reading it failed.
std::string WaitOf(const Result<std::string>& wait) {
  return wait.ok() ? *wait : "reading its reference failed: " + wait.error().message;
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

std::vector<OutgoingRef> SyncRunner::ResolveOutgoing(const GhlSeen& ghl, const Link* link,
                                                     const std::string& location) {
  std::vector<OutgoingRef> out;
  for (const auto& r : mapping_->spec().references) {
    std::vector<Value> values;
    if (auto v = ghl.fields.find(r.ghl); v != ghl.fields.end()) values.push_back(v->second);
    if (link != nullptr) {
      auto b = link->base.find(r.ghl);
      if (b != link->base.end() && (values.empty() || !mapping::Equal(b->second, values[0]))) {
        values.push_back(b->second);
      }
    }
    for (const Value& value : values) {
      const auto* text = std::get_if<std::string>(&value);
      if (mapping::IsNull(value) || (text != nullptr && text->empty())) continue;
      OutgoingRef ref{r.ghl, value, Value{}, "", ""};
      Fields one{{r.ghl, value}};
      std::vector<mapping::MapError> invalid;
      auto wait = ResolveReferences(one, /*to_ghl=*/false, location, &invalid);
      if (!wait.ok() || !wait->empty()) {
        ref.wait = WaitOf(wait);
      } else if (!invalid.empty()) {
        ref.unnamed = invalid.front().reason;
      } else {
        ref.to = one[r.ghl];
      }
      out.push_back(std::move(ref));
    }
  }
  return out;
}

DecideInput SyncRunner::Resolve(const Item& item, Lane lane) {
  DecideInput in;
  in.mapping = mapping_.get();
  in.rules = &rules_;
  in.location = item.location;
  in.link = item.link;
  in.lane = lane;
  in.now_ms = NowMs();
  in.ledger = &ledger_;
  if (in.link && in.link->deleted) return in;  // a tombstone decides nothing
  in.link_version_ms = in.link ? ParseIsoMs(in.link->ghl_version) : std::nullopt;
  in.ghl_deleted = item.ghl_deleted;
  in.ext_deleted = item.ext_deleted;
  if (item.ghl) {
    in.ghl = GhlSeen{item.ghl->id, item.ghl->date_updated, ParseIsoMs(item.ghl->date_updated),
                     item.ghl->fields};
  }
  if (item.ext) {
    in.ext = ExtSeen{item.ext->key, item.ext->version, item.ext->deleted, item.ext->updated_ms,
                     item.ext->fields};
  }
  // A delete is decided from the link alone; a row the decider stops at (a mapping error, a
  // reference to wait for) needs nothing more.
  if (in.ghl_deleted || in.ext_deleted || (in.ext && in.ext->deleted)) return in;
  if (in.ext) {
    // The row as canonical fields, its references as GHL ids.
    auto mapped = mapping_->ToCanonical(in.ext->row);
    in.ext->errors = std::move(mapped.errors);
    if (mapped.ok()) {
      in.ext->wait =
          WaitOf(ResolveReferences(*mapped.value, /*to_ghl=*/true, item.location, &in.ext->errors));
      in.ext->canonical = std::move(mapped.value);
    }
    if (!in.ext->canonical || !in.ext->errors.empty()) {
      in.ext_source = connector_->Describe();  // for the dead letter's log line
      return in;
    }
    if (!in.ext->wait.empty()) return in;
  }
  const Link* link = in.link ? &*in.link : nullptr;
  // Only the references the merge writes outside count (Decide).
  if (in.ghl) in.outgoing = ResolveOutgoing(*in.ghl, link, item.location);
  // A link with one side only that now sees the other: the create still pending there.
  if (link != nullptr && in.ghl && in.ext &&
      link->ghl_id.has_value() != link->ext_key.has_value()) {
    auto job = store_.PendingJob(link->id, link->ghl_id ? Target::kExternal : Target::kGhl);
    ParsedPayload p;
    if (job.ok() && job->has_value() && (**job).op == "upsert" && (**job).attempts == 0) {
      in.pending_unsent = true;
    } else if (job.ok() && job->has_value() && (**job).op == "upsert" &&
               ParsePayload((**job).payload, &p)) {
      in.pending_create = std::move(p.canonical);
    }
  }
  return in;
}

SyncRunner::Outcome SyncRunner::Decide(Item& item, Lane lane) {
  Decided decided = ghl::sync::Decide(Resolve(item, lane));
  for (const DecideLog& line : decided.logs) {
    if (line.level == DecideLog::Level::kWarn) {
      spdlog::warn("sync {}: {}", name(), line.text);
    } else {
      spdlog::info("sync {}: {}", name(), line.text);
    }
  }
  if (decided.echo_suppressed && counters_.echo) counters_.echo();
  Outcome out;
  out.link = std::move(decided.link);
  out.save = decided.save;
  out.jobs = std::move(decided.jobs);
  out.conflicts = std::move(decided.conflicts);
  out.dead_letters = std::move(decided.dead_letters);
  out.decisions = std::move(decided.decisions);
  out.deletes = decided.deletes;
  out.wait = std::move(decided.wait);
  out.cancel_pending = decided.cancel_pending;
  return out;
}

}  // namespace ghl::sync
