#include "sync/ghl_gateway.h"

#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace ghl::sync {

using ghl_client::ApiResult;

namespace {

struct Batch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ApiResult> results;
  std::vector<bool> answered;
  size_t remaining = 0;
};

ApiResult ShuttingDown() {
  ApiResult r;
  r.outcome = ghl_client::Outcome::kRetry;
  r.error = ghl_client::ErrorClass::kTransport;
  r.message = "ghl-syncd is shutting down";
  return r;
}

}  // namespace

std::vector<ApiResult> LoopGateway::CallAll(std::vector<GhlCall> calls) {
  if (calls.empty()) return {};
  if (closed_) return std::vector<ApiResult>(calls.size(), ShuttingDown());
  auto batch = std::make_shared<Batch>();
  batch->results.resize(calls.size());
  batch->answered.resize(calls.size(), false);
  batch->remaining = calls.size();
  calls_made_ += static_cast<int64_t>(calls.size());
  boost::asio::post(io_, [this, batch, calls = std::move(calls)]() mutable {
    for (size_t i = 0; i < calls.size(); ++i) {
      client_.Call(calls[i].location_id, calls[i].lane, std::move(calls[i].request),
                   [batch, i](ApiResult result) {
                     std::lock_guard lock(batch->mu);
                     batch->results[i] = std::move(result);
                     batch->answered[i] = true;
                     if (--batch->remaining == 0) batch->cv.notify_all();
                   });
    }
  });
  std::unique_lock lock(batch->mu);
  while (batch->remaining > 0) {
    if (closed_) {
      // The loop may never run the remaining callbacks; the answers that arrived are kept,
      // the others are "retry later" (the outbox keeps their jobs).
      std::vector<ApiResult> out = batch->results;
      for (size_t i = 0; i < out.size(); ++i) {
        if (!batch->answered[i]) out[i] = ShuttingDown();
      }
      return out;
    }
    batch->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return batch->results;
}

void LoopGateway::Close() { closed_ = true; }

}  // namespace ghl::sync
