// A seeded, deterministic, in-process simulation of a two-way contacts sync, judged by an
// oracle (STYLE.md "Testing that a sync is right").
//
// What runs for real: SyncRunner (RunPass, OnGhlRecord, Dispatch), SyncStore on a SQLite
// state file in a temp dir, the mapping, and ghl-emulator's API handlers (in process, through
// Emulator::HandleNow), all on one FakeClock. What is simulated, from the seed:
//   - the GHL transport (sync::GhlGateway): 5xx, 429 with Retry-After, transport errors,
//     "applied, then the answer lost", and a crash right after a write was applied;
//   - webhooks, captured from the emulator and handed to SyncRunner::OnGhlRecord as the
//     engine's inbox does (a failed one is tried again with `retried`): dropped, duplicated,
//     delayed and reordered;
//   - GHL's search lag (EmulatorOptions::search_lag_ms, 0 to 3 s per seed);
//   - the external system: an in-memory connectors::Connector with CAS versions, either
//     "keys chosen by the writer" (CSV, SQL) or "the server assigns keys" (REST), with writes
//     refused retryably, applied then the answer lost, and a crash after applying;
//   - crashes: the runner and its state-store connection are thrown away and built again on
//     the same state file (the echo ledger and everything else in memory is lost);
//   - users: edits, creates and deletes on both sides, in rounds.
//
// The workload and the oracle's rules (what "right" means):
//   Records are people with a unique email (the match key, never edited) and three synced
//   text fields (firstName, lastName, city) drawn from small pools, so that values repeat and
//   reverts happen. Round 0 places them: on GHL only, outside only, on both with equal
//   values, on both with some fields different. Each later round is a few gaps; in each gap
//   users edit, then the daemon takes 1-3 random steps (a pass, a dispatch, webhook
//   deliveries, a crash) with faults on. Within one round each field of each record is
//   edited
//     - not at all, or
//     - on ONE side only (one or two edits): that side's last value must win, or
//     - on BOTH sides in the same gap, with no daemon step between them: a conflict. The
//       winner follows the policy (ghl_wins, external_wins, owner per field); for `newest`
//       either value is accepted, but both sides must agree. Two different values must be
//       recorded in the store's conflicts table (link, field); equal values are not a
//       conflict.
//   A record created, deleted or bulk-deleted in a round gets no other edit in it. Records
//   on both sides with different values before the first pass are conflicts of round 0.
//   A delete on one side: `propagate` removes the other side too; `ignore` keeps it as it
//   was; `soft` tags the GHL contact (tag "deleted") or flags the row (deleted = "true").
//   A bulk delete (4 or more records in one gap, more than the guard's max_count of 3) must
//   delete nothing on the other side, whatever the policy (the mass-delete guard); it
//   happens only in the last round. Regular deletes are kept under the guard (at most one
//   per side per round, with at least 8 linked records).
//   Each round ends with a settle: faults off, pending webhooks delivered, passes and
//   dispatches (the clock moved past any backoff) until two rounds in a row change nothing.
//   Then the oracle checks:
//     converge    every field of every record holds its expected value on both sides
//     presence    a record is on each side exactly when expected (deletes, soft deletes)
//     duplicate   no email twice on either side; no record neither side should hold
//     conflict    every conflict of the round is in the conflicts table
//     echo        no write changed nothing (counted in both models)
//     dead_letter the dead-letter queue is empty (a write given up is a write lost)
//     settle      the settle ends (no endless writing) and its passes do not fail
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ghl::sim {

struct SimOptions {
  uint64_t seed = 1;
  // Size; -1: chosen from the seed. Shrinking lowers them.
  int records = -1;
  int rounds = -1;
  bool faults = true;  // transport faults on both sides
  bool webhook_faults = true;
  bool crashes = true;
  // Records on both sides before they are linked (round 0 and creates on both sides at once:
  // first-time matching by email). Off masks that whole class of bugs to see the others.
  bool unlinked_pairs = true;
  bool verbose = false;  // log every step (and spdlog at debug) to stderr
};

struct SimResult {
  bool ok = true;
  std::string check;                 // the first violated check ("converge", "echo", ...)
  std::string details;               // what was wrong
  std::string setup;                 // policy, connector mode, lag, sizes
  std::vector<std::string> history;  // the edits, faults and steps, in order
  int64_t edits = 0;                 // user edits simulated
  int64_t steps = 0;                 // daemon steps taken
};

SimResult RunSeed(const SimOptions& options);

// Runs `options`; on failure retries with fewer rounds, records and fault kinds while it
// still fails, and returns the smallest failing run (and the first, in `first`).
struct Shrunk {
  SimResult first;
  SimResult smallest;
  SimOptions smallest_options;
};
Shrunk RunAndShrink(const SimOptions& options);

// The failure as a report: seed, setup, check, details, history (at most `max_lines`).
std::string Describe(const SimOptions& options, const SimResult& result, size_t max_lines = 300);

}  // namespace ghl::sim
