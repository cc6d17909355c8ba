#include "sync/echo_ledger.h"

#include <algorithm>
#include <vector>

namespace ghl::sync {

void EchoLedger::DropOldest() {
  const Ref ref = order_.front();
  order_.pop_front();
  auto it = by_link_.find(ref.link_id);
  if (it == by_link_.end()) return;
  auto& entries = it->second;
  if (!entries.empty() && entries.front().seq == ref.seq) entries.pop_front();
  if (entries.empty()) by_link_.erase(it);
}

void EchoLedger::Expire(int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().at_ms > limits_.ttl_ms) DropOldest();
}

void EchoLedger::Remember(int64_t link_id, const mapping::Fields& fields, int64_t now_ms,
                          std::optional<int64_t> date_updated_ms) {
  Expire(now_ms);
  auto& entries = by_link_[link_id];
  // Times only grow (a clock stepped back is held at the last time), so that the entries of
  // a record and the global order stay oldest first.
  const int64_t at = order_.empty() ? now_ms : std::max(now_ms, order_.back().at_ms);
  const uint64_t seq = next_seq_++;
  entries.push_back({seq, at, date_updated_ms, fields});
  order_.push_back({at, link_id, seq});
  if (entries.size() > limits_.max_per_record) {
    // The record's oldest entry leaves; its place in the global order is skipped later
    // (DropOldest finds the record's front entry newer and leaves it).
    entries.pop_front();
  }
  while (order_.size() > limits_.max_entries) DropOldest();
}

bool EchoLedger::Suppress(int64_t link_id, const mapping::Fields& base, mapping::Fields& ghl,
                          std::optional<int64_t> record_updated_ms, int64_t now_ms) {
  Expire(now_ms);
  const mapping::Fields echoes = Echoes(link_id, base, ghl, record_updated_ms, now_ms);
  for (const auto& [name, value] : echoes) ghl[name] = value;
  return !echoes.empty();
}

mapping::Fields EchoLedger::Echoes(int64_t link_id, const mapping::Fields& base,
                                   const mapping::Fields& ghl,
                                   std::optional<int64_t> record_updated_ms, int64_t now_ms) const {
  mapping::Fields echoes;
  auto it = by_link_.find(link_id);
  if (it == by_link_.end()) return echoes;
  std::vector<const Entry*> entries;  // the record's entries the ttl has not expired
  for (const auto& e : it->second) {
    if (now_ms - e.at_ms <= limits_.ttl_ms) entries.push_back(&e);
  }
  // Our latest write to the record, as GHL dated it. A record dated after it holds a change
  // made after every write of ours: nothing in it is an echo.
  std::optional<int64_t> latest;
  for (const Entry* e : entries) {
    if (e->date_updated_ms)
      latest = std::max(latest.value_or(*e->date_updated_ms), *e->date_updated_ms);
  }
  if (record_updated_ms && latest && *record_updated_ms > *latest) return echoes;
  for (const auto& [name, value] : ghl) {
    auto b = base.find(name);
    if (b == base.end() || mapping::Equal(b->second, value)) continue;
    for (const Entry* e : entries) {
      auto f = e->fields.find(name);
      if (f != e->fields.end() && mapping::Equal(f->second, value)) {
        echoes[name] = b->second;
        break;
      }
    }
  }
  return echoes;
}

}  // namespace ghl::sync
