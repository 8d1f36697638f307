#include "common/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <ctime>

namespace berth {

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open ", path);
  return UniqueFd(fd);
}

Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode) {
  int fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open ", name);
  return UniqueFd(fd);
}

Result<std::string> read_fd(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> read_file(const std::string& path) {
  return read_file_at(AT_FDCWD, path);
}

Result<std::string> read_file_at(int dirfd, const std::string& name) {
  auto fd = open_at(dirfd, name, O_RDONLY);
  if (!fd) return std::move(fd).error();
  auto data = read_fd(fd->get());
  if (!data) return Error(data.error().code(), cat("read ", name));
  return data;
}

Status write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write ", what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status write_file(const std::string& path, std::string_view data, bool create, mode_t mode) {
  int flags = O_WRONLY | O_TRUNC | (create ? O_CREAT : 0);
  auto fd = open_file(path, flags, mode);
  if (!fd) return std::move(fd).error();
  return write_all(fd->get(), data, path);
}

Status write_file_atomic(int dirfd, const std::string& name, std::string_view data, mode_t mode) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::string tmp = cat(".", name, ".", ::getpid(), ".", ts.tv_nsec, ".tmp");
  auto fd = open_at(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd) return std::move(fd).error();
  if (auto st = write_all(fd->get(), data, name); !st) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return st;
  }
  fd->reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) {
    auto err = sys_error("rename ", tmp, " to ", name);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return err;
  }
  return {};
}

Status mkdir_all(const std::string& path, mode_t mode, std::vector<std::string>* created) {
  std::string cleaned = clean_path(path);
  std::string cur;
  size_t pos = 0;
  while (pos <= cleaned.size()) {
    size_t next = cleaned.find('/', pos);
    if (next == std::string::npos) next = cleaned.size();
    cur = cleaned.substr(0, next);
    pos = next + 1;
    if (cur.empty()) continue;  // leading "/"
    if (::mkdir(cur.c_str(), mode) == 0) {
      if (created) created->push_back(cur);
      continue;
    }
    if (errno != EEXIST) return sys_error("mkdir ", cur);
    struct stat st{};
    if (::stat(cur.c_str(), &st) < 0) return sys_error("stat ", cur);
    if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, cat("mkdir ", cur));
  }
  return {};
}

namespace {
Status remove_all_at(int dirfd, const std::string& name, const std::string& display) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return sys_error("remove ", display);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return sys_error("open ", display);
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return sys_error("opendir ", display);
  }
  Status result;
  while (dirent* ent = ::readdir(dir)) {
    std::string child = ent->d_name;
    if (child == "." || child == "..") continue;
    if (auto st = remove_all_at(fd, child, display + "/" + child); !st && result.ok()) result = st;
  }
  ::closedir(dir);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT && result.ok())
    result = sys_error("remove ", display);
  return result;
}
}  // namespace

Status remove_all(const std::string& path) {
  return remove_all_at(AT_FDCWD, path, path);
}

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out.append(parts[k]);
  }
  if (out.empty()) return ".";
  return out;
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out.append(b);
  return out;
}

Result<std::string> absolute_path(const std::string& path) {
  if (!path.empty() && path.front() == '/') return clean_path(path);
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) return sys_error("getcwd");
  return clean_path(path_join(buf, path));
}

bool path_exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace berth
