#include <signal.h>

#include "common/process.hpp"
#include "runtime/container_internal.hpp"

namespace berth::runtime {

Status kill_container(const std::string& root, const std::string& id, int sig, bool all) {
  auto dir = StateDir::open(root, id);
  if (!dir) return std::move(dir).error();
  auto st = dir->load();
  if (!st) return std::move(st).error();
  if (dir->status(*st) == ContainerStatus::stopped) return make_error("container not running");
  if (all) {
    auto cg = cgroups::Cgroup::at(st->cgroup_mount, st->cgroup_path);
    return cg.signal_all(sig);
  }
  // A pidfd checked against the start time cannot hit a recycled pid.
  auto pidfd = open_pidfd(st->pid, st->pid_start_time);
  if (!pidfd) return make_error("container not running");
  if (pidfd_signal(pidfd->get(), sig) < 0) {
    if (errno == ESRCH) return make_error("container not running");
    return sys_error("send signal ", sig, " to container init");
  }
  return {};
}

}  // namespace berth::runtime
