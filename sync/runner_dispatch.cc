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

}  // namespace

Result<void> SyncRunner::Settle(const Job& job, connectors::Outcome outcome,
                                const std::string& error, const std::string& body,
                                const std::string& trace_id,
                                const std::function<Result<void>(Link&)>& on_ok) {
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
    if (auto saved = store_.SaveLink(l); !saved.ok()) {
      return store_.DeadLetterJob(job, "recording the result failed: " + saved.error().message,
                                  body, trace_id, now);
    }
    if (auto done = store_.Complete(job.id, job.idempotency_key); !done.ok()) return done.error();
    if (counters_.synced) {
      counters_.synced(job.target == Target::kGhl ? "to_ghl" : "to_external", action);
    }
    return Ok();
  }
  if (outcome == connectors::Outcome::kRetry) {
    const int attempts = job.attempts + 1;
    if (attempts == 1 || attempts % 10 == 0) {
      spdlog::warn("sync {}: {} write for link {} failed (attempt {}), retrying: {}", name(),
                   ToString(job.target), job.link_id, attempts, error);
    }
    return store_.Reschedule(job.id, job.idempotency_key, attempts, now + Backoff(attempts), error);
  }
  spdlog::error(
      "sync {}: {} write for link {} refused: {}; sent to the dead-letter queue "
      "(ghl-syncd dlq show)",
      name(), ToString(job.target), job.link_id, error);
  if (counters_.dead_letter) counters_.dead_letter();
  return store_.DeadLetterJob(job, error, body, trace_id, now);
}

Result<void> SyncRunner::ReadAgainLater(const Job& job) {
  auto link = store_.LinkById(job.link_id);
  if (!link.ok()) return link.error();
  if (link->has_value()) {
    Link l = **link;
    l.ext_version.clear();  // both sides look changed on the next pass
    l.ghl_version.clear();
    if (auto r = store_.SaveLink(l); !r.ok()) return r.error();
  }
  auto done = store_.Complete(job.id, job.idempotency_key);
  return done.ok() ? Ok() : Result<void>(done.error());
}

Result<void> SyncRunner::DispatchGhl(std::vector<Job>& jobs) {
  std::vector<GhlSide::Write> writes;
  std::vector<ParsedPayload> payloads;
  std::vector<Job*> sent;
  std::vector<std::pair<Job*, std::string>> broken;
  for (Job& job : jobs) {
    ParsedPayload p;
    auto link = store_.LinkById(job.link_id);
    if (!link.ok()) return link.error();
    if (!ParsePayload(job.payload, &p) || !link->has_value()) {
      broken.push_back({&job, "the job's payload or link is unreadable"});
      continue;
    }
    if (job.op == "map") {
      // A replayed mapping failure: read both sides again on the next pass.
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
  }
  auto answers = ghl_.Apply(writes);
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
      auto r = Settle(
          job, FromGhl(a.outcome), a.error, a.body, a.trace_id, [&](Link& l) -> Result<void> {
            if (job.op == "delete") {
              l.deleted = true;
              return Ok();
            }
            if (job.op == "tag") return Ok();
            if (!l.ghl_id && !a.id.empty()) {
              auto other = store_.LinkByGhlId(name(), a.id);
              if (!other.ok()) return other.error();
              if (other->has_value() && (**other).id != l.id) {
                return Error{
                    fmt::format("GHL matched this record to {} {}, which is already linked to "
                                "external key {}; two external rows share an email or phone",
                                RecordKey(mapping_->spec().object), a.id,
                                (**other).ext_key.value_or("(none)"))};
              }
              l.ghl_id = a.id;
            }
            for (const auto& [field, value] : p.canonical) l.base[field] = value;
            if (!a.date_updated.empty()) l.ghl_version = a.date_updated;
            RememberWrite(l.id, p.canonical);
            return Ok();
          });
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
  for (Job& job : jobs) {
    ParsedPayload p;
    if (!ParsePayload(job.payload, &p) || job.op == "map") {
      broken.push_back(&job);
      continue;
    }
    connectors::WriteOp op;
    op.kind = job.op == "delete" ? connectors::WriteOp::Kind::kDelete
                                 : connectors::WriteOp::Kind::kUpsert;
    op.key = p.key;
    op.fields = p.external;
    ops.push_back(std::move(op));
    payloads.push_back(std::move(p));
    sent.push_back(&job);
  }
  std::vector<connectors::WriteResult> results;
  if (!ops.empty()) results = connector_->Write(ops);
  results.resize(ops.size(), connectors::WriteResult{connectors::Outcome::kRetry,
                                                     "the connector answered fewer results"});
  return store_.Transaction([&]() -> Result<void> {
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
      auto r = Settle(job, w.outcome, w.message, "", "", [&](Link& l) -> Result<void> {
        if (job.op == "delete") {
          l.deleted = true;
          return Ok();
        }
        const std::string key = w.key.empty() ? p.key : w.key;
        if (!l.ext_key && !key.empty()) {
          auto other = store_.LinkByExtKey(name(), key);
          if (!other.ok()) return other.error();
          if (other->has_value() && (**other).id != l.id) {
            return Error{fmt::format("external key {} is already linked to GHL record {}", key,
                                     (**other).ghl_id.value_or("(none)"))};
          }
          l.ext_key = key;
        }
        for (const auto& [field, value] : p.canonical) l.base[field] = value;
        l.ext_version = w.version;
        return Ok();
      });
      if (!r.ok()) return r;
    }
    return Ok();
  });
}

Result<int> SyncRunner::Dispatch() {
  auto due = store_.DueJobs(name(), NowMs(), options_.dispatch_batch);
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
