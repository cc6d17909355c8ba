// FreePort: a TCP port on 127.0.0.1 that nothing listens on right now (0 if none could be
// had), for servers a test starts as separate processes.
//
// The port is drawn at random from outside the kernel's ephemeral range
// (net.ipv4.ip_local_port_range). A port the kernel handed out for `bind(0)` is free again the
// moment the probe closes it, and the next process to bind port 0 (a daemon's metrics listener,
// an outgoing connection) may well get the same one; CI lost a run to exactly that. Ports
// outside the ephemeral range are never handed out that way, and this process never hands out
// the same port twice.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <utility>

namespace ghl::testing {

namespace free_port_detail {

inline bool CanListen(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The larger stretch of [10000, 65535] outside the ephemeral range.
inline std::pair<int, int> Range() {
  int lo = 32768, hi = 60999;
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  if (!(in >> lo >> hi)) {
    lo = 32768;
    hi = 60999;
  }
  const std::pair<int, int> below{10000, lo - 1};
  const std::pair<int, int> above{hi + 1, 65535};
  return below.second - below.first >= above.second - above.first ? below : above;
}

}  // namespace free_port_detail

inline uint16_t FreePort() {
  static std::mutex mutex;
  static std::set<uint16_t> given;
  static std::mt19937 rng{std::random_device{}()};
  const auto [lo, hi] = free_port_detail::Range();
  if (hi <= lo) return 0;
  std::lock_guard lock(mutex);
  std::uniform_int_distribution<int> pick(lo, hi);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(rng));
    if (given.contains(port) || !free_port_detail::CanListen(port)) continue;
    given.insert(port);
    return port;
  }
  return 0;
}

}  // namespace ghl::testing
