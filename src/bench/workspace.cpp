#include "bench/workspace.hpp"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bundle.hpp"
#include "bench/runner.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"

namespace berth::bench {

Result<std::unique_ptr<Workspace>> Workspace::create(const WorkspaceOptions& opts) {
  std::unique_ptr<Workspace> w(new Workspace());
  w->cgroup_name_ = cat("berth-bench-", ::getpid());
  auto cg = probe_cgroups();
  if (!cg) return std::move(cg).error();
  w->cgroups_ = std::move(*cg);
  if (auto there = cgroup_dirs(w->cgroups_.mounts, w->cgroup_name_); !there.empty())
    return make_error("cgroup ", there.front(), " already exists; not touching it");

  std::string tmpl = opts.parent_dir + "/berth-bench.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return sys_error("create a temporary directory in ", opts.parent_dir);
  w->dir_ = buf.data();

  BERTH_TRY(enter_private_mount_namespace());
  BERTH_TRY(mount_tmpfs(w->dir_, opts.tmpfs_size));
  w->tmpfs_ = true;
  if (opts.hide_controllers && w->cgroups_.layout == Cgroups::Layout::hybrid) {
    std::string empty = w->dir_ + "/empty";
    BERTH_TRY(write_file(empty, "", true, 0444));
    w->controllers_file_ = w->cgroups_.v2_mount + "/cgroup.controllers";
    BERTH_TRY(bind_over(empty, w->controllers_file_));
    w->hidden_ = true;
  }
  return w;
}

Workspace::~Workspace() { tear_down(); }

Result<std::string> Workspace::private_copy(const std::string& binary, const std::string& name) {
  BERTH_TRY(mkdir_all(dir_ + "/bin", 0755));
  auto data = read_file(binary);
  if (!data) return std::move(data).error().wrap("copy the runtime binary");
  std::string to = cat(dir_, "/bin/", name);
  BERTH_TRY(write_file(to, *data, true, 0755));
  return to;
}

Result<std::string> Workspace::state_root(const std::string& runtime) {
  std::string root = cat(dir_, "/root-", runtime);
  BERTH_TRY(mkdir_all(root, 0700));
  return root;
}

Result<std::vector<std::string>> Workspace::make_bundles(const std::string& runtime, const nlohmann::json& base,
                                                         const std::string& base_bundle_dir, int slots) {
  std::vector<std::string> dirs;
  for (int s = 0; s < slots; ++s) {
    std::string d = cat(dir_, "/bundles/", runtime, "-", s);
    auto config = bench_config(base, base_bundle_dir, cat("/", cgroup_name_, "/", runtime, "-", s));
    BERTH_TRY(write_bundle_config(d, config));
    dirs.push_back(d);
  }
  return dirs;
}

void Workspace::track_runtime(const std::string& runtime, const std::string& binary) {
  for (auto& r : runtimes_)
    if (r.first == runtime) {
      r.second = binary;
      return;
    }
  runtimes_.emplace_back(runtime, binary);
}

std::vector<std::string> Workspace::containers_in(const std::string& runtime) const {
  std::vector<std::string> ids;
  std::string root = cat(dir_, "/root-", runtime);
  if (DIR* d = ::opendir(root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") ids.push_back(n);
    }
    ::closedir(d);
  }
  return ids;
}

std::vector<std::string> Workspace::clean_runtimes() {
  if (dir_.empty() || removed_) return {};
  for (const auto& [name, binary] : runtimes_) {
    std::string root = cat(dir_, "/root-", name);
    for (const auto& id : containers_in(name)) {
      // Not interruptible: a second Ctrl-C must not leave containers behind.
      (void)capture({binary, "--root", root, "delete", "--force", id}, 30000, false);
    }
  }
  return remove_cgroup_trees(cgroups_.mounts, cgroup_name_);
}

void Workspace::tear_down() {
  if (dir_.empty() || removed_) return;
  (void)clean_runtimes();
  removed_ = true;
  // The mounts live in this process's private namespace; unmounting them
  // makes the directory on the host's filesystem reachable for rmdir.
  if (hidden_) (void)unmount(controllers_file_);
  if (tmpfs_) (void)unmount(dir_);
  if (tmpfs_)
    (void)::rmdir(dir_.c_str());
  else
    (void)remove_all(dir_);
}

}  // namespace berth::bench
