#include "daemon/webhook_metrics.h"

#include <string>

namespace ghl::daemon {
namespace {

using prometheus::Registry;

prometheus::Counter& Counter(Registry& r, const std::string& name, const std::string& help,
                             const prometheus::Labels& labels = {}) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(labels);
}

prometheus::Counter& Rejected(Registry& r, const std::string& reason) {
  return Counter(r, "ghl_syncd_webhooks_rejected_total",
                 "Webhooks refused with a 4xx other than 429 (nothing stored), by reason",
                 {{"reason", reason}});
}

prometheus::Counter& Throttled(Registry& r, const std::string& reason) {
  return Counter(r, "ghl_syncd_webhooks_throttled_total",
                 "Webhooks answered 429 so that GHL retries them later, by reason",
                 {{"reason", reason}});
}

prometheus::Counter& Verified(Registry& r, const std::string& scheme) {
  return Counter(r, "ghl_syncd_webhooks_verified_total",
                 "Webhooks whose signature verified, by scheme", {{"scheme", scheme}});
}

prometheus::Gauge& Gauge(Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram& Histogram(Registry& r, const std::string& name, const std::string& help,
                                 prometheus::Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, buckets);
}

}  // namespace

WebhookMetrics::WebhookMetrics(Registry& r)
    : received(Counter(r, "ghl_syncd_webhooks_received_total",
                       "Requests received on the webhook listener")),
      accepted(Counter(r, "ghl_syncd_webhooks_accepted_total",
                       "Webhooks committed to the inbox (answered 200)")),
      deduplicated(Counter(r, "ghl_syncd_webhooks_deduplicated_total",
                           "Webhooks whose webhookId was seen before: answered 200, not stored")),
      rejected_signature(Rejected(r, "signature")),
      rejected_stale(Rejected(r, "stale")),
      rejected_too_large(Rejected(r, "too_large")),
      rejected_malformed(Rejected(r, "malformed")),
      rejected_method(Rejected(r, "method")),
      rejected_path(Rejected(r, "path")),
      throttled_backlog(Throttled(r, "backlog")),
      throttled_busy(Throttled(r, "busy")),
      throttled_stopping(Throttled(r, "stopping")),
      verified_ed25519(Verified(r, "ed25519")),
      verified_rsa(Verified(r, "rsa-sha256")),
      inbox_depth(
          Gauge(r, "ghl_syncd_webhooks_inbox_depth", "Webhooks in the inbox not processed yet")),
      oldest_unprocessed_age(Gauge(r, "ghl_syncd_webhooks_oldest_unprocessed_age_seconds",
                                   "Age of the oldest unprocessed webhook in the inbox (0: none)")),
      commit_duration(Histogram(r, "ghl_syncd_webhooks_commit_duration_seconds",
                                "Time to commit one batch of webhooks to the inbox",
                                {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5})),
      commit_batch_size(Histogram(r, "ghl_syncd_webhooks_commit_batch_size",
                                  "Webhooks per inbox commit (group commit)",
                                  {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})) {}

}  // namespace ghl::daemon
