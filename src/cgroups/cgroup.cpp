#include "cgroups/cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <ctime>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "common/log.hpp"
#include "common/strings.hpp"

namespace berth::cgroups {

namespace {

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

void collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  if (auto procs = read_file(dir + "/cgroup.procs")) {
    for (const auto& line : split(*procs, '\n'))
      if (auto pid = parse_int<pid_t>(trim(line))) out.push_back(*pid);
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* ent = ::readdir(d)) {
    if (ent->d_type != DT_DIR || ent->d_name[0] == '.') continue;
    collect_pids(dir + "/" + ent->d_name, out);
  }
  ::closedir(d);
}

}  // namespace

Result<std::string> unified_mountpoint() {
  static std::string cached;
  if (!cached.empty()) return cached;
  auto info = read_file("/proc/self/mountinfo");
  if (!info) return std::move(info).error();
  for (const auto& line : split(*info, '\n')) {
    // "<id> <parent> <maj:min> <root> <mountpoint> <opts> [optional...] - <fstype> <source> <superopts>"
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto after = split(line.substr(dash + 3), ' ');
    if (after.empty() || after[0] != "cgroup2") continue;
    auto fields = split(line.substr(0, dash), ' ');
    if (fields.size() < 5) continue;
    cached = fields[4];
    return cached;
  }
  return Error(ENOENT, "cgroup v2 hierarchy is not mounted (no cgroup2 entry in /proc/self/mountinfo)");
}

Result<std::string> own_cgroup() {
  auto text = read_file("/proc/self/cgroup");
  if (!text) return std::move(text).error();
  for (const auto& line : split(*text, '\n'))
    if (starts_with(line, "0::")) return line.substr(3);
  return Error(ENOENT, "no cgroup v2 entry in /proc/self/cgroup");
}

std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own) {
  std::string p = cgroups_path.empty() ? id : cgroups_path;
  if (!p.empty() && p.front() == '/') return clean_path(p);
  // Cleaning as a rooted path first keeps ".." from climbing out of `own`.
  std::string inner = clean_path("/" + p);
  if (own.empty() || own == "/") return inner;
  return clean_path(own + inner);
}

Result<Cgroup> Cgroup::create(const std::string& mountpoint, const std::string& rel_path) {
  Cgroup cg = at(mountpoint, rel_path);
  std::vector<std::string> created;
  // mkdir_all only lists what it made, so a pre-existing parent is never removed by us.
  if (auto st = mkdir_all(cg.dir_, 0755, &created); !st) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    return std::move(st).error().wrap(cat("create cgroup ", rel_path));
  }
  cg.created_ = std::move(created);
  return cg;
}

Cgroup Cgroup::at(const std::string& mountpoint, const std::string& rel_path) {
  Cgroup cg;
  cg.mount_ = mountpoint;
  cg.rel_ = rel_path;
  cg.dir_ = rel_path == "/" ? mountpoint : mountpoint + rel_path;
  return cg;
}

Result<UniqueFd> Cgroup::open_dir() const { return open_file(dir_, O_RDONLY | O_DIRECTORY); }

Status Cgroup::add_process(pid_t pid) const {
  if (auto st = write_file(dir_ + "/cgroup.procs", cat(pid)); !st)
    return Error(st.error().code(), cat("move process ", pid, " into cgroup ", rel_));
  return {};
}

std::vector<pid_t> Cgroup::pids() const {
  std::vector<pid_t> out;
  collect_pids(dir_, out);
  return out;
}

bool Cgroup::populated() const {
  auto events = read_file(dir_ + "/cgroup.events");
  if (!events) return !pids().empty();
  for (const auto& line : split(*events, '\n'))
    if (starts_with(line, "populated ")) return trim(line.substr(10)) != "0";
  return false;
}

bool Cgroup::exists() const {
  struct stat st{};
  return ::stat(dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status Cgroup::signal_all(int sig) const {
  if (sig == SIGKILL && write_file(dir_ + "/cgroup.kill", "1").ok()) return {};
  for (pid_t pid : pids())
    if (::kill(pid, sig) < 0 && errno != ESRCH) return sys_error("signal process ", pid);
  return {};
}

Status Cgroup::wait_empty(int timeout_ms) const {
  UniqueFd events(::open((dir_ + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    // Reading the file also re-arms kernfs' change notification for poll.
    bool busy = true;
    if (events) {
      char buf[256];
      ssize_t n = ::pread(events.get(), buf, sizeof buf - 1, 0);
      if (n >= 0) {
        buf[n] = '\0';
        busy = std::string_view(buf, static_cast<size_t>(n)).find("populated 1") != std::string_view::npos;
      }
    } else {
      busy = populated();
    }
    if (!busy) return {};
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed >= timeout_ms)
      return Error(EBUSY, cat("cgroup ", rel_, " still has processes after ", timeout_ms, " ms"));
    int wait = static_cast<int>(timeout_ms - elapsed);
    if (events) {
      // A change of "populated" is signalled as POLLPRI on the events file.
      pollfd p{events.get(), POLLPRI, 0};
      if (::poll(&p, 1, wait) < 0 && errno != EINTR) return sys_error("poll ", rel_, "/cgroup.events");
    } else {
      sleep_ms(std::min(wait, 5));
    }
  }
}

Status Cgroup::destroy(bool created_only) {
  if (!exists()) return {};
  if (populated()) {
    (void)signal_all(SIGKILL);
    BERTH_TRY(wait_empty(10000));
  }
  // rmdir can race with the kernel releasing the last css: retry on EBUSY.
  auto remove_one = [&](const std::string& d) -> Status {
    for (int attempt = 0;; ++attempt) {
      if (::rmdir(d.c_str()) == 0 || errno == ENOENT) return {};
      if (errno != EBUSY || attempt >= 50) return sys_error("remove cgroup ", d);
      sleep_ms(2);
    }
  };
  // Child cgroups a process of the container made (systemd, a nested
  // runtime) go first: a cgroup with children cannot be removed.
  std::function<Status(const std::string&)> remove_tree = [&](const std::string& d) -> Status {
    if (DIR* dir = ::opendir(d.c_str())) {
      std::vector<std::string> children;
      while (dirent* e = ::readdir(dir))
        if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(d + "/" + e->d_name);
      ::closedir(dir);
      for (const auto& c : children) BERTH_TRY(remove_tree(c));
    }
    return remove_one(d);
  };
  if (created_only) {
    // Below the leaf are only the container's own children; the parents in
    // created_ hold nothing but the path to it.
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) BERTH_TRY(remove_tree(*it));
    created_.clear();
    return {};
  }
  return remove_tree(dir_);
}

}  // namespace berth::cgroups
