// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ghl::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
    std::string tmpl = std::string(base ? base : "/tmp") + "/ghl-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  // GHL_KEEP_TEST_DIRS=1 keeps the directories (state file, logs, data) for a post-mortem.
  ~TempDir() {
    if (std::getenv("GHL_KEEP_TEST_DIRS") != nullptr) return;  // NOLINT(concurrency-mt-unsafe)
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `contents` to `name` (creating parent directories) and returns its path.
  std::filesystem::path Write(const std::string& name, const std::string& contents) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ghl::testing
