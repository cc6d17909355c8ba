// The webhook dispatcher. Publish() runs on the io thread: it builds the body, applies
// the drop/duplicate dice and the delay, and hands the event to a worker thread, which
// signs it, keeps the reorder hold, POSTs with libcurl and schedules 429 retries.
#include "emulator/webhooks.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <tuple>

#include "emulator/webhook_signer.h"

namespace ghl::emulator {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kDeliveryLogLimit = 200'000;
// Inferred: how long webhook_reorder holds an event waiting for a successor to swap
// with; after that it goes out alone (a late event, which is what reordering looks like).
constexpr milliseconds kReorderHold{300};

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One published event: the exact bytes every attempt sends, and the settings in force
// when it was published.
struct Event {
  std::string webhook_id, type, body;
  std::string ghl_signature, wh_signature;  // filled in on the worker
  std::vector<std::string> urls;
  std::vector<int64_t> retry_schedule_ms;
  int64_t timeout_ms = 0;
  SteadyClock::time_point due;
  bool duplicate = false;
  bool reorder = false;
};

// One attempt to make: an event to one URL.
struct Job {
  std::shared_ptr<const Event> event;
  std::string url;
  int attempt = 1;
  bool duplicate = false;
  SteadyClock::time_point due;
  uint64_t seq = 0;  // ties on `due` go out in publish order
  bool operator>(const Job& o) const { return std::tie(due, seq) > std::tie(o.due, o.seq); }
};

struct PostResult {
  int status = 0;
  std::string error;
};

Result<void> Validate(const WebhookDispatcher::Config& c) {
  for (const auto& url : c.urls) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return Error{"webhook url must start with http:// or https://, got '" + url + "'"};
    }
  }
  if (c.retry_schedule_ms.size() > 100) return Error{"at most 100 webhook retries"};
  for (int64_t d : c.retry_schedule_ms) {
    if (d < 0) return Error{"webhook retry delays must be >= 0 ms"};
  }
  if (c.timeout_ms < 1 || c.timeout_ms > 600'000) {
    return Error{"webhook timeout must be 1..600000 ms"};
  }
  return Ok();
}

