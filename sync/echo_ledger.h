// EchoLedger: what the daemon wrote to GHL lately, to tell a stale echo of its own write
// from someone's change. Pure: no IO, no clock (times are arguments), bounded.
//
// After a write succeeds its values become the base, so its own echo compares equal. A
// stale echo is one of an earlier write that arrives after a later one (two quick writes,
// then the delayed webhook of the first): it differs from the base but equals a value we
// wrote. It is suppressed only when the record it came with is not newer than our latest
// write to that record (its dateUpdated at most the dateUpdated GHL answered for that
// write). A record updated after our latest write is someone's change, even when a value
// equals one we wrote before (a user setting a field back): that flows.
//
// Entries expire after `ttl_ms`; at most `max_per_record` are kept per record and
// `max_entries` in all (the oldest go first), so a backfill of a million writes keeps at
// most `max_entries`.
//
// Thread-safety: none; the owning runner's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "mapping/value.h"

namespace ghl::sync {

class EchoLedger {
 public:
  struct Limits {
    int64_t ttl_ms = 600'000;
    size_t max_per_record = 8;
    size_t max_entries = 100'000;
  };
  EchoLedger() : EchoLedger(Limits{}) {}
  explicit EchoLedger(Limits limits) : limits_(limits) {}

  // Remembers a write of `fields` to the record of link `link_id`, made at `now_ms`; GHL
  // answered `date_updated_ms` for it (nullopt when it did not say).
  void Remember(int64_t link_id, const mapping::Fields& fields, int64_t now_ms,
                std::optional<int64_t> date_updated_ms);

  // Replaces each value of `ghl` that differs from `base` but equals a value written to
  // the record lately with its base value, unless the record (updated at `record_updated_ms`,
  // nullopt when unknown) is newer than our latest write. Returns whether it replaced any.
  bool Suppress(int64_t link_id, const mapping::Fields& base, mapping::Fields& ghl,
                std::optional<int64_t> record_updated_ms, int64_t now_ms);

  // The same question, asked without changing the ledger: the fields of `ghl` that
  // Suppress would replace, each with the base value it would put there (empty: none).
  // Entries older than the ttl at `now_ms` count as gone, as Suppress would drop them.
  mapping::Fields Echoes(int64_t link_id, const mapping::Fields& base, const mapping::Fields& ghl,
                         std::optional<int64_t> record_updated_ms, int64_t now_ms) const;

  size_t size() const { return order_.size(); }

 private:
  struct Entry {
    uint64_t seq;
    int64_t at_ms;
    std::optional<int64_t> date_updated_ms;
    mapping::Fields fields;
  };
  void Expire(int64_t now_ms);
  void DropOldest();

  Limits limits_;
  std::map<int64_t, std::deque<Entry>> by_link_;
  struct Ref {
    int64_t at_ms;
    int64_t link_id;
    uint64_t seq;
  };
  std::deque<Ref> order_;  // every entry, oldest first
  uint64_t next_seq_ = 0;
};

}  // namespace ghl::sync
