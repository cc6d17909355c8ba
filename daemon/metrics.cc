#include "daemon/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>

#include "daemon/version.h"

namespace ghl::daemon {
namespace {

prometheus::Family<prometheus::Counter>& Reloads(prometheus::Registry& r) {
  return prometheus::BuildCounter()
      .Name("ghl_syncd_config_reloads_total")
      .Help("Configuration reloads (SIGHUP) by outcome")
      .Register(r);
}

prometheus::Gauge& SimpleGauge(prometheus::Registry& r, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

}  // namespace

Metrics::Metrics() : Metrics(std::make_shared<prometheus::Registry>()) {}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : reloads_ok(Reloads(*registry).Add({{"outcome", "ok"}})),
      reloads_failed(Reloads(*registry).Add({{"outcome", "failed"}})),
      last_reload_success(SimpleGauge(*registry, "ghl_syncd_config_last_reload_successful",
                                      "1 if the last configuration reload succeeded")),
      mappings_loaded(SimpleGauge(*registry, "ghl_syncd_mappings_loaded",
                                  "Mapping files in the active configuration")),
      ready(SimpleGauge(*registry, "ghl_syncd_ready", "1 when /readyz answers 200")),
      in_flight(SimpleGauge(*registry, "ghl_syncd_work_in_flight",
                            "Units of work started and not yet finished")),
      registry_(std::move(registry)) {
  prometheus::BuildGauge()
      .Name("ghl_syncd_build_info")
      .Help("Build of the running ghl-syncd; the value is always 1")
      .Register(*registry_)
      .Add({{"version", kVersion}, {"commit", kCommit}})
      .Set(1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  SimpleGauge(*registry_, "ghl_syncd_start_time_seconds", "Start time of the process (Unix time)")
      .Set(std::chrono::duration<double>(now).count());
  last_reload_success.Set(1);
}

std::string Metrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace ghl::daemon
