// cgroup v2: locating the unified hierarchy, creating a container's cgroup,
// moving processes, killing everything in it and removing it.
//
// Only cgroups that berth creates are ever written to; the host's existing
// hierarchies are read (mountinfo, cgroup.controllers) but never changed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

/// Where the cgroup2 hierarchy is mounted, from /proc/self/mountinfo:
/// /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
Result<std::string> unified_mountpoint();

/// The cgroup v2 path of the calling process ("0::/a/b" -> "/a/b").
Result<std::string> own_cgroup();

/// Resolves a config's cgroupsPath to a path inside the hierarchy, the way
/// runc does: absolute paths are taken as they are, relative ones (and the
/// default, the container id) are nested under the caller's own cgroup.
/// ".." can never climb above the hierarchy's root.
std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own);

/// One container's cgroup directory.
class Cgroup {
 public:
  Cgroup() = default;
  /// Creates `rel_path` (and missing parents) under `mountpoint`. An existing
  /// empty cgroup is reused, as runc does for pre-made pod cgroups.
  static Result<Cgroup> create(const std::string& mountpoint, const std::string& rel_path);
  /// Refers to an existing cgroup directory (for delete, kill --all).
  static Cgroup at(const std::string& mountpoint, const std::string& rel_path);

  /// Absolute filesystem path of the directory.
  const std::string& dir() const { return dir_; }
  /// Path inside the hierarchy ("/berth/c1").
  const std::string& path() const { return rel_; }
  /// Directories this object created, outermost first.
  const std::vector<std::string>& created() const { return created_; }

  /// An O_DIRECTORY fd of the cgroup (for clone3's CLONE_INTO_CGROUP).
  Result<UniqueFd> open_dir() const;
  /// Moves a process into the cgroup.
  Status add_process(pid_t pid) const;
  /// Pids of all processes in the cgroup and its descendants.
  std::vector<pid_t> pids() const;
  /// True while any process lives in the cgroup or below.
  bool populated() const;
  /// True if the directory exists.
  bool exists() const;
  /// Sends `sig` to every process: cgroup.kill for SIGKILL (atomic against
  /// forks), one kill(2) per pid otherwise.
  Status signal_all(int sig) const;
  /// Waits until no process is left, up to `timeout_ms`.
  Status wait_empty(int timeout_ms) const;
  /// Kills what is left, waits for it to be gone and removes the directory
  /// (and, if `created_only`, only directories this object created).
  Status destroy(bool created_only = false);

 private:
  std::string mount_;
  std::string rel_;
  std::string dir_;
  std::vector<std::string> created_;
};

}  // namespace berth::cgroups
