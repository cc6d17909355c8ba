#include "config/diagnostics.h"

namespace ghl::config {

std::string Diagnostic::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string Join(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.ToString() + "\n";
  return out;
}

}  // namespace ghl::config