// A random RFC 4122 version 4 UUID.
// Inferred: GHL's webhookId format is undocumented ("abc123xyz" in the example). Ids come
// from a non-seeded generator: receivers keep webhookId dedupe tables across emulator
// restarts, and a seeded id would repeat and be discarded as a replay.
std::string NewUuid(std::mt19937_64& rng) {
  const uint64_t hi = (rng() & ~0xf000ULL) | 0x4000ULL;
  const uint64_t lo = (rng() & ~(3ULL << 62)) | (2ULL << 62);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

class Dispatcher final : public WebhookDispatcher {
 public:
  Dispatcher(Config config, std::unique_ptr<WebhookSigner> signer, uint64_t seed)
      : config_(std::move(config)),
        signer_(std::move(signer)),
        fault_rng_(seed ^ 0x5bd1e9955bd1e995ULL),
        id_rng_(std::random_device{}()) {
    worker_ = std::thread([this] { Run(); });
  }

  ~Dispatcher() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void Publish(const std::string& type, const JsonDoc& payload) override;
  void SetFaults(const Faults& faults) override { faults_ = faults; }
  std::string Ed25519PublicKeyPem() const override { return signer_->ed25519_public_pem(); }
  std::string RsaPublicKeyPem() const override { return signer_->rsa_public_pem(); }

  Result<void> SetConfig(const Config& config) override {
    if (auto v = Validate(config); !v.ok()) return v;
    config_ = config;
    return Ok();
  }
  Config config() const override { return config_; }
  std::vector<WebhookDelivery> Deliveries(uint64_t since, uint64_t* next) const override;
  void ClearDeliveries() override {
    std::lock_guard lock(mu_);
    deliveries_.clear();
  }

 private:
  // Worker thread.
  void Run();
  void Accept(std::unique_ptr<Event> event);
  void Schedule(const std::shared_ptr<const Event>& event, SteadyClock::time_point due);
  void Attempt(CURL* curl, Job job);
  PostResult Post(CURL* curl, const Job& job);
  // Either thread.
  void Record(WebhookDelivery d);

  // io thread only.
  Config config_;
  Faults faults_;
  std::unique_ptr<WebhookSigner> signer_;  // used by the worker; immutable
  std::mt19937_64 fault_rng_;
  std::mt19937_64 id_rng_;

  // Shared, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Event>> inbox_;
  std::deque<WebhookDelivery> deliveries_;
  uint64_t next_index_ = 0;

  // Worker only.
  std::priority_queue<Job, std::vector<Job>, std::greater<>> jobs_;
  std::shared_ptr<const Event> held_;  // webhook_reorder: waiting for a successor
  SteadyClock::time_point held_until_;
  uint64_t seq_ = 0;
  std::thread worker_;
};

void Dispatcher::Publish(const std::string& type, const JsonDoc& payload) {
  // Roll both dice for every event so the same seed gives the same faults at any rate.
  std::uniform_real_distribution<double> dice(0, 1);
  const double drop_roll = dice(fault_rng_), duplicate_roll = dice(fault_rng_);
  // Inferred: with no URL configured an event is not kept for URLs added later, as GHL
  // only delivers to the webhook URL set when the event fires.
  if (config_.urls.empty()) return;

  auto event = std::make_unique<Event>();
  event->webhook_id = NewUuid(id_rng_);
  event->type = type;
  JsonDoc body;
  body.CopyFrom(payload, body.GetAllocator());
  if (!body.IsObject()) body.SetObject();
  // Inferred: GHL's example shows the envelope fields with the event data, flat, in no
  // documented order; they go last, after type and locationId.
  // Inferred: timestamp in the same ISO form, with milliseconds, as dateAdded.
  SetString(body, "timestamp", IsoTime(WallMs()), body.GetAllocator());
  SetString(body, "webhookId", event->webhook_id, body.GetAllocator());
  event->body = Dump(body);

  // Inferred: drop and duplicate are decided per event, so every URL sees the same fate.
  if (drop_roll < faults_.webhook_drop_rate) {
    for (const auto& url : config_.urls) {
      Record({.webhook_id = event->webhook_id,
              .type = type,
              .url = url,
              .error = "dropped by the webhookDropRate fault",
              .outcome = "dropped",
              .at_ms = WallMs()});
    }
    return;
  }
  event->urls = config_.urls;
  event->retry_schedule_ms = config_.retry_schedule_ms;
  event->timeout_ms = config_.timeout_ms;
  event->due = SteadyClock::now() + milliseconds(std::max<int64_t>(0, faults_.webhook_delay_ms));
  event->duplicate = duplicate_roll < faults_.webhook_duplicate_rate;
  event->reorder = faults_.webhook_reorder;
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(event));
  }
  cv_.notify_one();
}

void Dispatcher::Run() {
  CURL* curl = curl_easy_init();  // one handle: it keeps connections to receivers alive
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!inbox_.empty()) {
      auto batch = std::move(inbox_);
      inbox_.clear();
      lock.unlock();
      for (auto& e : batch) Accept(std::move(e));
      lock.lock();
      continue;
    }
    const auto now = SteadyClock::now();
    if (held_ && held_until_ <= now) {
      Schedule(std::exchange(held_, nullptr), now);
      continue;
    }
    if (!jobs_.empty() && jobs_.top().due <= now) {
      Job job = jobs_.top();
      jobs_.pop();
      lock.unlock();
      Attempt(curl, std::move(job));
      lock.lock();
      continue;
    }
    std::optional<SteadyClock::time_point> wake;
    if (!jobs_.empty()) wake = jobs_.top().due;
    if (held_) wake = wake ? std::min(*wake, held_until_) : held_until_;
    if (wake) {
      cv_.wait_until(lock, *wake);
    } else {
      cv_.wait(lock);
    }
  }
  lock.unlock();
  curl_easy_cleanup(curl);
}

void Dispatcher::Accept(std::unique_ptr<Event> e) {
  e->ghl_signature = signer_->SignEd25519(e->body);
  e->wh_signature = signer_->SignRsaSha256(e->body);
  std::shared_ptr<const Event> event = std::move(e);
  if (!event->reorder) {
    if (held_) {  // reordering was switched off: the held event goes first, in publish order
      const auto first = std::exchange(held_, nullptr);
      Schedule(first, first->due);
    }
    Schedule(event, event->due);
    return;
  }
  if (!held_) {
    held_ = event;
    held_until_ = std::max(SteadyClock::now(), event->due) + kReorderHold;
    return;
  }
  // Swap neighbours: the newer event goes out first, the held one right after it.
  const auto first = std::exchange(held_, nullptr);
  const auto due = std::max(first->due, event->due);
  Schedule(event, due);
  Schedule(first, due);
}

