#include <signal.h>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "runtime/container_internal.hpp"

namespace berth::runtime {

namespace {

// SIGKILL the init and wait until it has exited (not necessarily reaped:
// its parent, the caller of create, does that).
Status kill_and_wait(const ContainerState& st) {
  auto pidfd = open_pidfd(st.pid, st.pid_start_time);
  if (!pidfd) return {};  // already gone
  auto cg = cgroups::Cgroup::at(st.cgroup_mount, st.cgroup_path);
  // A frozen cgroup would keep SIGKILL pending; cgroup.kill works regardless.
  if (!cg.signal_all(SIGKILL) && pidfd_signal(pidfd->get(), SIGKILL) < 0 && errno != ESRCH)
    return sys_error("kill container init ", st.pid);
  if (!wait_pidfd_exit(pidfd->get(), 10000)) return make_error("container init ", st.pid, " did not exit after SIGKILL");
  return {};
}

}  // namespace

Status delete_container(const std::string& root, const std::string& id, bool force) {
  BERTH_TRY(validate_id(id));
  auto dir = StateDir::open(root, id);
  if (!dir) return force ? Status{} : Status{std::move(dir).error()};
  auto st = dir->load();
  if (!st) {
    // A create that died before saving its state leaves only the directory.
    (void)dir->remove();
    return force ? Status{} : Status{std::move(st).error()};
  }
  ContainerStatus status = dir->status(*st);
  switch (status) {
    case ContainerStatus::stopped:
      break;
    case ContainerStatus::created:
      BERTH_TRY(kill_and_wait(*st));
      break;
    default:
      if (!force) return make_error("cannot delete container ", id, " that is not stopped: ", status_name(status));
      BERTH_TRY(kill_and_wait(*st));
  }
  return destroy_container(*dir, *st);
}

}  // namespace berth::runtime
