#include "daemon/systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace ghl::daemon {

SystemdNotifier::SystemdNotifier(boost::asio::io_context& io) : timer_(io) {}

void SystemdNotifier::Send(const std::string& message) {
  const int rc = sd_notify(0, message.c_str());
  if (rc < 0) spdlog::warn("sd_notify failed: {}", std::strerror(-rc));  // NOLINT
}

void SystemdNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void SystemdNotifier::Stopping(const std::string& status) { Send("STOPPING=1\nSTATUS=" + status); }

void SystemdNotifier::Reloading() { Send("RELOADING=1\nSTATUS=reloading configuration"); }

void SystemdNotifier::Status(const std::string& status) {
  // READY=1 again ends a RELOADING=1 phase; harmless otherwise.
  Send("READY=1\nSTATUS=" + status);
}

std::optional<std::chrono::microseconds> SystemdNotifier::StartWatchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  interval_ = std::chrono::microseconds(usec / 2);
  watchdog_running_ = true;
  Ping();
  return interval_;
}

void SystemdNotifier::StopWatchdog() {
  watchdog_running_ = false;
  timer_.cancel();
}

void SystemdNotifier::Ping() {
  if (!watchdog_running_) return;
  Send("WATCHDOG=1");
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Ping();
  });
}

}  // namespace ghl::daemon
