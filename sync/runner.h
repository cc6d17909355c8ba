// SyncRunner: one sync (one mapping file) at work. It finds changes on both sides, decides
// with the three-way merge, commits "links + base + outbox jobs + cursors" in one SQLite
// transaction, and dispatches the outbox to GHL and the connector.
//
//   RunPass      poll GHL by dateUpdated (all on the first pass: the backfill) and scan the
//                connector; link, merge and enqueue; advance the cursors only after the
//                decisions are committed. With dry_run, nothing is written: the decisions
//                are returned (`ghl-syncd plan`).
//   OnGhlRecord  one GHL change from a webhook, decided on the real-time lane; `also` runs
//                inside the same transaction (the inbox row is marked done there).
//   Dispatch     runs due outbox jobs; success moves the written values into the base,
//                a retryable failure reschedules with exponential backoff and jitter, a
//                permanent one moves the job to the dead-letter queue. A job attempted
//                before (perhaps carried out, then a crash) is checked against its target
//                first: a write already there is recorded, not repeated, and a target that
//                changed since is not written over (that later change flows instead).
//
// Echo suppression: a write's values become the base when it succeeds, so its echo
// compares equal. A short-lived ledger of values written to GHL absorbs stale echoes (a
// delayed webhook of an earlier write), and a polled record older than the dateUpdated of
// our last write to it is ignored (GHL's search index lags).
//
// Thread-safety: the engine's worker thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "core/clock.h"
#include "mapping/mapping.h"
#include "sync/decide.h"
#include "sync/echo_ledger.h"
#include "sync/ghl_side.h"
#include "sync/merge.h"
#include "sync/store.h"

namespace ghl::sync {

struct RunnerOptions {
  int64_t poll_overlap_ms = 30'000;  // re-read this much before the cursor (search lag)
  // On a quiet location the cursor moves up to this long before the poll began: our clock
  // may run ahead of GHL's by up to this much without a change being missed.
  int64_t poll_skew_ms = 60'000;
  int scan_page = 1000;     // connector rows per page
  int chunk = 200;          // decisions per transaction
  int dispatch_batch = 64;  // jobs per dispatch round
  int64_t backoff_base_ms = 1'000;
  int64_t backoff_max_ms = 600'000;
  int64_t echo_ttl_ms = 600'000;
  // A create that GHL finds only through its search (opportunities) is read back no sooner
  // than this after an attempt that may have made it (the search lags): an earlier read
  // would miss it and create it twice.
  int64_t create_settle_ms = 15'000;
  uint64_t seed = 0;  // of the backoff jitter; 0: from std::random_device (a replay sets it)
};

// Decision (one decided action, for `plan`, logs and counters): sync/decide.h.
const char* ToString(Decision::Action a);

struct PassReport {
  int64_t examined = 0;
  int64_t unchanged = 0;
  int64_t ghl_writes = 0;       // jobs for GHL (creates, updates, deletes)
  int64_t ghl_lookups = 0;      // calls those jobs make first (a contact create's lookup)
  int64_t external_writes = 0;  // jobs for the connector
  int64_t conflicts = 0;
  int64_t errors = 0;     // records that could not be mapped or matched (in the DLQ)
  int64_t poll_only = 0;  // GHL changes found by polling that no webhook brought
  int64_t rejected = 0;   // connector rows it could not read
  int64_t api_reads = 0;  // GHL calls the pass made to read
  int64_t waiting = 0;    // records whose reference is not linked yet
  int64_t unpolled = 0;   // locations whose poll failed (the pass went on without them)
  int64_t unserved = 0;   // records of locations this sync no longer serves (skipped)
  bool delete_guard_tripped = false;
  int64_t deletes_held = 0;         // deletes the mass-delete guard held (SyncStore::HoldDelete)
  std::vector<Decision> decisions;  // dry runs only
};

// Counters the runner reports; the engine binds them to Prometheus.
struct RunnerCounters {
  std::function<void(const char* direction, const char* action)> synced;
  std::function<void()> conflict;
  std::function<void()> echo;
  std::function<void()> poll_only;
  std::function<void()> overtaken;  // a write not made: its row changed since (kConflict)
  std::function<void()> dead_letter;
  std::function<void()> delete_guard;
};

class SyncRunner {
 public:
  SyncRunner(std::shared_ptr<const mapping::Mapping> mapping,
             std::unique_ptr<connectors::Connector> connector, GhlGateway& gateway,
             std::vector<std::string> locations, SyncStore& store, const Clock& clock,
             RunnerOptions options = {}, RunnerCounters counters = {});

