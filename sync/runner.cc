#include "sync/runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "sync/runner_internal.h"

namespace ghl::sync {

using connectors::Row;
using ghl_client::Lane;
using mapping::Direction;
using mapping::Fields;
using mapping::Value;

const char* ToString(Decision::Action a) {
  switch (a) {
    case Decision::Action::kCreate:
      return "create";
    case Decision::Action::kUpdate:
      return "update";
    case Decision::Action::kDelete:
      return "delete";
    case Decision::Action::kConflict:
      return "conflict";
    case Decision::Action::kLink:
      return "link";
    case Decision::Action::kSkip:
      return "skip";
    case Decision::Action::kError:
      return "error";
  }
  return "?";
}

SyncRunner::SyncRunner(std::shared_ptr<const mapping::Mapping> mapping,
                       std::unique_ptr<connectors::Connector> connector, GhlGateway& gateway,
                       std::vector<std::string> locations, SyncStore& store, const Clock& clock,
                       RunnerOptions options, RunnerCounters counters)
    : mapping_(std::move(mapping)),
      connector_(std::move(connector)),
      ghl_(gateway, mapping_->spec().object, mapping_->CanonicalFields(),
           mapping_->spec().appointments),
      locations_(std::move(locations)),
      store_(store),
      clock_(clock),
      options_(options),
      counters_(std::move(counters)),
      rules_(RulesOf(mapping_->spec())),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {}

bool SyncRunner::Serves(const std::string& location_id, mapping::GhlObject object) const {
  return object == mapping_->spec().object &&
         std::find(locations_.begin(), locations_.end(), location_id) != locations_.end();
}

int64_t SyncRunner::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

int64_t SyncRunner::Backoff(int attempts) {
  const double exp = std::min(30, attempts);
  const double full =
      std::min<double>(static_cast<double>(options_.backoff_max_ms),
                       static_cast<double>(options_.backoff_base_ms) * std::pow(2.0, exp));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return static_cast<int64_t>(full * jitter(rng_));
}

void SyncRunner::RememberWrite(int64_t link_id, const Fields& written) {
  auto& entries = ledger_[link_id];
  entries.push_back({NowMs(), written});
  while (entries.size() > 8) entries.pop_front();
}

void SyncRunner::SuppressEchoes(int64_t link_id, const Fields& base, Fields& ghl) {
  auto it = ledger_.find(link_id);
  if (it == ledger_.end()) return;
  const int64_t now = NowMs();
  auto& entries = it->second;
  while (!entries.empty() && now - entries.front().at > options_.echo_ttl_ms) entries.pop_front();
  bool suppressed = false;
  for (auto& [name, value] : ghl) {
    auto b = base.find(name);
    if (b == base.end() || mapping::Equal(b->second, value)) continue;
    for (const auto& w : entries) {
      auto f = w.fields.find(name);
      if (f != w.fields.end() && mapping::Equal(f->second, value)) {
        value = b->second;  // a stale echo of our own earlier write
        suppressed = true;
        break;
      }
    }
  }
  if (suppressed && counters_.echo) counters_.echo();
}

}  // namespace ghl::sync
