#include "connectors/csv/csv_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ghl::connectors::csv {
namespace {

std::string Errno(const std::string& what, const std::filesystem::path& path, int err) {
  return "cannot " + what + " " + path.string() + ": " + std::strerror(err);
}

FileStamp StampOf(const struct stat& st) {
  FileStamp s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.modified = st.st_mtim;
  s.mode = st.st_mode & 07777;
  s.owner = st.st_uid;
  s.group = st.st_gid;
  return s;
}

// Closes a descriptor on every path out of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Result<void> WriteAll(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{Errno("write", path, errno)};
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok();
}

// Writes, fsyncs and closes the temporary file.
Result<void> FillTemporary(Fd& fd, std::string_view bytes, const std::filesystem::path& tmp,
                           const std::optional<FileStamp>& previous) {
  if (auto w = WriteAll(fd.get(), bytes, tmp); !w.ok()) return w;
  const mode_t mode = previous ? previous->mode : 0644;
  if (::fchmod(fd.get(), mode) != 0) return Error{Errno("set the mode of", tmp, errno)};
  // Keeping the owner needs privileges; without them the file stays the daemon's.
  if (previous) (void)!::fchown(fd.get(), previous->owner, previous->group);
  if (::fsync(fd.get()) != 0) return Error{Errno("fsync", tmp, errno)};
  if (::close(fd.Release()) != 0) return Error{Errno("close", tmp, errno)};
  return Ok();
}

Result<void> SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Error{Errno("open directory", dir, errno)};
  if (::fsync(fd.get()) != 0) return Error{Errno("fsync directory", dir, errno)};
  return Ok();
}

// Moves tmp over path, unless path changed since `previous` was taken.
Result<void> Install(const std::filesystem::path& tmp, const std::filesystem::path& path,
                     const std::optional<FileStamp>& previous) {
  if (!previous) {
    // A new file: fail rather than replace one that another program created meanwhile.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
      return Ok();
    }
    if (errno == EEXIST) {
      return Error{path.string() + " was created by another program meanwhile; not replaced"};
    }
    return Error{Errno("rename a temporary file to", path, errno)};
  }
  auto now = StatFile(path);
  if (!now.ok()) return now.error();
  if (!*now || !(*now)->SameFile(*previous)) {
    return Error{path.string() + " was changed by another program while it was being rewritten;" +
                 " nothing was written (the write is retried on the new contents)"};
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Error{Errno("rename a temporary file to", path, errno)};
  }
  return Ok();
}

}  // namespace

bool FileStamp::SameFile(const FileStamp& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
}

Result<std::optional<FileStamp>> StatFile(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<FileStamp>();
    return Error{Errno("stat", path, errno)};
  }
  return std::optional<FileStamp>(StampOf(st));
}

Result<std::optional<FileContents>> ReadWholeFile(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<FileContents>();
    return Error{Errno("open", path, errno)};
  }
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0) return Error{Errno("stat", path, errno)};
  if (!S_ISREG(before.st_mode)) return Error{path.string() + " is not a regular file"};
  FileContents out;
  out.bytes.resize(static_cast<std::size_t>(before.st_size));
  std::size_t got = 0;
  for (;;) {
    if (got == out.bytes.size()) out.bytes.resize(got + 64 * 1024);  // grew meanwhile?
    const ssize_t n = ::read(fd.get(), out.bytes.data() + got, out.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{Errno("read", path, errno)};
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.bytes.resize(got);
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0) return Error{Errno("stat", path, errno)};
  out.stamp = StampOf(before);
  if (got != static_cast<std::size_t>(before.st_size) || !out.stamp.SameFile(StampOf(after))) {
    return Error{path.string() +
                 " changed while it was being read (another program is writing it); it is read "
                 "again on the next attempt"};
  }
  return std::optional<FileContents>(std::move(out));
}

Result<void> ReplaceFile(const std::filesystem::path& path, std::string_view bytes,
                         const std::optional<FileStamp>& previous) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::string tmp_name = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  Fd fd(::mkostemp(tmp_name.data(), O_CLOEXEC));
  if (fd.get() < 0) return Error{Errno("create a temporary file in", dir, errno)};
  const std::filesystem::path tmp = tmp_name;
  auto done = FillTemporary(fd, bytes, tmp, previous);
  if (done.ok()) done = Install(tmp, path, previous);
  if (!done.ok()) {
    ::unlink(tmp.c_str());
    return done;
  }
  return SyncDirectory(dir);
}

}  // namespace ghl::connectors::csv