void Dispatcher::Schedule(const std::shared_ptr<const Event>& event, SteadyClock::time_point due) {
  for (const auto& url : event->urls) {
    jobs_.push({.event = event, .url = url, .due = due, .seq = seq_++});
    if (event->duplicate) {
      jobs_.push({.event = event, .url = url, .duplicate = true, .due = due, .seq = seq_++});
    }
  }
}

void Dispatcher::Attempt(CURL* curl, Job job) {
  const int64_t started = WallMs();
  const PostResult r = Post(curl, job);
  const auto& schedule = job.event->retry_schedule_ms;
  // Inferred: a retry re-sends the same bytes (same timestamp, webhookId and signatures),
  // RETRY's "re-send the same payload"; redirects are not followed and, like any non-2xx
  // answer but 429, are final.
  const bool ok = r.status >= 200 && r.status < 300;
  const bool retry = r.status == 429 && static_cast<size_t>(job.attempt) <= schedule.size();
  Record({.webhook_id = job.event->webhook_id,
          .type = job.event->type,
          .url = job.url,
          .attempt = job.attempt,
          .status = r.status,
          .error = r.error,
          .outcome = ok      ? "delivered"
                     : retry ? "retry"
                             : "lost",
          .duplicate = job.duplicate,
          .at_ms = started,
          .duration_ms = WallMs() - started});
  spdlog::debug("webhook {} {} to {}: attempt {} status {} {}", job.event->type,
                job.event->webhook_id, job.url, job.attempt, r.status, r.error);
  if (!retry) return;
  job.due = SteadyClock::now() + milliseconds(schedule[static_cast<size_t>(job.attempt) - 1]);
  job.attempt++;
  job.seq = seq_++;
  jobs_.push(std::move(job));
}

PostResult Dispatcher::Post(CURL* curl, const Job& job) {
  const Event& e = *job.event;
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("x-ghl-signature: " + e.ghl_signature).c_str());
  headers = curl_slist_append(headers, ("x-wh-signature: " + e.wh_signature).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, job.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, e.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(e.body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(e.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  // Abort an attempt in flight when the dispatcher shuts down.
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stop_);
  curl_easy_setopt(
      curl, CURLOPT_XFERINFOFUNCTION,
      +[](void* stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
        return static_cast<std::atomic<bool>*>(stop)->load() ? 1 : 0;
      });
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  PostResult r;
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    return r;
  }
  const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    r.error = "timeout: " + detail;
  } else if (rc == CURLE_COULDNT_CONNECT) {
    r.error = "connection failed: " + detail;
  } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
    r.error = "shutdown: the emulator stopped during the attempt";
  } else {
    r.error = detail;
  }
  return r;
}

void Dispatcher::Record(WebhookDelivery d) {
  std::lock_guard lock(mu_);
  d.index = next_index_++;
  deliveries_.push_back(std::move(d));
  if (deliveries_.size() > kDeliveryLogLimit) deliveries_.pop_front();
}

std::vector<WebhookDelivery> Dispatcher::Deliveries(uint64_t since, uint64_t* next) const {
  std::lock_guard lock(mu_);
  std::vector<WebhookDelivery> out;
  for (const auto& d : deliveries_) {
    if (d.index >= since) out.push_back(d);
  }
  *next = next_index_;
  return out;
}

}  // namespace

Result<std::unique_ptr<WebhookSink>> MakeWebhookDispatcher(boost::asio::io_context&,
                                                           const WebhookOptions& options,
                                                           uint64_t seed) {
  const WebhookDispatcher::Config config{options.urls, options.retry_schedule_ms,
                                         options.timeout_ms};
  if (auto v = Validate(config); !v.ok()) return v.error();
  // Before any thread exists, as libcurl requires.
  static const CURLcode curl_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (curl_init != CURLE_OK) return Error{"cannot initialise libcurl"};
  auto signer = WebhookSigner::Create(options.keys_dir);
  if (!signer.ok()) return signer.error();
  return std::unique_ptr<WebhookSink>(
      std::make_unique<Dispatcher>(config, std::move(signer).value(), seed));
}

}  // namespace ghl::emulator
