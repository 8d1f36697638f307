// The process `exec` starts inside a running container: it joins the
// container's namespaces (its cgroup it entered by clone3), sets up its
// process attributes and execs. The runtime talks to it with the same sync
// protocol as to a container's init (READY, START, ERROR).
#pragma once

#include <vector>

#include "common/log.hpp"
#include "runtime/plan.hpp"

namespace berth::runtime {

struct ExecContext {
  const ProcessPlan* process = nullptr;
  std::vector<NamespaceJoin> joins;  // ordered: user first, mount last
  std::vector<int> join_fds;         // one per join; -1 when the runtime joined it (pid)
  int sync_fd = -1;
  int console_fd = -1;               // process.terminal: where the pty master goes
  int preserve_fds = 0;
};

/// Runs the exec sequence; ends in execve() or _exit().
[[noreturn]] void run_exec_child(const ExecContext& ctx);

}  // namespace berth::runtime
