// StateLock: one daemon per state file. Two daemons on one file would dispatch the same
// outbox jobs, so `ghl-syncd run` holds an exclusive flock(2) on `<state file>.lock`, a
// file of its own beside the state file (mode 0600), for its whole life.
//
// - flock, not fcntl: a BSD lock is independent of SQLite's POSIX locks on the database,
//   and closing some other descriptor of the file does not drop it. The lock is on a file
//   of its own so that it stays independent where flock is emulated with POSIX locks (NFS).
// - The kernel releases it when the process ends, however it ends (SIGKILL, a crash): a
//   restart never finds a stale lock. The descriptor is O_CLOEXEC.
// - The holder writes its pid into the file, for the message of the next one that tries.
// - The lock file is never removed: removing it while a daemon runs would let a second one
//   create a new file and lock that.
//
// The operator commands (`status`, `dlq`, `audit`, `plan`) do not take it: they only read,
// or edit rows in one transaction that the running daemon picks up.
#pragma once

#include <filesystem>
#include <memory>

#include "core/result.h"

namespace ghl::state {

class StateLock {
 public:
  enum class Mode {
    kCreate,     // missing directories (0700) and lock file (0600) are created
    kIfPresent,  // a missing lock file (or directory) is no error: the result is nullptr
  };

  // `<state_path>.lock`.
  static std::filesystem::path PathFor(const std::filesystem::path& state_path);

  // Takes the lock without waiting and writes this process's pid into the lock file.
  // Fails at once when another process holds it, with a message that names the state
  // file, the holder's pid when it wrote one, and what to do.
  static Result<std::unique_ptr<StateLock>> Acquire(const std::filesystem::path& state_path,
                                                    Mode mode);

  ~StateLock();  // closes the descriptor, which releases the lock
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace ghl::state
