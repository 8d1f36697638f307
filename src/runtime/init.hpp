// The container's init process: the code that runs between clone() and
// execve(). See sync_protocol.hpp for its conversation with the runtime.
//
// Rules for this code: it never returns into the caller's stack (it ends in
// execve or _exit, so no destructor of the parent's objects runs twice), it
// throws nothing, and every failure goes back to the parent as an Error.
#pragma once

#include <vector>

#include "common/log.hpp"
#include "runtime/plan.hpp"

namespace berth::runtime {

struct InitContext {
  const InitPlan* plan = nullptr;
  int sync_fd = -1;
  int console_fd = -1;     // connected console socket when process.terminal
  int state_dirfd = -1;    // create: wait on <state>/exec.fifo; -1: wait for START on sync_fd
  int preserve_fds = 0;
  bool wait_go = false;    // the parent has work to do (id maps, cgroup) before we go on
  std::vector<int> join_fds;  // one per plan->ns.joins entry; -1 when the parent joined it
  int log_fd = -1;         // where errors after READY go, when the parent is gone
  log::Format log_format = log::Format::text;
};

/// Runs the init sequence; ends in execve() or _exit().
[[noreturn]] void run_init(const InitContext& ctx);

}  // namespace berth::runtime