  const std::string& name() const { return mapping_->spec().name; }
  const mapping::Mapping& mapping() const { return *mapping_; }
  connectors::Connector& connector() { return *connector_; }
  const std::vector<std::string>& locations() const { return locations_; }
  bool Serves(const std::string& location_id, mapping::GhlObject object) const;

  Result<PassReport> RunPass(bool dry_run);
  // `event_time`: the webhook's timestamp (ISO), standing in for the record's dateUpdated
  // that webhook payloads lack, so that a lagging poll cannot undo what it brought.
  // `retried`: the webhook was tried before (state::InboxRow::tried); a record it names
  // that is not linked is then read from GHL, and nothing is done when GHL no longer has it.
  Result<void> OnGhlRecord(const std::string& location_id, const rapidjson::Value& record,
                           bool deleted, const std::string& event_time, bool retried,
                           const std::function<Result<void>()>& also);
  // `max_lane`: only jobs of this lane or a more urgent one (Lane::kRealtime: a webhook's).
  Result<int> Dispatch(ghl_client::Lane max_lane = ghl_client::Lane::kBackfill);

  // Called by a pass between its steps (scan pages, every few hundred decisions, commit
  // batches), outside any transaction: the engine runs the webhook inbox and dispatches
  // real-time writes there, so a webhook's change does not wait for a long pass. Whatever
  // it saves while the pass is open, the pass does not write over: the pass saves a link
  // only when its revision is still the one it read (SyncStore::SaveLinkIfUnchanged), and
  // does not take a link saved meanwhile as deleted at the source; those links are read
  // again on the next pass, which also keeps its cursors.
  void SetYield(std::function<void()> yield) { yield_ = std::move(yield); }

