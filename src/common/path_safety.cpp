#include "common/path_safety.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include "common/fs.hpp"

namespace berth {

namespace {

int sys_openat2(int dirfd, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  // The kernel rejects a mode without O_CREAT/O_TMPFILE.
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    // EAGAIN: a concurrent rename raced the lookup; the kernel asks to retry.
    if (fd < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    return static_cast<int>(fd);
  }
}

// Components of a cleaned path relative to the root ("" for the root itself).
std::vector<std::string> components(std::string_view path) {
  std::string cleaned = clean_path(cat("/", path));
  std::vector<std::string> out;
  if (cleaned == "/") return out;
  for (auto& part : split(std::string_view(cleaned).substr(1), '/')) out.push_back(part);
  return out;
}

}  // namespace

std::string fd_path(int fd) { return cat("/proc/self/fd/", fd); }

Result<UniqueFd> open_in_root(int rootfd, std::string_view path, int flags, mode_t mode) {
  std::string rel = clean_path(cat("/", path)).substr(1);
  if (rel.empty()) rel = ".";
  int fd = sys_openat2(rootfd, rel.c_str(), flags, mode);
  if (fd < 0) return sys_error("open ", clean_path(cat("/", path)));
  return UniqueFd(fd);
}

Result<UniqueFd> mkdir_all_in_root(int rootfd, std::string_view path, mode_t mode) {
  // Fast path: the whole directory already exists.
  std::string full = clean_path(cat("/", path));
  if (full == "/") {
    int fd = sys_openat2(rootfd, ".", O_PATH | O_DIRECTORY, 0);
    if (fd < 0) return sys_error("open root");
    return UniqueFd(fd);
  }
  if (int fd = sys_openat2(rootfd, full.c_str() + 1, O_PATH | O_DIRECTORY, 0); fd >= 0) return UniqueFd(fd);

  // Walk component by component. `prefix` always names an existing
  // directory relative to the root; every lookup of it is confined by
  // RESOLVE_IN_ROOT, so symlinks met on the way are read relative to the root.
  std::deque<std::string> todo;
  for (auto& part : components(path)) todo.push_back(std::move(part));
  std::string prefix;
  UniqueFd cur(sys_openat2(rootfd, ".", O_PATH | O_DIRECTORY, 0));
  if (!cur) return sys_error("open root");
  int links = 0;
  while (!todo.empty()) {
    std::string part = todo.front();
    todo.pop_front();
    if (part.empty() || part == ".") continue;
    // ".." (from a symlink's target) is left to the kernel, which resolves
    // it from the physical directory and never above the root.
    std::string candidate = prefix + "/" + part;
    int fd = sys_openat2(rootfd, candidate.c_str() + 1, O_PATH | O_DIRECTORY, 0);
    if (fd < 0 && errno == ENOENT) {
      // Missing, or a symlink to something missing: create the target the
      // way the image meant it, inside the root (as runc does).
      char target[4096];
      ssize_t n = ::readlinkat(cur.get(), part.c_str(), target, sizeof target - 1);
      if (n >= 0) {
        if (++links > 40) return Error(ELOOP, cat("open ", candidate));
        target[n] = '\0';
        std::vector<std::string> expanded;
        for (auto& t : split(target, '/')) expanded.push_back(std::move(t));
        todo.insert(todo.begin(), expanded.begin(), expanded.end());
        if (target[0] == '/') {
          prefix.clear();
          cur.reset(sys_openat2(rootfd, ".", O_PATH | O_DIRECTORY, 0));
          if (!cur) return sys_error("open root");
        }
        continue;
      }
      if (::mkdirat(cur.get(), part.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir ", candidate);
      fd = sys_openat2(rootfd, candidate.c_str() + 1, O_PATH | O_DIRECTORY, 0);
    }
    if (fd < 0) return sys_error("open ", candidate);
    cur.reset(fd);
    prefix = candidate;
  }
  return cur;
}

Result<UniqueFd> ensure_in_root(int rootfd, std::string_view path, bool dir, mode_t mode) {
  if (dir) return mkdir_all_in_root(rootfd, path, mode);
  auto parts = components(path);
  if (parts.empty()) return make_error("cannot use / as a file");
  std::string last = parts.back();
  std::string parent_path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) parent_path += "/" + parts[i];
  auto parent = mkdir_all_in_root(rootfd, parent_path, 0755);
  if (!parent) return std::move(parent).error();
  std::string full = parent_path + "/" + last;
  int fd = sys_openat2(rootfd, full.c_str() + 1, O_PATH, 0);
  if (fd < 0 && errno == ENOENT) {
    // O_PATH cannot create; make the file through the parent, then resolve it again.
    int created = ::openat(parent->get(), last.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
    if (created < 0 && errno != EEXIST) return sys_error("create ", full);
    if (created >= 0) ::close(created);
    fd = sys_openat2(rootfd, full.c_str() + 1, O_PATH, 0);
  }
  if (fd < 0) return sys_error("open ", full);
  return UniqueFd(fd);
}

}  // namespace berth
