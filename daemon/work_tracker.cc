#include "daemon/work_tracker.h"

namespace ghl::daemon {

WorkTracker::WorkTracker(boost::asio::io_context& io)
    : timer_(io), self_(std::make_shared<WorkTracker*>(this)) {}

WorkTracker::~WorkTracker() { *self_ = nullptr; }

WorkTracker::Token::Token(std::shared_ptr<WorkTracker*> tracker) : tracker_(std::move(tracker)) {}

WorkTracker::Token::Token(Token&& other) noexcept : tracker_(std::move(other.tracker_)) {}

WorkTracker::Token::~Token() {
  if (tracker_ && *tracker_ != nullptr) (*tracker_)->Finished();
}

std::optional<WorkTracker::Token> WorkTracker::Begin() {
  if (draining_) return std::nullopt;
  ++in_flight_;
  if (on_change) on_change(in_flight_);
  return Token(self_);
}

void WorkTracker::Finished() {
  --in_flight_;
  if (on_change) on_change(in_flight_);
  if (draining_ && in_flight_ == 0) Complete(true);
}

void WorkTracker::Drain(std::chrono::milliseconds timeout, DrainDone done) {
  draining_ = true;
  done_ = std::move(done);
  if (in_flight_ == 0) {
    // Deliver asynchronously, like the other outcome, so callers see one behaviour.
    timer_.expires_after(std::chrono::milliseconds(0));
  } else {
    timer_.expires_after(timeout);
  }
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Complete(in_flight_ == 0);
  });
}

void WorkTracker::Complete(bool drained) {
  if (!done_) return;
  timer_.cancel();
  auto done = std::move(done_);
  done_ = nullptr;
  done(drained, in_flight_);
}

}  // namespace ghl::daemon
