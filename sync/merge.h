// The three-way merge, field by field (DESIGN.md "Sync semantics"). Pure: values in,
// decision out; no IO, no clock.
//
// For each field the sync maps, with B the base (canonical value as last synced), G the
// GHL side's current canonical value and E the external side's current value mapped to
// canonical:
//   G == B, E == B           nothing to do
//   G == B, E != B           E flows to GHL (if the field flows to_ghl), base := E
//   G != B, E == B           G flows to external (if the field flows from_ghl), base := G
//   G != B, E != B, G == E   both made the same change: nothing to write, base := G
//   G != B, E != B, G != E   conflict: settled by the policy, recorded
// A side that is absent (record not present there: first sync) counts as "changed from
// nothing": with no base, every non-null field of the present side flows to the other.
// A field whose direction forbids the flow is left alone (and not counted as a conflict;
// with direction to_ghl the external side is the truth, with from_ghl GHL is).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mapping/mapping.h"
#include "mapping/value.h"

namespace ghl::sync {

using mapping::Fields;
using mapping::Side;
using mapping::Value;

struct FieldRule {
  std::string name;  // canonical name
  mapping::Direction direction = mapping::Direction::kBoth;
  std::optional<Side> owner;  // for ConflictPolicy::kOwner
};

struct MergeInput {
  std::vector<FieldRule> fields;
  mapping::ConflictPolicy policy = mapping::ConflictPolicy::kNewest;
  const Fields* base = nullptr;      // null: never synced (first-time link or create)
  const Fields* ghl = nullptr;       // null: absent on GHL
  const Fields* external = nullptr;  // null: absent on the external side
  // The sides' own last-modified times (Unix ms; 0 unknown), for ConflictPolicy::kNewest.
  // On a tie or when either is unknown, GHL wins (GHL is the system of record for people).
  int64_t ghl_updated_ms = 0;
  int64_t external_updated_ms = 0;
};

struct Conflict {
  std::string field;
  Value base, ghl, external;
  std::string rule;  // "ghl_wins", "external_wins", "newest", "owner"
  Side winner = Side::kGhl;
};

struct MergeResult {
  Fields to_ghl;       // fields to write to GHL (canonical)
  Fields to_external;  // fields to write to the external side (canonical; map before writing)
  Fields new_base;     // the base once both writes have succeeded: every mapped field
  std::vector<Conflict> conflicts;
  bool changed() const { return !to_ghl.empty() || !to_external.empty(); }
};

MergeResult Merge(const MergeInput& in);

// The FieldRules of a mapping, in its field order.
std::vector<FieldRule> RulesOf(const mapping::SyncSpec& spec);

}  // namespace ghl::sync
