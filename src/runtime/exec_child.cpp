#include "runtime/exec_child.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime/init_process.hpp"
#include "runtime/sched.hpp"
#include "runtime/sync_protocol.hpp"

namespace berth::runtime {

namespace {

// Returns only on failure; on success the process image is replaced.
Status exec_sequence(const ExecContext& ctx) {
  const ProcessPlan& p = *ctx.process;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Before the user namespace: this process is not dumpable, so its /proc
  // files belong to host root, which it stops being once inside.
  if (p.oom_score_adj) BERTH_TRY(set_oom_score_adj(*p.oom_score_adj));
  for (size_t i = 0; i < ctx.joins.size(); ++i) {
    if (ctx.join_fds[i] < 0) continue;
    if (::setns(ctx.join_fds[i], ctx.joins[i].flag) < 0)
      return sys_error("join ", ctx.joins[i].type, " namespace of the container");
    // Joining a user namespace grants its capabilities but keeps our ids,
    // which may be unmapped there.
    if (ctx.joins[i].flag == CLONE_NEWUSER) BERTH_TRY(become_namespace_root());
  }
  // setns(CLONE_NEWNS) put us at the root of the container's filesystem.
  BERTH_TRY(set_rlimits(p.rlimits));
  if (p.sched) BERTH_TRY(apply_sched_attr(*p.sched));
  if (p.io_priority) BERTH_TRY(apply_io_priority(*p.io_priority));
  if (p.personality && ::personality(*p.personality) < 0) return sys_error("set personality");
  if (p.terminal) BERTH_TRY_CTX(setup_console(p, ctx.console_fd, false), "set up console");
  std::vector<std::string> env = process_env(p);
  auto exe = resolve_executable(p.args[0], env, p.cwd);
  if (!exe) return std::move(exe).error();
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  BERTH_TRY(prepare_fds(ctx.preserve_fds));
  // Without no_new_privs the kernel wants CAP_SYS_ADMIN to install a
  // filter, so it goes in before the capabilities are dropped; with it, as
  // late as possible so the filter constrains as little of the set-up.
  const auto& filter = p.seccomp;
  if (filter && !p.no_new_privs) BERTH_TRY(load_seccomp(*filter, ctx.sync_fd));
  BERTH_TRY(apply_credentials(p));
  if (filter && p.no_new_privs) BERTH_TRY(load_seccomp(*filter, ctx.sync_fd));
  // A detached exec outlives the runtime.
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  BERTH_TRY(sync_send(ctx.sync_fd, SyncType::ready));
  if (!sync_expect(ctx.sync_fd, SyncType::start)) return make_error("runtime went away before start");
  if (p.affinity_final) BERTH_TRY(apply_cpu_affinity(*p.affinity_final, "final"));
  ::execve(exe->c_str(), argv.data(), envp.data());
  return sys_error("exec ", quote(*exe));
}

}  // namespace

void run_exec_child(const ExecContext& ctx) {
  std::vector<int> keep = {ctx.sync_fd, ctx.console_fd};
  keep.insert(keep.end(), ctx.join_fds.begin(), ctx.join_fds.end());
  close_fds_except(keep, ctx.preserve_fds);
  try {
    Status st = exec_sequence(ctx);
    (void)sync_send_error(ctx.sync_fd, st.error());
  } catch (...) {
    // Unwinding must never reach the parent's frames copied into this process.
  }
  ::_exit(127);
}

}  // namespace berth::runtime
