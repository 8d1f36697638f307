// File and path helpers. Errors always name the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth {

/// open(2) with O_CLOEXEC added; the error names the path.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);
/// openat(2) with O_CLOEXEC added.
Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode = 0);

/// Reads a whole file (small files: configs, state, /proc entries).
Result<std::string> read_file(const std::string& path);
Result<std::string> read_file_at(int dirfd, const std::string& name);
/// Reads everything from an fd until EOF.
Result<std::string> read_fd(int fd);

/// Writes all of `data`, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data, const std::string& what);
/// Writes a file in place (O_WRONLY|O_TRUNC, no create unless `create`).
Status write_file(const std::string& path, std::string_view data, bool create = false, mode_t mode = 0644);
/// Writes `name` inside `dirfd` via a temporary file and rename(2), so
/// readers see either the old or the new content, never a torn one.
Status write_file_atomic(int dirfd, const std::string& name, std::string_view data, mode_t mode = 0644);

/// Creates `path` and missing parents; appends each directory it made to
/// `created` (outermost first) so a failure can undo exactly those.
Status mkdir_all(const std::string& path, mode_t mode, std::vector<std::string>* created = nullptr);
/// Removes a file or a whole tree without following symlinks; missing is fine.
Status remove_all(const std::string& path);

/// Lexical cleanup like Go's filepath.Clean: "a//b/../c/" -> "a/c".
std::string clean_path(std::string_view path);
/// Joins two paths with exactly one slash between them.
std::string path_join(std::string_view a, std::string_view b);
/// The absolute form of `path` relative to the current directory, cleaned.
Result<std::string> absolute_path(const std::string& path);
/// True if the path exists (lstat succeeds).
bool path_exists(const std::string& path);

}  // namespace berth
