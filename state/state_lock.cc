#include "state/state_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <string>
#include <system_error>

#include "state/sqlite_state_store.h"

namespace ghl::state {
namespace {

std::string Reason(int err) { return std::generic_category().message(err); }

// Opens the lock file for reading and writing; -1 with errno on failure. With `create`, a
// missing file is created with mode 0600 whatever the umask.
int OpenLockFile(const std::filesystem::path& path, bool create) {
  constexpr int kFlags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
  if (create) {
    const int fd = open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      if (fchmod(fd, 0600) != 0) {
        spdlog::warn("cannot chmod lock file {}: {}", path.string(), Reason(errno));
      }
      return fd;
    }
    if (errno != EEXIST) return -1;
  }
  return open(path.c_str(), kFlags);
}

// The pid the holder wrote, or "" when it wrote none (yet).
std::string HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid;
  for (ssize_t i = 0; i < n && std::isdigit(static_cast<unsigned char>(buf[i])) != 0; ++i) {
    pid += buf[i];
  }
  return pid;
}

void WritePid(int fd, const std::filesystem::path& path) {
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    spdlog::warn("cannot write this process's pid into lock file {}: {}", path.string(),
                 Reason(errno));
  }
}

}  // namespace

std::filesystem::path StateLock::PathFor(const std::filesystem::path& state_path) {
  std::filesystem::path lock = state_path;
  lock += ".lock";
  return lock;
}

Result<std::unique_ptr<StateLock>> StateLock::Acquire(const std::filesystem::path& state_path,
                                                      Mode mode) {
  const std::filesystem::path path = PathFor(state_path);
  const bool create = mode == Mode::kCreate;
  if (create) {
    if (auto dirs = CreateStateDirectories(state_path.parent_path()); !dirs) return dirs.error();
  }
  const int fd = OpenLockFile(path, create);
  if (fd < 0) {
    const int err = errno;
    if ((err == ENOENT || err == ENOTDIR) && !create) return std::unique_ptr<StateLock>();
    return Error{fmt::format("cannot open lock file {} of state file {}: {}", path.string(),
                             state_path.string(), Reason(err))};
  }
  std::unique_ptr<StateLock> lock(new StateLock(fd));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{fmt::format("lock file {} of state file {} is not a regular file", path.string(),
                             state_path.string())};
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      return Error{fmt::format("cannot lock {} (the lock file of state file {}): {}", path.string(),
                               state_path.string(), Reason(err))};
    }
    const std::string pid = HolderPid(fd);
    return Error{fmt::format(
        "another ghl-syncd is running with state file {}{}; stop it first or give this one its "
        "own state file",
        state_path.string(), pid.empty() ? "" : " (pid " + pid + ")")};
  }
  WritePid(fd, path);
  return lock;
}

StateLock::~StateLock() { close(fd_); }

}  // namespace ghl::state
