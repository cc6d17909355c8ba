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
      ghl_(gateway, clock, mapping_->spec().object, mapping_->CanonicalFields(),
           mapping_->spec().appointments),
      locations_(std::move(locations)),
      store_(store),
      clock_(clock),
      options_(options),
      counters_(std::move(counters)),
      rules_(RulesOf(mapping_->spec())),
      ledger_(EchoLedger::Limits{options_.echo_ttl_ms, 8, 100'000}),
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

void SyncRunner::Yield() {
  if (!yield_ || yielding_ || !passing_) return;
  yielding_ = true;
  yield_();
  yielding_ = false;
}

Result<int64_t> SyncRunner::SaveLink(const Link& link) {
  auto id = store_.SaveLink(link);
  if (id.ok() && yielding_) saved_while_passing_.insert(id.value());
  return id;
}

void SyncRunner::RememberWrite(int64_t link_id, const Fields& written,
                               const std::string& date_updated) {
  ledger_.Remember(link_id, written, NowMs(), ParseIsoMs(date_updated));
}

}  // namespace ghl::sync
