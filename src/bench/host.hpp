// The machine the benchmark runs on: what it is (for the report), its
// cgroup hierarchies, and the private mount namespace every runtime runs in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace berth::bench {

struct Machine {
  std::string kernel;     // "Linux 6.18.44 x86_64"
  std::string cpu_model;  // /proc/cpuinfo's first "model name"
  int cpus = 0;           // online CPUs
  uint64_t memory_kib = 0;
  std::string date;       // RFC 3339, UTC, when the benchmark started
};

/// Reads uname(2), /proc/cpuinfo and /proc/meminfo; missing bits stay empty.
Machine read_machine();

/// /proc/loadavg's three load averages, "1.52 2.58 4.95".
std::string load_average();

/// The cgroup hierarchies, from /proc/self/mountinfo.
struct Cgroups {
  enum class Layout { unified, hybrid, legacy, none } layout = Layout::none;
  std::string v2_mount;                  // empty without cgroup v2
  std::string v2_controllers;            // its cgroup.controllers
  std::vector<std::string> mounts;       // every cgroup and cgroup2 mount point (directories)
  std::string describe() const;
};
Result<Cgroups> probe_cgroups();

/// Parses mountinfo text into the cgroup mount points (for tests).
std::vector<std::pair<std::string, std::string>> cgroup_mounts_from(const std::string& mountinfo);

/// unshare(CLONE_NEWNS) and make every mount private in the new namespace:
/// mounts made afterwards never reach the host, and vanish with the process.
Status enter_private_mount_namespace();
/// Mounts a tmpfs (mode 0700) on `dir`; only for the private namespace.
Status mount_tmpfs(const std::string& dir, const std::string& size);
/// Bind-mounts `empty_file` over `target` (crun's hybrid-layout workaround).
Status bind_over(const std::string& empty_file, const std::string& target);
/// umount2(MNT_DETACH).
Status unmount(const std::string& dir);

/// Every `<mount>/<name>` directory that exists.
std::vector<std::string> cgroup_dirs(const std::vector<std::string>& mounts, const std::string& name);

/// Removes `<mount>/<name>` and everything below it in every hierarchy, deepest
/// first. A cgroup that is still busy can only hold a container of this
/// benchmark (its name is unique to this run): its processes get SIGKILL
/// and the removal is retried for up to a second. Returns the cgroups that
/// remain.
std::vector<std::string> remove_cgroup_trees(const std::vector<std::string>& mounts, const std::string& name);

}  // namespace berth::bench
