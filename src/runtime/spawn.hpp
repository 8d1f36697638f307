// The parent side of container creation: clone3() the init into its
// namespaces and cgroup, answer its requests, and wait until it is READY.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>

#include "cgroups/cgroup.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "common/unique_fd.hpp"
#include "runtime/plan.hpp"

namespace berth::runtime {

struct SpawnOptions {
  const InitPlan* plan = nullptr;
  const cgroups::Cgroup* cgroup = nullptr;
  int cgroup_fd = -1;  // an open directory fd of `cgroup` (for CLONE_INTO_CGROUP)
  int console_fd = -1;
  int state_dirfd = -1;  // create: the init waits on exec.fifo here; -1: it waits for START
  int preserve_fds = 0;
  int log_fd = -1;
  log::Format log_format = log::Format::text;
  /// Called with a seccomp notify listener fd the init sends (SECCOMP_FD).
  std::function<Status(int listener_fd, pid_t pid)> on_seccomp_fd;
  /// Called when the init reaches its hooks (HOOKS): runs the runtime's
  /// hooks and returns the text for HOOKS_DONE.
  std::function<Result<std::string>(pid_t pid)> on_hooks;
};

struct InitProcess {
  pid_t pid = -1;
  uint64_t start_time = 0;
  UniqueFd sync;
  UniqueFd pidfd;
  /// Owns the init when it is our direct child: killed and reaped unless released.
  ChildProcess child;
};

/// clone3() as a fork (no new stack, SIGCHLD on exit) with `flags`; with
/// CLONE_INTO_CGROUP the child starts in the cgroup `cgroup_fd`.
pid_t clone_into(uint64_t flags, int cgroup_fd);

/// Creates the init and returns once it is READY (set up, waiting to exec).
Result<InitProcess> spawn_init(const SpawnOptions& opts);

/// For `run`: tells a READY init to exec and waits until it did (the sync
/// socket closes on exec) or reports why it could not.
Status start_init(InitProcess& init);

}  // namespace berth::runtime
