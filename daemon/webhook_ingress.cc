#include "daemon/webhook_ingress.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <fstream>
#include <sstream>

#include "connectors/ghl/webhook_event.h"
#include "daemon/webhook_metrics.h"
#include "state/sqlite.h"

namespace ghl::daemon {

using http_server::Request;
using http_server::Responder;
using http_server::Response;
namespace http = http_server::http;

// What request handling and the writer's answers share; outlives the ingress while answers
// are queued on the io_context.
struct WebhookIngress::Shared : std::enable_shared_from_this<WebhookIngress::Shared> {
  Shared(boost::asio::io_context& io_, WebhookIngressOptions o, const Clock& c,
         prometheus::Registry& registry)
      : io(io_), options(std::move(o)), clock(c), metrics(registry) {}

  void Handle(Request&& req, std::shared_ptr<Responder> responder);
  void Answer(const Request& req, Responder& responder, http::status status, const char* text);
  void Enqueue(Request&& req, std::string webhook_id, ghl_client::SignatureScheme scheme,
               std::shared_ptr<Responder> responder);
  void Finish(const Request& head, Responder& responder, InboxWriter::Outcome outcome);
  void NoteBadSignature(ghl_client::SignatureReject reject);

  boost::asio::io_context& io;
  WebhookIngressOptions options;
  const Clock& clock;
  WebhookMetrics metrics;
  std::unique_ptr<InboxWriter> writer;  // set by Start; ended by ~WebhookIngress
  bool refusing = false;
  // Signature failures are logged at most once a minute, with their count.
  int64_t bad_signatures = 0;
  std::chrono::steady_clock::time_point next_signature_warning{};
};

namespace {

constexpr auto kSignatureWarnInterval = std::chrono::minutes(1);

int64_t UnixMs(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::optional<std::string_view> HeaderOf(const Request& req, std::string_view name) {
  auto it = req.find(name);
  if (it == req.end()) return std::nullopt;
  return it->value();
}

// The request headers worth keeping with the body (for audits; never a signature).
std::string HeadersJson(const Request& req, ghl_client::SignatureScheme scheme) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("signature");
  w.String(ghl_client::ToString(scheme));
  for (const char* name : {"content-type", "user-agent", "x-forwarded-for", "x-real-ip"}) {
    if (auto value = HeaderOf(req, name)) {
      w.Key(name);
      w.String(value->data(), static_cast<rapidjson::SizeType>(value->size()));
    }
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// Inferred: a body without webhookId is deduplicated by its content instead.
std::string ContentId(std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Error{"cannot read " + path};
  return text.str();
}

}  // namespace

void WebhookIngress::Shared::Answer(const Request& req, Responder& responder, http::status status,
                                    const char* text) {
  auto res = http_server::TextResponse(req, status, text);
  if (status == http::status::method_not_allowed) res.set(http::field::allow, "POST");
  if (status == http::status::too_many_requests) res.set(http::field::retry_after, "60");
  responder.Send(std::move(res));
}

void WebhookIngress::Shared::NoteBadSignature(ghl_client::SignatureReject reject) {
  metrics.rejected_signature.Increment();
  ++bad_signatures;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_signature_warning) return;
  spdlog::warn(
      "webhooks: {} request(s) refused for their signature (last: {}); if GHL sent them, "
      "check webhooks.public_keys and builtin_keys",
      bad_signatures, ghl_client::ToString(reject));
  bad_signatures = 0;
  next_signature_warning = now + kSignatureWarnInterval;
}

void WebhookIngress::Shared::Handle(Request&& req, std::shared_ptr<Responder> responder) {
  metrics.received.Increment();
  const std::string_view target = req.target().substr(0, req.target().find('?'));
  if (target != options.path) {
    metrics.rejected_path.Increment();
    return Answer(req, *responder, http::status::not_found, "not found\n");
  }
  if (req.method() != http::verb::post) {
    metrics.rejected_method.Increment();
    return Answer(req, *responder, http::status::method_not_allowed, "use POST\n");
  }
  const auto verdict = options.verifier->Verify(
      req.body(), {HeaderOf(req, "x-ghl-signature"), HeaderOf(req, "x-wh-signature")});
  if (!verdict.ok()) {
    NoteBadSignature(verdict.reject);
    return Answer(req, *responder, http::status::unauthorized, "invalid signature\n");
  }
  (verdict.scheme == ghl_client::SignatureScheme::kEd25519 ? metrics.verified_ed25519
                                                           : metrics.verified_rsa)
      .Increment();
  auto event = ghl_client::ParseWebhookEvent(req.body());
  if (!event.ok() || !event->timestamp_ms) {
    metrics.rejected_malformed.Increment();
    spdlog::debug("webhooks: malformed body: {}",
                  event.ok() ? "no ISO 8601 timestamp" : event.error().message);
    return Answer(req, *responder, http::status::bad_request,
                  "expected a JSON object with a timestamp\n");
  }
  const int64_t skew = UnixMs(clock.Now()) - *event->timestamp_ms;
  if (skew > options.max_age.count() || -skew > options.timestamp_window.count()) {
    metrics.rejected_stale.Increment();
    spdlog::debug("webhooks: timestamp {} is {} ms away from now", event->timestamp, skew);
    return Answer(req, *responder, http::status::unauthorized, "timestamp outside the window\n");
  }
  if (refusing) {
    metrics.throttled_stopping.Increment();
    return Answer(req, *responder, http::status::too_many_requests, "stopping; retry later\n");
  }
  if (writer->Backlog() >= options.max_backlog) {
    metrics.throttled_backlog.Increment();
    return Answer(req, *responder, http::status::too_many_requests, "backlog full; retry later\n");
  }
  std::string id = event->webhook_id.empty() ? ContentId(req.body()) : event->webhook_id;
  Enqueue(std::move(req), std::move(id), verdict.scheme, std::move(responder));
}

void WebhookIngress::Shared::Enqueue(Request&& req, std::string webhook_id,
                                     ghl_client::SignatureScheme scheme,
                                     std::shared_ptr<Responder> responder) {
  std::shared_ptr<void> work;
  if (options.begin_work) {
    work = options.begin_work();
    if (!work) {
      metrics.throttled_stopping.Increment();
      return Answer(req, *responder, http::status::too_many_requests, "stopping; retry later\n");
    }
  }
  std::string headers = HeadersJson(req, scheme);
  state::InboxItem item{std::move(webhook_id), UnixMs(clock.Now()), std::move(req.body()),
                        std::move(headers)};
  Request head;  // what the answer needs of the request: its HTTP version
  head.version(req.version());
  // Runs on the writer thread; everything it holds moves to the io thread, where the
  // answer is sent and the unit of work ends.
  auto done = [self = shared_from_this(), responder, head, work](InboxWriter::Outcome outcome) {
    boost::asio::post(self->io, [self, responder, head, work, outcome]() mutable {
      self->Finish(head, *responder, outcome);
      work.reset();
    });
  };
  if (!writer->Submit(std::move(item), std::move(done))) {
    metrics.throttled_busy.Increment();
    Answer(head, *responder, http::status::too_many_requests, "busy; retry later\n");
  }
}

void WebhookIngress::Shared::Finish(const Request& head, Responder& responder,
                                    InboxWriter::Outcome outcome) {
  switch (outcome) {
    case InboxWriter::Outcome::kStored:
      metrics.accepted.Increment();
      Answer(head, responder, http::status::ok, "ok\n");
      if (options.on_stored) options.on_stored();
      return;
    case InboxWriter::Outcome::kDuplicate:
      metrics.deduplicated.Increment();
      return Answer(head, responder, http::status::ok, "duplicate\n");
    case InboxWriter::Outcome::kBusy:
      metrics.throttled_busy.Increment();
      return Answer(head, responder, http::status::too_many_requests, "busy; retry later\n");
  }
}

Result<WebhookIngressOptions> WebhookOptionsFromConfig(const config::WebhooksConfig& config,
                                                       const std::filesystem::path& state_path) {
  ghl_client::WebhookVerifier::Options keys{config.builtin_keys, {}, config.rsa_signatures};
  for (size_t i = 0; i < config.public_keys.size(); ++i) {
    keys.keys.push_back({fmt::format("webhooks.public_keys[{}]", i), config.public_keys[i]});
  }
  for (size_t i = 0; i < config.public_key_files.size(); ++i) {
    const std::string& path = config.public_key_files[i];
    auto text = ReadFile(path);
    if (!text.ok()) {
      return Error{fmt::format("webhooks.public_key_files[{}]: {}", i, text.error().message)};
    }
    keys.keys.push_back({fmt::format("webhooks.public_key_files[{}] ({})", i, path), *text});
  }
  auto verifier = ghl_client::WebhookVerifier::Create(keys);
  if (!verifier.ok()) return verifier.error();

  WebhookIngressOptions o;
  o.host = config.listen.host;
  o.port = config.listen.port;
  o.path = config.path;
  o.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  o.read_timeout = config.read_timeout;
  o.timestamp_window = config.timestamp_window;
  o.max_age = config.max_age;
  o.max_backlog = config.max_backlog;
  o.verifier = std::move(verifier).value();
  o.writer.open = [state_path] {
    return state::sqlite::Db::Open(state_path, std::chrono::milliseconds(0));
  };
  o.writer.lock_wait = config.busy_timeout;
  o.writer.commit_wait = config.commit_wait;
  o.writer.max_batch = static_cast<size_t>(config.max_batch);
  o.writer.retention = config.retention;
  return o;
}

Result<std::unique_ptr<WebhookIngress>> WebhookIngress::Start(boost::asio::io_context& io,
                                                              WebhookIngressOptions options,
                                                              const Clock& clock,
                                                              prometheus::Registry& registry) {
  if (!options.verifier) return Error{"webhook ingress: no signature verifier"};
  options.writer.clock = &clock;
  auto shared = std::make_shared<Shared>(io, std::move(options), clock, registry);
  WebhookMetrics& m = shared->metrics;
  shared->options.writer.observer = {
      [&m](size_t batch, std::chrono::duration<double> took, bool) {
        m.commit_duration.Observe(took.count());
        m.commit_batch_size.Observe(static_cast<double>(batch));
      },
      [&m](int64_t depth, std::optional<int64_t> oldest_ms) {
        m.inbox_depth.Set(static_cast<double>(depth));
        m.oldest_unprocessed_age.Set(static_cast<double>(oldest_ms.value_or(0)) / 1000.0);
      }};
  auto writer = InboxWriter::Start(shared->options.writer);
  if (!writer.ok()) return writer.error();
  const auto& o = shared->options;
  http_server::HttpServer::Options http{.host = o.host,
                                        .port = o.port,
                                        .body_limit = o.max_body_bytes,
                                        .read_timeout = o.read_timeout,
                                        .on_body_too_large = [&m] {
                                          m.received.Increment();
                                          m.rejected_too_large.Increment();
                                        }};
  auto server = http_server::HttpServer::StartAsync(
      io, std::move(http), [shared](Request&& req, std::shared_ptr<Responder> responder) {
        shared->Handle(std::move(req), std::move(responder));
      });
  if (!server.ok()) return server.error();
  shared->writer = std::move(writer).value();
  for (const auto& key : o.verifier->Describe()) spdlog::info("webhooks: trusting {}", key);
  return std::unique_ptr<WebhookIngress>(
      new WebhookIngress(std::move(shared), std::move(server).value()));
}

WebhookIngress::WebhookIngress(std::shared_ptr<Shared> shared,
                               std::unique_ptr<http_server::HttpServer> server)
    : shared_(std::move(shared)), server_(std::move(server)) {}

WebhookIngress::~WebhookIngress() {
  Stop();
  // Commits what is queued; the answers are posted to the io_context.
  shared_->writer->Stop();
}

uint16_t WebhookIngress::port() const { return server_->port(); }

void WebhookIngress::Refuse() { shared_->refusing = true; }

void WebhookIngress::Stop() {
  shared_->refusing = true;
  server_->Stop();
}

}  // namespace ghl::daemon
