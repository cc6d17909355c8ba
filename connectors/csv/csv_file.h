// File IO for the CSV connector: reading a whole file consistently, and replacing it
// atomically (temporary file in the same directory, fsync, rename, fsync of the directory),
// so that readers see the old file or the new one, never half of either.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ghl::connectors::csv {

// What identifies one version of a file on disk.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  mode_t mode = 0;
  uid_t owner = 0;
  gid_t group = 0;
  bool SameFile(const FileStamp& other) const;  // same inode, size and mtime
};

struct FileContents {
  std::string bytes;
  FileStamp stamp;
};

// The whole file, or nullopt when it does not exist. Fails when it cannot be read, or
// changed while it was read (another program is writing it: try again later).
Result<std::optional<FileContents>> ReadWholeFile(const std::filesystem::path& path);

// The file's stamp now, or nullopt when it does not exist.
Result<std::optional<FileStamp>> StatFile(const std::filesystem::path& path);

// Replaces `path` with `bytes`: writes a hidden temporary file beside it, fsyncs it, gives
// it the old file's mode and owner (`previous`; 0644 for a new file), renames it over
// `path` and fsyncs the directory. `previous` is the stamp the caller read: when the file
// has changed since (or, for nullopt, has appeared), nothing is replaced and the call fails,
// so another program's edit is never overwritten unseen. On any failure the old file is
// left as it was and the temporary file is removed.
Result<void> ReplaceFile(const std::filesystem::path& path, std::string_view bytes,
                         const std::optional<FileStamp>& previous);

}  // namespace ghl::connectors::csv
