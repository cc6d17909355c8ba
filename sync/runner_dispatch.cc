// SyncRunner::Dispatch: the outbox, run against GHL and the connector.
#include <spdlog/spdlog.h>

#include "sync/runner.h"
#include "sync/runner_internal.h"

namespace ghl::sync {

using namespace runner_internal;
using ghl_client::Lane;

namespace {

connectors::Outcome FromGhl(ghl_client::Outcome o) {
  switch (o) {
    case ghl_client::Outcome::kOk:
      return connectors::Outcome::kOk;
    case ghl_client::Outcome::kRetry:
      return connectors::Outcome::kRetry;
    case ghl_client::Outcome::kFatal:
      return connectors::Outcome::kFatal;
  }
  return connectors::Outcome::kRetry;
}

const char* ActionOf(const Job& job, const Link& link) {
  if (job.op == "delete" || job.op == "tag") return "delete";
  const bool exists =
      job.target == Target::kGhl ? link.ghl_id.has_value() : link.ext_key.has_value();
  return exists ? "update" : "create";
}

// What a target holds, read back before a job that may have been carried out already is
// written again.
enum class Seen {
  kWrite,      // as when the job was decided (or absent, for a create): write it
  kDone,       // holds what the job writes: it becomes the base, nothing is written
  kOvertaken,  // changed since: do not write over it, merge again
  kGone,       // the record to update is gone: the next pass sees the delete
  kExisting,   // a create whose record GHL has already, not made by us: link it, merge again
  kUnknown,    // could not be read: try again later
};

// Compares the fields a job writes with the target's values now and with its values when
// the job was decided (`before`).
Seen Compare(const mapping::Fields& now, const mapping::Fields& written,
             const mapping::Fields& before) {
  if (written.empty()) return Seen::kWrite;  // e.g. a soft-delete flag: nothing to compare
  static const Value kNull;
  auto get = [](const mapping::Fields& f, const std::string& name) -> const Value& {
    auto it = f.find(name);
    return it == f.end() ? kNull : it->second;
  };
  bool done = true;
  bool untouched = true;
  for (const auto& [field, value] : written) {
    const Value& current = get(now, field);
    done = done && mapping::Equal(current, value);
    untouched = untouched && mapping::Equal(current, get(before, field));
  }
  return done ? Seen::kDone : untouched ? Seen::kWrite : Seen::kOvertaken;
}

// The writes of the jobs whose check said to write (all of them when none was checked),
// where they came from, and their jobs.
template <typename Op>
struct ToWrite {
  std::vector<Op> ops;
  std::vector<size_t> slots;
  std::vector<const Job*> jobs;
};
template <typename Op>
ToWrite<Op> StillToWrite(const std::vector<Seen>& seen, const std::vector<Op>& ops,
                         const std::vector<Job*>& jobs) {
  ToWrite<Op> out;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (seen[i] != Seen::kWrite) continue;
    out.ops.push_back(ops[i]);
    out.slots.push_back(i);
    out.jobs.push_back(jobs[i]);
  }
  return out;
}

// A job decided on a version of its target that a later pass has since seen change.
bool Outdated(const ParsedPayload& p, const std::string& version_now) {
  return !p.expect.empty() && version_now != p.expect;
}

std::string FieldNames(const mapping::Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

Result<void> SyncRunner::MarkAttempts(const std::vector<const Job*>& jobs, int64_t hold_ms) {
  if (jobs.empty()) return Ok();
  const int64_t not_before = hold_ms > 0 ? NowMs() + hold_ms : 0;
  return store_.Transaction([&]() -> Result<void> {
    for (const Job* job : jobs) {
      if (auto r = store_.MarkAttempt(job->id, job->idempotency_key, not_before); !r.ok()) {
        return r;
      }
    }
    return Ok();
  });
}

Result<void> SyncRunner::Settle(const Job& job, connectors::Outcome outcome,
                                const std::string& error, const std::string& body,
                                const std::string& trace_id,
                                const std::function<Result<void>(Link&)>& on_ok,
                                int64_t min_retry_ms, bool sent) {
  const int64_t now = NowMs();
  if (outcome == connectors::Outcome::kOk) {
    auto link = store_.LinkById(job.link_id);
    if (!link.ok()) return link.error();
    if (!link->has_value()) {
      auto done = store_.Complete(job.id, job.idempotency_key);
      return done.ok() ? Ok() : Result<void>(done.error());
    }
    Link l = std::move(**link);
    const char* action = ActionOf(job, l);
    if (auto r = on_ok(l); !r.ok()) {
      // The write happened but cannot be recorded as is (e.g. GHL matched a contact that is
      // already linked to another row): a person must look at it.
      return store_.DeadLetterJob(job, r.error().message, body, trace_id, now);
    }
    l.updated_at = now;
    if (auto saved = SaveLink(l); !saved.ok()) {
      return store_.DeadLetterJob(job, "recording the result failed: " + saved.error().message,
                                  body, trace_id, now);
    }
    if (auto done = store_.Complete(job.id, job.idempotency_key); !done.ok()) return done.error();
    if (auto audited = RecordAudit(job, l, action, trace_id, now); !audited.ok()) return audited;
    if (counters_.synced) {
      counters_.synced(job.target == Target::kGhl ? "to_ghl" : "to_external", action);
    }
    return Ok();
  }
  if (outcome == connectors::Outcome::kRetry) {
    const int attempts = job.attempts + (sent ? 1 : 0);
    if (job.attempts == 0 || (job.attempts + 1) % 10 == 0) {
      spdlog::warn("sync {}: {} write for link {} failed (attempt {}), retrying: {}", name(),
                   ToString(job.target), job.link_id, job.attempts + 1, error);
    }
    return store_.Reschedule(job.id, job.idempotency_key, attempts,
                             now + std::max(Backoff(job.attempts + 1), min_retry_ms), error);
  }
  spdlog::error(
      "sync {}: {} write for link {} refused: {}; sent to the dead-letter queue "
      "(ghl-syncd dlq show)",
      name(), ToString(job.target), job.link_id, error);
  if (counters_.dead_letter) counters_.dead_letter();
  return store_.DeadLetterJob(job, error, body, trace_id, now);
}

Result<void> SyncRunner::RecordAudit(const Job& job, const Link& link, const char* action,
                                     const std::string& trace_id, int64_t now) {
  AuditEntry e;
  e.sync = name();
  e.link_id = link.id;
  e.at = now;
  e.direction = job.target == Target::kGhl ? "to_ghl" : "to_external";
  e.action = action;
  e.ghl_id = link.ghl_id.value_or("");
  e.ext_key = link.ext_key.value_or("");
  e.trace_id = trace_id;
  ParsedPayload p;
  if (ParsePayload(job.payload, &p)) {
    e.rule = p.rule;
    // A soft delete outside writes a column, not a canonical field: show that column.
    const Fields& after = p.canonical.empty() ? p.external : p.canonical;
    e.after_json = mapping::ToJson(after);
    // A delete carries no values: the record's last synced ones (the base) are what it
    // deleted, kept here so that it can be recreated by hand.
    const bool removed = std::string_view(action) == "delete";
    e.before_json = p.before  ? mapping::ToJson(*p.before)
                    : removed ? mapping::ToJson(link.base)
                              : "{}";
  }
  return store_.AddAudit(e);
}

Result<std::optional<Link>> SyncRunner::LinkedElsewhere(Target side, const std::string& id,
                                                        int64_t link_id) {
  auto other =
      side == Target::kGhl ? store_.LinkByGhlId(name(), id) : store_.LinkByExtKey(name(), id);
  if (!other.ok() || !other->has_value() || (**other).id != link_id) return other;
  return std::optional<Link>();
}

Result<void> SyncRunner::ReadAgainLater(const Job& job, const std::string& found,
                                        const mapping::Fields* written) {
  auto link = store_.LinkById(job.link_id);
  if (!link.ok()) return link.error();
  if (link->has_value()) {
    Link l = **link;
    auto& side = job.target == Target::kGhl ? l.ghl_id : l.ext_key;
    if (!side && !found.empty()) {
      auto other = LinkedElsewhere(job.target, found, l.id);
      if (!other.ok()) return other.error();
      if (other->has_value()) {
        return store_.DeadLetterJob(
            job,
            fmt::format("the record this create found or made ({}) is linked to another record "
                        "({}): two records of this side share what GHL matches on (email or phone)",
                        found,
                        job.target == Target::kGhl
                            ? "external key " + (**other).ext_key.value_or("")
                            : "GHL " + (**other).ghl_id.value_or("")),
            "", "", NowMs());
      }
      side = found;
    }
    if (written != nullptr) {
      for (const auto& [field, value] : *written) l.base[field] = value;
    }
    l.ext_version.clear();  // both sides are read again on the next pass (LinksToReread)
    l.ghl_version.clear();
    l.updated_at = NowMs();
    if (auto r = SaveLink(l); !r.ok()) return r.error();
  }
  auto done = store_.Complete(job.id, job.idempotency_key);
  return done.ok() ? Ok() : Result<void>(done.error());
}

Result<void> SyncRunner::DispatchGhl(std::vector<Job>& jobs) {
  std::vector<GhlSide::Write> writes;
  std::vector<ParsedPayload> payloads;
  std::vector<Job*> sent;
  std::vector<Link> links;
  std::vector<std::pair<Job*, std::string>> broken;
  for (Job& job : jobs) {
    ParsedPayload p;
    auto link = store_.LinkById(job.link_id);
    if (!link.ok()) return link.error();
    if (!ParsePayload(job.payload, &p) || !link->has_value()) {
      broken.push_back({&job, "the job's payload or link is unreadable"});
      continue;
    }
    if (job.op == "map" || Outdated(p, (**link).ghl_version)) {
      // A replayed mapping failure, or a job a later pass has overtaken: read both sides
      // again on the next pass.
      broken.push_back({&job, ""});
      continue;
    }
    GhlSide::Write w;
    w.location_id = (**link).location;
    w.ghl_id = (**link).ghl_id.value_or("");
    w.lane = static_cast<Lane>(job.lane);
    if (job.op == "delete") {
      w.remove = true;
    } else if (job.op == "tag") {
      if (auto t = p.canonical.find("tags"); t != p.canonical.end()) {
        if (const auto* l = std::get_if<mapping::List>(&t->second)) w.add_tags = *l;
      }
    } else {
      w.fields = p.canonical;
    }
    if ((w.remove || !w.add_tags.empty()) && w.ghl_id.empty()) {
      broken.push_back({&job, ""});  // never created in GHL: nothing to delete
      continue;
    }
    writes.push_back(std::move(w));
    payloads.push_back(std::move(p));
    sent.push_back(&job);
    links.push_back(std::move(**link));
  }

  // Jobs that may have been carried out already: read the record first.
  std::vector<Seen> seen(sent.size(), Seen::kWrite);
  std::vector<WriteAnswer> answers(sent.size());
  std::vector<std::string> found(sent.size());
  auto check = [&](size_t i, const GhlRecord& record) {
    seen[i] = Compare(record.fields, payloads[i].canonical,
                      payloads[i].before ? *payloads[i].before : links[i].base);
    found[i] = record.id;
  };
  auto unknown = [&](size_t i, const std::string& error) {
    seen[i] = Seen::kUnknown;
    answers[i].outcome = ghl_client::Outcome::kRetry;
    answers[i].error = "reading the record back before writing it again: " + error;
  };
  std::map<std::pair<std::string, int>, std::vector<size_t>> fetch;  // (location, lane) -> jobs
  for (size_t i = 0; i < sent.size(); ++i) {
    const GhlSide::Write& w = writes[i];
    if (w.remove || !w.add_tags.empty()) continue;
    if (!w.ghl_id.empty()) {
      if (sent[i]->attempts > 0) fetch[{w.location_id, sent[i]->lane}].push_back(i);
      continue;
    }
    // A create. A contact with its email or phone may be in GHL already (created there since
    // the last poll, or not yet in GHL's lagging search): GHL's upsert would match it and
    // write over its values. So it is looked up first and, when found, linked instead: the
    // next pass merges both sides as a first link, and a field they disagree on is a
    // conflict. Other objects have no such match; they are looked up only when an earlier
    // attempt may have made them (its answer lost), by what the create writes.
    const bool contact = mapping_->spec().object == mapping::GhlObject::kContacts;
    if (!contact && sent[i]->attempts == 0) continue;
    auto match = ghl_.FindCreated(w);
    if (!match.ok()) {
      unknown(i, match.error().message);
    } else if (match->has_value()) {
      check(i, **match);
      // Found before any attempt, or not holding what an attempt wrote: not ours.
      if (sent[i]->attempts == 0 || seen[i] != Seen::kDone) seen[i] = Seen::kExisting;
    }
  }
  for (const auto& [where, slots] : fetch) {
    std::vector<std::string> ids;
    for (size_t i : slots) ids.push_back(writes[i].ghl_id);
    auto fetched = ghl_.Fetch(where.first, ids, static_cast<Lane>(where.second));
    for (size_t k = 0; k < slots.size(); ++k) {
      switch (fetched[k].state) {
        case Fetched::State::kFound:
          check(slots[k], fetched[k].record);
          break;
        case Fetched::State::kNotFound:
          seen[slots[k]] = Seen::kGone;
          break;
        case Fetched::State::kFailed:
          unknown(slots[k], fetched[k].error);
          break;
      }
    }
  }
  auto still = StillToWrite(seen, writes, sent);
  // Creates found again only through GHL's lagging search wait for it to settle before
  // they are read back (after a lost answer, or a crash with the call in flight).
  const bool searched = mapping_->spec().object == mapping::GhlObject::kOpportunities;
  std::vector<const Job*> settling;
  std::vector<const Job*> others;
  for (size_t k = 0; k < still.ops.size(); ++k) {
    (searched && still.ops[k].ghl_id.empty() && !still.ops[k].remove ? settling : others)
        .push_back(still.jobs[k]);
  }
  if (auto r = MarkAttempts(others); !r.ok()) return r.error();
  if (auto r = MarkAttempts(settling, options_.create_settle_ms); !r.ok()) return r.error();
  auto written = ghl_.Apply(still.ops);
  for (size_t k = 0; k < still.slots.size(); ++k) answers[still.slots[k]] = std::move(written[k]);

  return store_.Transaction([&]() -> Result<void> {
    for (auto& [job, why] : broken) {
      if (why.empty()) {
        if (auto r = ReadAgainLater(*job); !r.ok()) return r;
      } else if (auto r = store_.DeadLetterJob(*job, why, "", "", NowMs()); !r.ok()) {
        return r;
      }
    }
    for (size_t i = 0; i < sent.size(); ++i) {
      const WriteAnswer& a = answers[i];
      const Job& job = *sent[i];
      const ParsedPayload& p = payloads[i];
      if (seen[i] != Seen::kWrite && seen[i] != Seen::kUnknown) {
        if (seen[i] == Seen::kOvertaken) {
          spdlog::info(
              "sync {}: GHL {} {} changed after this write was decided (a restart or a "
              "failed attempt came in between); it is not written over: that later change flows "
              "to the other side",
              name(), RecordKey(mapping_->spec().object), found[i]);
        }
        if (seen[i] == Seen::kDone && writes[i].ghl_id.empty()) {
          spdlog::info(
              "sync {}: GHL {} {} was made by an earlier attempt whose answer was lost; "
              "recorded, not created again",
              name(), RecordKey(mapping_->spec().object), found[i]);
        }
        if (seen[i] == Seen::kExisting) {
          spdlog::info(
              "sync {}: GHL has {} {} already (same {}); linked to it instead of creating one: "
              "the next pass merges both sides, and a field they disagree on is a conflict",
              name(), RecordKey(mapping_->spec().object), found[i],
              mapping_->spec().object == mapping::GhlObject::kContacts ? "email or phone"
                                                                       : "fields");
        }
        // Done or overtaken: what the job writes is the base. The target's current version
        // is not taken as ours (it may include someone's later change to other fields):
        // both sides are read again and merged. Gone or someone else's: no base.
        const bool ours = seen[i] == Seen::kDone || seen[i] == Seen::kOvertaken;
        if (auto r = ReadAgainLater(job, found[i], ours ? &p.canonical : nullptr); !r.ok()) {
          return r;
        }
        continue;
      }
      // A create found again only through the lagging search is not retried too soon.
      const int64_t settle_ms =
          searched && writes[i].ghl_id.empty() ? options_.create_settle_ms : 0;
      auto r = Settle(
          job, FromGhl(a.outcome), a.error, a.body, a.trace_id,
          [&](Link& l) -> Result<void> {
            if (job.op == "delete") {
              l.deleted = true;
              return Ok();
            }
            if (job.op == "tag") return Ok();
            if (!l.ghl_id && !a.id.empty()) {
              auto other = LinkedElsewhere(Target::kGhl, a.id, l.id);
              if (!other.ok()) return other.error();
              if (other->has_value()) {
                return Error{
                    fmt::format("GHL matched this record to {} {}, which is already linked to "
                                "external key {}; two external rows share an email or phone",
                                RecordKey(mapping_->spec().object), a.id,
                                (**other).ext_key.value_or("(none)"))};
              }
              l.ghl_id = a.id;
            }
            for (const auto& [field, value] : p.canonical) l.base[field] = value;
            // The version GHL answered is ours, unless the answer shows a field we did
            // not write that differs from the base: someone changed the record between
            // the decision and the write. Then the record is read again (its version
            // unknown: a webhook reads it from GHL too) and that change flows.
            if (!a.date_updated.empty()) l.ghl_version = a.date_updated;
            if (!writes[i].ghl_id.empty() && a.record) {
              for (const auto& [field, value] : a.record->fields) {
                if (p.canonical.count(field) > 0 ||
                    std::find(a.record->unknown.begin(), a.record->unknown.end(), field) !=
                        a.record->unknown.end()) {
                  continue;
                }
                auto b = l.base.find(field);
                if (b != l.base.end() && !mapping::Equal(b->second, value)) {
                  l.ghl_version.clear();
                  break;
                }
              }
            }
            RememberWrite(l.id, p.canonical, a.date_updated);
            if (a.matched_existing) {
              // Created there between the lookup and the create: GHL's upsert wrote over it.
              spdlog::warn(
                  "sync {}: GHL matched this create to contact {}, created there meanwhile; "
                  "the fields written ({}) replaced its values. Both sides are read again",
                  name(), l.ghl_id.value_or(""), FieldNames(p.canonical));
              l.ghl_version.clear();
              l.ext_version.clear();
            }
            return Ok();
          },
          settle_ms, seen[i] != Seen::kUnknown);
      if (!r.ok()) return r;
    }
    return Ok();
  });
}

Result<void> SyncRunner::DispatchExternal(std::vector<Job>& jobs) {
  std::vector<connectors::WriteOp> ops;
  std::vector<ParsedPayload> payloads;
  std::vector<Job*> sent;
  std::vector<Job*> broken;
  std::vector<Job*> outdated;
  for (Job& job : jobs) {
    ParsedPayload p;
    if (!ParsePayload(job.payload, &p) || job.op == "map") {
      broken.push_back(&job);
      continue;
    }
    // A later decision for the row overtook this one. Not for a delete: its link is a
    // tombstone that gets no later decision (and whose version a GHL-side job may have
    // cleared); the connector compares the row's version itself.
    if (!p.expect.empty() && job.op != "delete") {
      auto link = store_.LinkById(job.link_id);
      if (!link.ok()) return link.error();
      if (link->has_value() && Outdated(p, (**link).ext_version)) {
        outdated.push_back(&job);
        continue;
      }
    }
    connectors::WriteOp op;
    op.kind = job.op == "delete" ? connectors::WriteOp::Kind::kDelete
                                 : connectors::WriteOp::Kind::kUpsert;
    op.key = p.key;
    op.fields = p.external;
    // Written only over the row this job was decided on (an update or delete carries its
    // version): a change made since the last scan is never written over.
    if (!p.key.empty()) op.expect_version = p.expect;
    ops.push_back(std::move(op));
    payloads.push_back(std::move(p));
    sent.push_back(&job);
  }

  // Jobs that may have been carried out already: read the row first.
  std::vector<Seen> seen(sent.size(), Seen::kWrite);
  std::vector<connectors::WriteResult> results(sent.size());
  std::vector<std::string> found(sent.size());
  // ---- REST creates whose answer was lost (connectors/rest; Connector::FindCreated) ----
  // Every op carries its job's idempotency key (an API that honours one deduplicates a
  // create sent again). A create attempted before may have made its row with the answer
  // lost, under a key the API assigned (not the op's, which the API may ignore): when the
  // op's own key finds nothing, the connector looks for the row by what it wrote. Found:
  // its key is the op's, so the read-back below compares it and a write updates it instead
  // of making a second row. Not to be told (kRetry, kFatal): settled as such.
  for (size_t i = 0; i < sent.size(); ++i) {
    ops[i].idempotency_key = sent[i]->idempotency_key;
    if (ops[i].kind == connectors::WriteOp::Kind::kDelete || sent[i]->attempts == 0) continue;
    auto link = store_.LinkById(sent[i]->link_id);
    if (!link.ok()) return link.error();
    if (!link->has_value() || (**link).ext_key) continue;  // not a create
    if (!ops[i].key.empty()) {
      auto row = connector_->Get(ops[i].key);
      if (row.ok() && row->has_value()) continue;  // made under the op's key
    }
    connectors::WriteResult made = connector_->FindCreated(ops[i]);
    if (made.outcome != connectors::Outcome::kOk) {
      seen[i] = Seen::kUnknown;
      results[i] = {made.outcome, "an earlier attempt may have created the row: " + made.message};
    } else if (!made.key.empty()) {
      ops[i].key = made.key;
    }
  }
  // ---- end of REST creates whose answer was lost ----
  for (size_t i = 0; i < sent.size(); ++i) {
    if (ops[i].kind == connectors::WriteOp::Kind::kDelete || sent[i]->attempts == 0) continue;
    auto link = store_.LinkById(sent[i]->link_id);
    if (!link.ok()) return link.error();
    if (!link->has_value()) continue;
    const std::string key = (**link).ext_key.value_or(ops[i].key);
    if (key.empty()) continue;  // the connector assigns keys: nothing to look up
    auto row = connector_->Get(key);
    if (!row.ok()) {
      seen[i] = Seen::kUnknown;
      results[i] = {connectors::Outcome::kRetry,
                    "reading the row back before writing it again: " + row.error().message};
    } else if (!row->has_value()) {
      if ((**link).ext_key) seen[i] = Seen::kGone;
    } else {
      auto now = mapping_->ToCanonical((**row).fields);
      if (now.ok()) (void)ResolveReferences(*now.value, /*to_ghl=*/true, (**link).location);
      const auto& p = payloads[i];
      seen[i] = now.ok() ? Compare(*now.value, p.canonical, p.before ? *p.before : (**link).base)
                         : Seen::kOvertaken;
      found[i] = key;
    }
  }
  auto still = StillToWrite(seen, ops, sent);
  if (auto r = MarkAttempts(still.jobs); !r.ok()) return r.error();
  std::vector<connectors::WriteResult> written;
  if (!still.ops.empty()) written = connector_->Write(still.ops);
  written.resize(still.ops.size(), connectors::WriteResult{connectors::Outcome::kRetry,
                                                           "the connector answered fewer results"});
  for (size_t k = 0; k < still.slots.size(); ++k) results[still.slots[k]] = std::move(written[k]);

  return store_.Transaction([&]() -> Result<void> {
    for (Job* job : outdated) {
      if (auto r = ReadAgainLater(*job); !r.ok()) return r;
    }
    for (Job* job : broken) {
      if (job->op == "map") {
        if (auto r = ReadAgainLater(*job); !r.ok()) return r;
      } else if (auto r =
                     store_.DeadLetterJob(*job, "the job's payload is unreadable", "", "", NowMs());
                 !r.ok()) {
        return r;
      }
    }
    for (size_t i = 0; i < sent.size(); ++i) {
      const connectors::WriteResult& w = results[i];
      const Job& job = *sent[i];
      const ParsedPayload& p = payloads[i];
      if (seen[i] != Seen::kWrite && seen[i] != Seen::kUnknown) {
        if (seen[i] == Seen::kOvertaken) {
          spdlog::info(
              "sync {}: {} row {} changed after this write was decided (a restart or a failed "
              "attempt came in between); it is not written over: that later change flows to the "
              "other side",
              name(), connector_->Describe(), found[i]);
        }
        // Done or overtaken: what the job writes is the base. The target's current version
        // is not taken as ours (it may include someone's later change to other fields):
        // both sides are read again and merged.
        const bool overtaken = seen[i] != Seen::kGone;
        if (auto r = ReadAgainLater(job, found[i], overtaken ? &p.canonical : nullptr); !r.ok()) {
          return r;
        }
        continue;
      }
      // A delete whose row is gone already (deleted outside, or by an earlier attempt whose
      // answer was lost) is done: the connectors report a missing row as a conflict with
      // no version.
      const bool gone =
          job.op == "delete" && w.outcome == connectors::Outcome::kConflict && w.version.empty();
      if (w.outcome == connectors::Outcome::kConflict && !gone) {
        if (job.op == "delete") {
          spdlog::warn(
              "sync {}: {} row {} changed after its delete (the GHL record was deleted) was "
              "decided; the row is kept, with that change, and is no longer synced",
              name(), connector_->Describe(), p.key);
        } else {
          spdlog::info(
              "sync {}: {} row {} changed after this write was decided; not written over: both "
              "sides are read again and merged",
              name(), connector_->Describe(), p.key);
        }
        if (counters_.overtaken) counters_.overtaken();
        if (auto r = ReadAgainLater(job, "", nullptr); !r.ok()) return r;
        continue;
      }
      auto r = Settle(
          job, gone ? connectors::Outcome::kOk : w.outcome, gone ? "" : w.message, "", "",
          [&](Link& l) -> Result<void> {
            if (job.op == "delete") {
              l.deleted = true;
              return Ok();
            }
            const std::string key = w.key.empty() ? p.key : w.key;
            if (!l.ext_key && !key.empty()) {
              auto other = LinkedElsewhere(Target::kExternal, key, l.id);
              if (!other.ok()) return other.error();
              if (other->has_value()) {
                return Error{fmt::format("external key {} is already linked to GHL record {}", key,
                                         (**other).ghl_id.value_or("(none)"))};
              }
              l.ext_key = key;
            }
            for (const auto& [field, value] : p.canonical) l.base[field] = value;
            l.ext_version = w.version;
            return Ok();
          },
          0, seen[i] != Seen::kUnknown);
      if (!r.ok()) return r;
    }
    return Ok();
  });
}

Result<int> SyncRunner::Dispatch(Lane max_lane) {
  auto due = store_.DueJobs(name(), NowMs(), options_.dispatch_batch, static_cast<int>(max_lane));
  if (!due.ok()) return due.error();
  std::vector<Job> ghl_jobs;
  std::vector<Job> ext_jobs;
  for (Job& job : due.value()) {
    (job.target == Target::kGhl ? ghl_jobs : ext_jobs).push_back(std::move(job));
  }
  if (!ghl_jobs.empty()) {
    if (auto r = DispatchGhl(ghl_jobs); !r.ok()) return r.error();
  }
  if (!ext_jobs.empty()) {
    if (auto r = DispatchExternal(ext_jobs); !r.ok()) return r.error();
  }
  return static_cast<int>(ghl_jobs.size() + ext_jobs.size());
}

}  // namespace ghl::sync
