// Logging setup: a reload reconfigures the logger other threads are writing through.
#include "core/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace ghl {
namespace {

// Sends stderr to /dev/null for the life of the object.
class QuietStderr {
 public:
  QuietStderr() : saved_(dup(2)) {
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(null, 2);
    close(null);
  }
  ~QuietStderr() {
    dup2(saved_, 2);
    close(saved_);
  }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  int saved_;
};

TEST(LogSetup, AReloadChangesLevelAndFormatOfTheLoggerInPlace) {
  log::Setup(spdlog::level::info, log::Format::kText);
  spdlog::logger* const first = spdlog::default_logger_raw();
  log::Setup(spdlog::level::warn, log::Format::kJournal);
  EXPECT_EQ(spdlog::default_logger_raw(), first) << "a reload must not free the logger in use";
  EXPECT_EQ(spdlog::default_logger_raw()->level(), spdlog::level::warn);
  log::Setup(spdlog::level::debug, log::Format::kText);
  EXPECT_EQ(spdlog::default_logger_raw()->level(), spdlog::level::debug);
}

TEST(LogSetup, ReloadingWhileAnotherThreadLogsIsSafe) {
  QuietStderr quiet;
  log::Setup(spdlog::level::info, log::Format::kText);
  std::atomic<bool> stop{false};
  std::atomic<int> lines{0};
  std::thread writer([&] {
    while (!stop.load()) {
      spdlog::info("line {}", lines.fetch_add(1));
    }
  });
  // Reloads until the writer has logged plenty in between.
  for (int i = 0; i < 300 || lines.load() < 2000; ++i) {
    log::Setup(i % 2 == 0 ? spdlog::level::debug : spdlog::level::info,
               i % 3 == 0 ? log::Format::kJournal : log::Format::kText);
  }
  stop = true;
  writer.join();
  EXPECT_GE(lines.load(), 2000);
}

}  // namespace
}  // namespace ghl
