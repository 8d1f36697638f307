#include "bench/host.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "common/fs.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"

namespace berth::bench {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto v = parse_int<int>(s.substr(i + 1, 3), 8);
      if (v) {
        out.push_back(static_cast<char>(*v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Subdirectories of `dir`, depth first, children before their parent.
void collect_depth_first(const std::string& dir, std::vector<std::string>& out) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == ".." || e->d_type != DT_DIR) continue;
      collect_depth_first(dir + "/" + n, out);
    }
    ::closedir(d);
  }
  out.push_back(dir);
}

void kill_members(const std::string& cg) {
  auto procs = read_file(cg + "/cgroup.procs");
  if (!procs) return;
  for (const auto& line : split(*procs, '\n'))
    if (auto pid = parse_int<pid_t>(trim(line)); pid && *pid > 0) ::kill(*pid, SIGKILL);
}

}  // namespace

Machine read_machine() {
  Machine m;
  utsname u{};
  if (::uname(&u) == 0) m.kernel = cat(u.sysname, " ", u.release, " ", u.machine);
  if (auto info = read_file("/proc/cpuinfo")) {
    for (const auto& line : split(*info, '\n')) {
      if (!starts_with(line, "model name")) continue;
      if (auto colon = line.find(':'); colon != std::string::npos) m.cpu_model = std::string(trim(line.substr(colon + 1)));
      break;
    }
  }
  m.cpus = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  if (auto mem = read_file("/proc/meminfo")) {
    for (const auto& line : split(*mem, '\n')) {
      if (!starts_with(line, "MemTotal:")) continue;
      std::string_view v = trim(std::string_view(line).substr(9));
      if (auto sp = v.find(' '); sp != std::string_view::npos) v = v.substr(0, sp);
      m.memory_kib = parse_int<uint64_t>(v).value_or(0);
    }
  }
  m.date = rfc3339_now();
  return m;
}

std::string load_average() {
  auto s = read_file("/proc/loadavg");
  if (!s) return "";
  auto f = split(std::string(trim(*s)), ' ');
  if (f.size() < 3) return "";
  return cat(f[0], " ", f[1], " ", f[2]);
}

std::vector<std::pair<std::string, std::string>> cgroup_mounts_from(const std::string& mountinfo) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : split(mountinfo, '\n')) {
    auto f = split(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || dash + 1 == f.end()) continue;
    const std::string& type = *(dash + 1);
    if (type != "cgroup" && type != "cgroup2") continue;
    out.emplace_back(unescape(f[4]), type);
  }
  return out;
}

std::string Cgroups::describe() const {
  switch (layout) {
    case Layout::unified:
      return cat("unified (cgroup v2 only, controllers: ", v2_controllers, ")");
    case Layout::hybrid:
      return cat("hybrid (cgroup v1 controllers; cgroup v2 at ", v2_mount, " with: ",
                 v2_controllers.empty() ? "no controllers" : v2_controllers, ")");
    case Layout::legacy:
      return "legacy (cgroup v1 only)";
    case Layout::none:
      break;
  }
  return "no cgroup hierarchy mounted";
}

Result<Cgroups> probe_cgroups() {
  auto info = read_file("/proc/self/mountinfo");
  if (!info) return std::move(info).error().wrap("probe cgroups");
  Cgroups c;
  bool v1 = false;
  for (const auto& [path, type] : cgroup_mounts_from(*info)) {
    // A file bind-mounted over cgroup.controllers is a cgroup2 mount too.
    if (!is_dir(path) || std::find(c.mounts.begin(), c.mounts.end(), path) != c.mounts.end()) continue;
    c.mounts.push_back(path);
    if (type == "cgroup") v1 = true;
    if (type == "cgroup2" && c.v2_mount.empty()) c.v2_mount = path;
  }
  if (!c.v2_mount.empty()) {
    if (auto ctl = read_file(c.v2_mount + "/cgroup.controllers")) c.v2_controllers = std::string(trim(*ctl));
  }
  if (!c.v2_mount.empty())
    c.layout = v1 ? Cgroups::Layout::hybrid : Cgroups::Layout::unified;
  else if (v1)
    c.layout = Cgroups::Layout::legacy;
  return c;
}

Status enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) < 0) return sys_error("unshare a mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return sys_error("make mounts private in the benchmark's mount namespace");
  return {};
}

Status mount_tmpfs(const std::string& dir, const std::string& size) {
  std::string opts = cat("mode=0700,size=", size);
  if (::mount("berth-bench", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) < 0)
    return sys_error("mount tmpfs on ", dir);
  return {};
}

Status bind_over(const std::string& empty_file, const std::string& target) {
  if (::mount(empty_file.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0)
    return sys_error("bind-mount ", empty_file, " over ", target);
  return {};
}

Status unmount(const std::string& dir) {
  if (::umount2(dir.c_str(), MNT_DETACH) < 0) return sys_error("unmount ", dir);
  return {};
}

std::vector<std::string> cgroup_dirs(const std::vector<std::string>& mounts, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& m : mounts) {
    std::string d = m + "/" + name;
    if (is_dir(d)) out.push_back(d);
  }
  return out;
}

std::vector<std::string> remove_cgroup_trees(const std::vector<std::string>& mounts, const std::string& name) {
  std::vector<std::string> left;
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return left;
  for (const auto& top : cgroup_dirs(mounts, name)) {
    std::vector<std::string> dirs;
    collect_depth_first(top, dirs);
    for (const auto& d : dirs) {
      if (::rmdir(d.c_str()) == 0 || errno == ENOENT) continue;
      bool gone = false;
      for (int attempt = 0; attempt < 20 && !gone; ++attempt) {
        kill_members(d);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        gone = ::rmdir(d.c_str()) == 0 || errno == ENOENT;
      }
      if (!gone) left.push_back(d);
    }
  }
  return left;
}

}  // namespace berth::bench
