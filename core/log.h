// Process-wide logging on spdlog, to stderr.
//
// Under systemd (stderr connected to the journal, detected through JOURNAL_STREAM as
// sd_journal_stream_fd(3) documents) each line starts with a syslog priority prefix
// "<N>" and carries no timestamp, since journald records its own. Elsewhere lines are
// "2026-11-29T09:04:48.123Z info  message".
#pragma once

#include <optional>
#include <string_view>

namespace ghl::log {

enum class Format { kAuto, kText, kJournal };

// Levels in config spelling: trace, debug, info, warn, error.
std::optional<int> ParseLevel(std::string_view name);  // spdlog::level::level_enum value
std::optional<Format> ParseFormat(std::string_view name);

// True when stderr is the journal stream systemd gave us.
bool StderrIsJournal();

// Installs the default logger; called again (on reload, with other threads logging), it
// changes that logger's level and format in place.
void Setup(int level, Format format);

}  // namespace ghl::log
