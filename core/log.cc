#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace ghl::log {
namespace {

// "<N>" as sd-daemon(3) defines it: the syslog priority of the line.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char* prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prefix = "<7>";
        break;
      case spdlog::level::info:
        prefix = "<6>";
        break;
      case spdlog::level::warn:
        prefix = "<4>";
        break;
      case spdlog::level::err:
        prefix = "<3>";
        break;
      case spdlog::level::critical:
        prefix = "<2>";
        break;
      default:
        break;
    }
    dest.append(prefix, prefix + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

}  // namespace

std::optional<int> ParseLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "auto") return Format::kAuto;
  if (name == "text") return Format::kText;
  if (name == "journal") return Format::kJournal;
  return std::nullopt;
}

bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");  // NOLINT(concurrency-mt-unsafe)
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void Setup(int level, Format format) {
  // Other threads log through spdlog::default_logger_raw() without holding a reference,
  // so a logger once installed is never replaced (that would free it under them): a
  // reload changes its formatter, under the sink's lock, and its level, an atomic.
  static std::shared_ptr<spdlog::logger> installed;
  const bool journal = format == Format::kJournal || (format == Format::kAuto && StderrIsJournal());
  std::unique_ptr<spdlog::pattern_formatter> formatter;
  if (journal) {
    formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%v");
  } else {
    formatter = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ [%l] %v",
                                                            spdlog::pattern_time_type::utc);
  }
  const bool fresh = !installed || spdlog::default_logger_raw() != installed.get();
  if (fresh) {
    installed = std::make_shared<spdlog::logger>("ghl-syncd",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
    installed->flush_on(spdlog::level::trace);
  }
  installed->set_formatter(std::move(formatter));
  installed->set_level(static_cast<spdlog::level::level_enum>(level));
  if (fresh) spdlog::set_default_logger(installed);
}

}  // namespace ghl::log
