// GhlGateway: how the engine's worker thread calls GHL. The GhlClient lives on the event
// loop; the engine runs on its own thread (connectors block). CallAll posts a batch of
// calls to the loop, where the client queues them by lane behind the rate limiter and runs
// them concurrently, and waits until every one has an answer.
//
// Close() makes every waiting and later call answer kRetry ("shutting down") at once, so
// the worker can finish before the loop stops.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "connectors/ghl/client.h"

namespace ghl::sync {

struct GhlCall {
  std::string location_id;
  ghl_client::Lane lane = ghl_client::Lane::kReconcile;
  ghl_client::ApiRequest request;
};

class GhlGateway {
 public:
  virtual ~GhlGateway() = default;
  // One answer per call, in order. Calls run concurrently (each location behind its own
  // limiter).
  virtual std::vector<ghl_client::ApiResult> CallAll(std::vector<GhlCall> calls) = 0;
  ghl_client::ApiResult Call(const std::string& location_id, ghl_client::Lane lane,
                             ghl_client::ApiRequest request) {
    std::vector<GhlCall> one;
    one.push_back({location_id, lane, std::move(request)});
    return std::move(CallAll(std::move(one)).front());
  }
  // Calls made so far (for `plan`'s read cost).
  virtual int64_t calls_made() const = 0;
};

class LoopGateway final : public GhlGateway {
 public:
  LoopGateway(boost::asio::io_context& io, ghl_client::GhlClient& client)
      : io_(io), client_(client) {}
  std::vector<ghl_client::ApiResult> CallAll(std::vector<GhlCall> calls) override;
  int64_t calls_made() const override { return calls_made_; }
  void Close();

 private:
  boost::asio::io_context& io_;
  ghl_client::GhlClient& client_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> calls_made_{0};
};

}  // namespace ghl::sync
