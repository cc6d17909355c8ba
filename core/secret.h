// Secret: a string that must never reach a log line, a metric or an error message.
//
// It has no stream operator and no fmt formatter that reveals it; formatting one prints
// "<redacted>". The only way to the bytes is the explicit Reveal(), used at the point
// where the secret goes on the wire.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

namespace ghl {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  bool empty() const { return value_.empty(); }
  const std::string& Reveal() const { return value_; }
  bool operator==(const Secret& other) const = default;

 private:
  std::string value_;
};

}  // namespace ghl

template <>
struct fmt::formatter<ghl::Secret> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const ghl::Secret& s, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(s.empty() ? "<empty>" : "<redacted>", ctx);
  }
};
