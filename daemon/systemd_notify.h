// SystemdNotifier: READY/STOPPING/STATUS/WATCHDOG messages to the service manager.
//
// Uses sd_notify(3) from libsystemd; outside systemd (no NOTIFY_SOCKET) every call is a
// cheap no-op. When the unit sets WatchdogSec=, StartWatchdog() pings at half the
// interval the manager asked for (WATCHDOG_USEC), from a timer on the event loop, so a
// wedged loop stops the pings and systemd restarts the service.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace ghl::daemon {

class SystemdNotifier {
 public:
  explicit SystemdNotifier(boost::asio::io_context& io);

  void Ready(const std::string& status);
  void Stopping(const std::string& status);
  void Reloading();
  void Status(const std::string& status);

  // Starts the watchdog timer if the manager asked for one; returns the ping interval.
  std::optional<std::chrono::microseconds> StartWatchdog();
  void StopWatchdog();

 private:
  void Send(const std::string& message);
  void Ping();

  boost::asio::steady_timer timer_;
  std::chrono::microseconds interval_{0};
  bool watchdog_running_ = false;
};

}  // namespace ghl::daemon
