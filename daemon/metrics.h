// Metrics: the process's Prometheus registry and the daemon's own lifecycle metrics.
// Other modules register their families on registry(); /metrics serialises all of it.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace ghl::daemon {

class Metrics {
 public:
  Metrics();
  prometheus::Registry& registry() { return *registry_; }

  // Prometheus text exposition format (version 0.0.4) of every registered family.
  std::string Serialize() const;

  prometheus::Counter& reloads_ok;
  prometheus::Counter& reloads_failed;
  prometheus::Gauge& last_reload_success;
  prometheus::Gauge& mappings_loaded;
  prometheus::Gauge& ready;
  prometheus::Gauge& in_flight;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  Metrics(std::shared_ptr<prometheus::Registry> registry);
};

}  // namespace ghl::daemon