 private:
  struct Item;
  struct Outcome;
  Result<void> Collect(std::vector<Item>& items, PassReport& report, bool& complete,
                       std::string& ext_cursor, std::map<std::string, std::string>& ghl_cursors);
  Result<void> FillMissing(std::vector<Item>& items, PassReport& report, ghl_client::Lane lane,
                           bool complete);
  // The resolve stage (the decider's inputs, read from the store, GHL and the clock), the
  // pure decider (sync/decide.h), then its log lines and counters.
  Outcome Decide(Item& item, ghl_client::Lane lane);
  DecideInput Resolve(const Item& item, ghl_client::Lane lane);
  // The reference values of the GHL record (and of the link's base where they differ: a
  // stale record takes the base), resolved for the way out (ResolveReferences, to_ghl false).
  std::vector<OutgoingRef> ResolveOutgoing(const GhlSeen& ghl, const Link* link,
                                           const std::string& location);
  // Turns the reference fields of `fields` (mapping references:) from the external keys of
  // the other sync's records into their GHL ids (to_ghl), or back; `by: name` ones from
  // the names GHL has in `location` into ids, or back. Returns why a record must wait (""
  // when every reference resolved); a read error is an Error. A name or id GHL does not
  // have goes to `invalid` (when given; the value is left as it was).
  Result<std::string> ResolveReferences(mapping::Fields& fields, bool to_ghl,
                                        const std::string& location,
                                        std::vector<mapping::MapError>* invalid = nullptr);
  // `missed`: set when a link was saved by someone else since it was read (the outcome is
  // dropped, the link read again on the next pass). Passes yield between batches.
  Result<void> Commit(std::vector<Outcome>& outcomes, const std::function<Result<void>()>& also,
                      bool* missed = nullptr);
  // The mass-delete guard (sync/delete_guard.h) over `outcomes`, from a pass or a webhook
  // (`source`). Outcomes of links with a held delete (`held`, by link id) are taken out:
  // one that deletes again leaves it held (noting a change of the record it would delete),
  // any other cancels it (the deleted record is back). The deletes left are weighed with
  // those of the window, measured against `linked` links (counted now when not given);
  // past the limits they are taken out and held. Returns what the commit writes with them.
  struct GuardWrites {
    std::vector<HeldDelete> hold;
    std::vector<int64_t> changed;  // links whose held delete's record changed since
    std::vector<int64_t> cancel;   // links whose held delete is moot
    int64_t made = 0;              // deletes let through
  };
  Result<GuardWrites> ApplyGuard(std::vector<Outcome>& outcomes, PassReport& report,
                                 const std::map<int64_t, HeldDelete>& held, const char* source,
                                 bool dry_run, std::optional<int64_t> linked = std::nullopt);
  Result<void> WriteGuard(const GuardWrites& writes);
  // Loads the held deletes (by link) and takes out the pass's items that bring nothing new
  // for their links; after a complete scan, lists in `back` the held links whose deleted
  // row the scan saw again.
  Result<void> SetAsideHeld(std::vector<Item>& items, bool complete,
                            std::map<int64_t, HeldDelete>& held, std::vector<int64_t>& back);
  // Creates whose result is not recorded yet (see SyncStore::PendingCreates): a record
  // that shows up on that side meanwhile belongs to their link.
  struct Pending {
    std::map<std::string, int64_t> ghl_by_match;  // CreateKeys -> link
    std::map<std::string, int64_t> ext_by_key;    // external key -> link
    std::map<std::string, int64_t> ext_by_match;  // CreateKeys of an external create -> link
  };
  Result<Pending> LoadPending();
  Result<std::optional<Link>> PendingLink(const Pending& pending, const GhlRecord* ghl,
                                          const connectors::Row* ext);
  // The echo ledger (EchoLedger), with the write's GHL dateUpdated (ISO); the decider asks
  // it (EchoLedger::Echoes).
  void RememberWrite(int64_t link_id, const mapping::Fields& written,
                     const std::string& date_updated);
  int64_t Backoff(int attempts);
  Result<void> DispatchGhl(std::vector<Job>& jobs);
  // Completes a job that has nothing to write (a replayed mapping failure, a delete of a
  // record never created, a target changed since the job was decided) and makes the next
  // pass read both sides of its link again. `found`: the GHL id or external key the job's
  // create turned out to have made, recorded on the link. `written`: what the job writes,
  // taken as the base: a target that changed since the job was decided changed after it
  // (our write may have been made before a crash), so its value is the newer one.
  Result<void> ReadAgainLater(const Job& job, const std::string& found = "",
                              const mapping::Fields* written = nullptr);
  // Counts an attempt of each job before its write is sent (SyncStore::MarkAttempt): a
  // job with an earlier attempt may have been carried out already (a crash came between
  // the write and its record, or the answer was lost), so its target is read first.
  // `hold_ms`: the jobs are not due again before this long from now (a crash after the
  // write must not read back too early; see RunnerOptions::create_settle_ms).
  Result<void> MarkAttempts(const std::vector<const Job*>& jobs, int64_t hold_ms = 0);
  Result<void> DispatchExternal(std::vector<Job>& jobs);
  // The link other than `link_id` that already holds `id` (a GHL id or an external key, by
  // `side`) in this sync, if any: recording `id` on `link_id` would link it twice.
  Result<std::optional<Link>> LinkedElsewhere(Target side, const std::string& id, int64_t link_id);
  // `min_retry_ms`: a retry is not due before this long from now. `sent`: false when the
  // write did not go out (its read-back failed first): a retry then does not count as an
  // attempt that may have been made.
  Result<void> Settle(const Job& job, connectors::Outcome outcome, const std::string& error,
                      const std::string& body, const std::string& trace_id,
                      const std::function<Result<void>(Link&)>& on_ok, int64_t min_retry_ms = 0,
                      bool sent = true);
  // The audit row of a write that succeeded (inside Settle's transaction).
  Result<void> RecordAudit(const Job& job, const Link& link, const char* action,
                           const std::string& trace_id, int64_t now);
  int64_t NowMs() const;

  std::shared_ptr<const mapping::Mapping> mapping_;
  std::unique_ptr<connectors::Connector> connector_;
  GhlSide ghl_;
  std::vector<std::string> locations_;
  SyncStore& store_;
  const Clock& clock_;
  RunnerOptions options_;
  RunnerCounters counters_;
  std::vector<FieldRule> rules_;
  EchoLedger ledger_;
  std::function<void()> yield_;
  bool yielding_ = false;
  bool passing_ = false;  // a pass (not a dry run) is open: Yield calls yield_
  // Links saved by the yield while a pass is open (SetYield).
  std::set<int64_t> saved_while_passing_;
  void Yield();
  // store_.SaveLink, noting links saved while a pass yields.
  Result<int64_t> SaveLink(const Link& link);
  std::mt19937_64 rng_;
};

}  // namespace ghl::sync
