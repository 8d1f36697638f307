// The benchmark's private world: a temporary directory with a tmpfs on it,
// inside a private mount namespace (so neither the tmpfs nor crun's
// hybrid-layout workaround is ever visible on the host), the bundles, one
// --root per runtime, and a cgroup parent /berth-bench-<pid> that belongs to
// this run alone. The destructor removes all of it: leftover containers
// (`RUNTIME delete --force`), every cgroup below the parent, the mounts and
// the directory.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/host.hpp"
#include "common/error.hpp"

namespace berth::bench {

struct WorkspaceOptions {
  std::string parent_dir = "/tmp";  // where the temporary directory goes
  std::string tmpfs_size = "256m";
  bool hide_controllers = true;     // on a hybrid layout, for crun
};

class Workspace {
 public:
  /// Enters a private mount namespace (this process, for good) and sets
  /// everything up. Needs root.
  static Result<std::unique_ptr<Workspace>> create(const WorkspaceOptions& opts);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const std::string& dir() const { return dir_; }
  const Cgroups& cgroups() const { return cgroups_; }
  bool controllers_hidden() const { return hidden_; }
  /// "berth-bench-<pid>", the cgroup parent's name in every hierarchy.
  const std::string& cgroup_name() const { return cgroup_name_; }

  /// Copies a binary into the workspace (a rebuild during the run cannot
  /// swap it) and returns the copy's path.
  Result<std::string> private_copy(const std::string& binary, const std::string& name);

  /// The --root of a runtime (created on first use).
  Result<std::string> state_root(const std::string& runtime);

  /// Writes `slots` bundles for `runtime`, each with `base` (see
  /// bench_config) and its own cgroupsPath /<cgroup_name>/<runtime>-<slot>;
  /// returns their directories.
  Result<std::vector<std::string>> make_bundles(const std::string& runtime, const nlohmann::json& base,
                                                const std::string& base_bundle_dir, int slots);

  /// Registers a runtime binary for clean-up: containers still in its root
  /// get `BINARY --root ROOT delete --force ID`.
  void track_runtime(const std::string& runtime, const std::string& binary);

  /// Container ids present in a runtime's root (should be none between runs).
  std::vector<std::string> containers_in(const std::string& runtime) const;

  /// Deletes what the runtimes left (containers, then cgroups below the
  /// parent); returns the cgroups that could not be removed. Idempotent.
  std::vector<std::string> clean_runtimes();

 private:
  Workspace() = default;
  void tear_down();

  std::string dir_;
  std::string cgroup_name_;
  std::string controllers_file_;
  Cgroups cgroups_;
  bool tmpfs_ = false, hidden_ = false, removed_ = false;
  std::vector<std::pair<std::string, std::string>> runtimes_;  // name, binary
};

}  // namespace berth::bench
