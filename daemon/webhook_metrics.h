// The webhook endpoint's Prometheus metrics (ghl_syncd_webhooks_*), registered on the
// daemon's registry. Prometheus metric objects are thread-safe: the io thread counts
// requests, the inbox writer thread observes commits and the inbox depth.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ghl::daemon {

struct WebhookMetrics {
  explicit WebhookMetrics(prometheus::Registry& registry);

  prometheus::Counter& received;      // every request on the webhook listener
  prometheus::Counter& accepted;      // committed to the inbox
  prometheus::Counter& deduplicated;  // 200 for a webhookId seen before; not stored again
  // rejected by reason: a 4xx other than 429; nothing stored
  prometheus::Counter& rejected_signature;
  prometheus::Counter& rejected_stale;
  prometheus::Counter& rejected_too_large;
  prometheus::Counter& rejected_malformed;
  prometheus::Counter& rejected_method;
  prometheus::Counter& rejected_path;
  // 429 answered, by reason
  prometheus::Counter& throttled_backlog;
  prometheus::Counter& throttled_busy;
  prometheus::Counter& throttled_stopping;
  // valid signatures by scheme (shows when the legacy RSA header is no longer used)
  prometheus::Counter& verified_ed25519;
  prometheus::Counter& verified_rsa;
  prometheus::Gauge& inbox_depth;
  prometheus::Gauge& oldest_unprocessed_age;
  prometheus::Histogram& commit_duration;
  prometheus::Histogram& commit_batch_size;
};

}  // namespace ghl::daemon
