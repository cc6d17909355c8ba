// WorkTracker: counts units of work in flight so that shutdown can drain them.
//
// Work starts with Begin(), which hands out a Token; the unit is finished when the
// token is destroyed. Once Drain() is called no new work may start (Begin() returns
// nothing), and the callback runs as soon as the count reaches zero or the timeout
// passes, whichever is first. Work cut off by the timeout is redone after a restart:
// nothing is acknowledged before it is durable.
// Thread-safety: single-threaded; every call on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace ghl::daemon {

class WorkTracker {
 public:
  // Called once: drained == true when every unit finished, else `left` were cut off.
  using DrainDone = std::function<void(bool drained, size_t left)>;

  explicit WorkTracker(boost::asio::io_context& io);
  ~WorkTracker();
  WorkTracker(const WorkTracker&) = delete;
  WorkTracker& operator=(const WorkTracker&) = delete;

  class Token {
   public:
    explicit Token(std::shared_ptr<WorkTracker*> tracker);
    Token(Token&& other) noexcept;
    Token& operator=(Token&&) = delete;
    Token(const Token&) = delete;
    ~Token();

   private:
    std::shared_ptr<WorkTracker*> tracker_;
  };

  std::optional<Token> Begin();
  void Drain(std::chrono::milliseconds timeout, DrainDone done);
  size_t in_flight() const { return in_flight_; }
  bool draining() const { return draining_; }
  std::function<void(size_t)> on_change;  // observer, e.g. a gauge

 private:
  void Finished();
  void Complete(bool drained);

  boost::asio::steady_timer timer_;
  size_t in_flight_ = 0;
  bool draining_ = false;
  DrainDone done_;
  std::shared_ptr<WorkTracker*> self_;  // tokens outliving the tracker see a null here
};

}  // namespace ghl::daemon
