// The decision core (DESIGN.md "Stages in code": decide): one record, both sides as the
// resolve stage found them, turned into the link to save, the outbox jobs, conflicts,
// dead letters and the decisions `plan` shows. Pure: no store, no GHL, no connector, no
// clock, no logging; every input is a value (the time is `now_ms`) and the echo ledger is
// only asked. Deciding twice on the same input gives the same output.
//
// The rules, in order:
//   - a link that is a tombstone decides nothing;
//   - a delete on one side (the GHL record, or the external row, deleted or soft-deleted)
//     is carried to the other per the sync's `deletes:` (propagate: a delete; soft: the tag
//     in GHL, the flag column outside; ignore: nothing) and its direction; the link
//     becomes a tombstone either way;
//   - an external row that could not be mapped goes to the dead-letter queue; one whose
//     reference is not linked yet waits (nothing is decided, it is read again);
//   - a GHL record older than what the link knows (Link::ghl_version) brings nothing new;
//     values a fresh one holds that are stale echoes of our writes (EchoLedger) count as
//     unchanged;
//   - a link with one side only that now sees the other found it through a create whose
//     result was not recorded: the create's values are the base on that side;
//   - the three-way merge (sync/merge.h) decides per field; its writes become jobs for the
//     sides the sync's direction allows. The outgoing references of what goes outside are
//     the resolve stage's answers (DecideInput::outgoing): one not linked yet makes the
//     record wait, a GHL id without a name sends it to the dead-letter queue.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/ghl/rate_limiter.h"
#include "mapping/mapping.h"
#include "mapping/value.h"
#include "sync/echo_ledger.h"
#include "sync/merge.h"
#include "sync/store.h"

namespace ghl::sync {

// One decided action, for `plan`, logs and counters.
struct Decision {
  enum class Action { kCreate, kUpdate, kDelete, kConflict, kLink, kSkip, kError };
  Action action = Action::kSkip;
  std::string target;  // "ghl" | "external" | "" (both / none)
  std::string ghl_id;
  std::string ext_key;
  // field -> {before, after} (canonical)
  std::map<std::string, std::pair<mapping::Value, mapping::Value>> diff;
  std::string note;
};

// The GHL record as it was read (a poll or a webhook).
struct GhlSeen {
  std::string id;
  std::string date_updated;           // ISO 8601 as GHL sent it; "" when unknown
  std::optional<int64_t> updated_ms;  // date_updated parsed (ParseIsoMs); nullopt unknown
  Fields fields;                      // canonical
};

// The external row as it was read, mapped to canonical by the resolve stage.
struct ExtSeen {
  std::string key;
  std::string version;     // connectors::Row::version
  bool deleted = false;    // soft-deleted in the source (connectors::Row::deleted)
  int64_t updated_ms = 0;  // when it changed, where the source knows; 0 unknown
  Fields row;              // the columns as read (what a dead letter keeps)
  // The row mapped to canonical, its references turned into GHL ids; nullopt when the
  // mapping failed. Not needed (nor filled) when the row or its GHL record is deleted.
  std::optional<Fields> canonical;
  std::vector<mapping::MapError> errors;  // mapping errors, references GHL does not have
  std::string wait;  // why a reference cannot be resolved yet ("" when all were)
};

// One value of a reference field (mapping `references:`) of the GHL side, resolved for the
// way out: a GHL id turned into the other sync's external key, or into its name in GHL.
struct OutgoingRef {
  std::string field;    // ReferenceSpec::ghl
  mapping::Value from;  // the GHL id (as the record or the link's base holds it)
  mapping::Value to;    // what goes outside, when resolved
  std::string wait;     // not linked yet, or reading it failed: the record waits
  std::string unnamed;  // GHL has no name for it: a mapping error
};

struct DecideInput {
  // REQUIRES: set. Its spec (direction, conflict, deletes, key, name) and ToExternal.
  const mapping::Mapping* mapping = nullptr;
  const std::vector<FieldRule>* rules = nullptr;  // REQUIRES: set; RulesOf(spec)
  std::string location;
  std::optional<Link> link;                // nullopt: neither side linked yet
  std::optional<int64_t> link_version_ms;  // link->ghl_version parsed; nullopt unknown
  std::optional<GhlSeen> ghl;
  bool ghl_deleted = false;
  std::optional<ExtSeen> ext;
  bool ext_deleted = false;  // the row is gone from the source
  // The reference values of the GHL record (and of the link's base where it differs), in
  // the order the resolve stage resolved them. A reference value that would go outside
  // without an entry here makes the record wait.
  std::vector<OutgoingRef> outgoing;
  // The canonical fields of the create still pending for the side the link lacks (the
  // outbox's upsert job); nullopt when there is none.
  std::optional<Fields> pending_create;
  // The link has one side only and now sees the other, while its create there was never
  // sent (no attempt): that record is not ours but was there before. It is merged as a
  // first link (no base), and the create must not go out (Decided::cancel_pending).
  bool pending_unsent = false;
  const EchoLedger* ledger = nullptr;  // nullptr: no write remembered
  ghl_client::Lane lane = ghl_client::Lane::kReconcile;
  int64_t now_ms = 0;
  std::string ext_source;  // the connector, for messages (Connector::Describe)
};

// A line the caller logs (the decider does not log).
struct DecideLog {
  enum class Level { kInfo, kWarn };
  Level level = Level::kInfo;
  std::string text;  // without the "sync <name>: " prefix
};

struct Decided {
  Link link;
  bool save = false;
  std::vector<Job> jobs;  // target, op, payload (JobPayload) and lane; no ids yet
  std::vector<ConflictRecord> conflicts;
  std::vector<std::pair<Job, std::string>> dead_letters;  // job shape + error
  std::vector<Decision> decisions;
  int deletes = 0;
  // Set when a reference is not linked yet: nothing else is decided, the record is read
  // again on the next pass.
  std::string wait;
  bool echo_suppressed = false;  // the ledger took values of the GHL record as echoes
  // A create never sent that is to be dropped (DecideInput::pending_unsent) unless a job of
  // this decision for the same side replaces it.
  std::optional<Target> cancel_pending;
  std::vector<DecideLog> logs;
};

Decided Decide(const DecideInput& in);

// An outbox job's payload (parsed by runner_internal::ParsePayload). `expect`: the target's
// version (Link::ghl_version / ext_version) the job was decided on. When a later pass has
// seen the target change, the job is out of date: it is not written, the link is read
// again. `before`: the target's values of the written fields when the job was decided, to
// tell a target changed since from one that already holds the write (SyncRunner::Dispatch).
// `rule`: why the job was decided, for the audit trail ("changed in GHL", "conflict:
// newest", ...; payloads written before it have none).
std::string JobPayload(const Fields& canonical, const Fields* external = nullptr,
                       const std::string& key = "", const std::string& expect = "",
                       const Fields* before = nullptr, const std::string& rule = "");

}  // namespace ghl::sync
