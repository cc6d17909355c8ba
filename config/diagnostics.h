// Diagnostics: every problem found while loading configuration, with its place.
#pragma once

#include <string>
#include <vector>

namespace ghl::config {

struct Diagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when the problem has no line (e.g. a missing file)
  int column = 0;    // 1-based
  std::string path;  // key path such as "ghl.locations[0].token"; empty for the whole file
  std::string message;

  // "file:line:col: path: message", the shape compilers use, so editors can jump to it.
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

std::string Join(const Diagnostics& diagnostics);  // one per line

}  // namespace ghl::config
