#include "runtime/init.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"
#include "common/trace.hpp"
#include "common/strings.hpp"
#include "common/time.hpp"
#include "runtime/hooks.hpp"
#include "runtime/init_process.hpp"
#include "runtime/kernel.hpp"
#include "runtime/rootfs.hpp"
#include "runtime/sched.hpp"
#include "runtime/sync_protocol.hpp"

namespace berth::runtime {

namespace {

Status join_namespaces(const InitContext& ctx, bool include_mount) {
  const auto& joins = ctx.plan->ns.joins;
  for (size_t i = 0; i < joins.size(); ++i) {
    int fd = ctx.join_fds[i];
    if (fd < 0) continue;
    if ((joins[i].flag == CLONE_NEWNS) != include_mount) continue;
    if (::setns(fd, joins[i].flag) < 0) return sys_error("join ", joins[i].type, " namespace ", joins[i].path);
  }
  return {};
}

// The slow path (see NamespacePlan::intermediate). Returns in the forked
// init; the intermediate process itself ends here.
Status intermediate(const InitContext& ctx) {
  const NamespacePlan& ns = ctx.plan->ns;
  BERTH_TRY(join_namespaces(ctx, false));
  if (ns.user_new) {
    if (::unshare(CLONE_NEWUSER) < 0) return sys_error("create user namespace");
    BERTH_TRY(sync_send(ctx.sync_fd, SyncType::map_request, ::getpid()));
    BERTH_TRY(sync_expect(ctx.sync_fd, SyncType::map_done));
    BERTH_TRY(become_namespace_root());
  }
  int flags = ns.unshare_flags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);
  if (flags && ::unshare(flags) < 0) return sys_error("create namespaces");
  BERTH_TRY(join_namespaces(ctx, true));
  pid_t child = ::fork();
  if (child < 0) return sys_error("fork container init");
  if (child == 0) return {};
  (void)sync_send(ctx.sync_fd, SyncType::child_pid, child);
  ::_exit(0);
}

// A new session keyring, searchable by the container's user after setuid
// (the keyring is best effort where the kernel has no keys: ENOSYS).
Status join_session_keyring(const std::string& name) {
  long key = ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str());
  if (key < 0) return errno == ENOSYS ? Status{} : Status{sys_error("join session keyring ", name)};
  char desc[256] = {};
  if (::syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc - 1) < 0) return sys_error("describe session keyring");
  // "type;uid;gid;perm;description"
  auto fields = split(desc, ';');
  auto perm = fields.size() > 3 ? parse_int<uint32_t>(fields[3], 16) : std::nullopt;
  if (!perm) return make_error("describe session keyring: unexpected ", quote(desc));
  if (::syscall(SYS_keyctl, KEYCTL_SETPERM, key, *perm | 0x080000 /* KEY_USR_SEARCH */) < 0)
    return sys_error("set session keyring permissions");
  return {};
}

Status wait_for_start(const InitContext& ctx) {
  if (ctx.state_dirfd < 0) return sync_expect(ctx.sync_fd, SyncType::start).ok()
                                     ? Status{}
                                     : Status{make_error("runtime went away before start")};
  // Blocks until `berth-runtime start` opens the read side.
  UniqueFd fifo(::openat(ctx.state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fifo) return sys_error("open exec fifo");
  if (::write(fifo.get(), "0", 1) != 1) return sys_error("write exec fifo");
  return {};
}

// Returns only on failure; on success the process image is replaced.
Status init_sequence(const InitContext& ctx, bool* after_ready) {
  const InitPlan& plan = *ctx.plan;
  Kernel& k = linux_kernel();
  ::umask(0);
  // First: the init is not dumpable, so its /proc files belong to host root,
  // which it stops being in a new user namespace.
  if (plan.process.oom_score_adj) BERTH_TRY(set_oom_score_adj(*plan.process.oom_score_adj));
  trace::Phase namespaces("namespaces", "init");
  if (plan.ns.intermediate) {
    // If the runtime dies during set-up, so does the half-made container.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    BERTH_TRY(intermediate(ctx));
  } else {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (ctx.wait_go) BERTH_TRY(sync_expect(ctx.sync_fd, SyncType::go));
    if (plan.ns.user_new) BERTH_TRY(become_namespace_root());
    BERTH_TRY(join_namespaces(ctx, false));
    BERTH_TRY(join_namespaces(ctx, true));
  }
  if ((plan.ns.unshare_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) < 0)
    return sys_error("create cgroup namespace");
  if (!plan.session_keyring.empty()) BERTH_TRY(join_session_keyring(plan.session_keyring));
  if (!plan.hostname.empty() && k.sethostname(plan.hostname.data(), plan.hostname.size()) < 0)
    return sys_error("set hostname ", quote(plan.hostname));
  if (plan.domainname && k.setdomainname(plan.domainname->data(), plan.domainname->size()) < 0)
    return sys_error("set domainname ", quote(*plan.domainname));
  namespaces.end();
  BERTH_TRY_CTX(prepare_rootfs(k, plan.rootfs, plan.process.cwd), "set up rootfs");
  // Hooks: the runtime runs its own (prestart, createRuntime) now, in its
  // namespaces, and sends back the state the init's hooks read on stdin.
  std::string creating_state, created_state;
  if (plan.runtime_hooks || !plan.create_container_hooks.empty() || !plan.start_container_hooks.empty()) {
    BERTH_TRY(sync_send(ctx.sync_fd, SyncType::hooks));
    auto states = sync_expect(ctx.sync_fd, SyncType::hooks_done);
    if (!states) return std::move(states).error();
    auto nul = states->text.find('\0');
    creating_state = states->text.substr(0, nul);
    if (nul != std::string::npos) created_state = states->text.substr(nul + 1);
  }
  BERTH_TRY(run_hooks(plan.create_container_hooks, "createContainer", creating_state));
  {
    trace::Phase pivot("pivot_root", "init");
    BERTH_TRY(enter_rootfs(k, plan.rootfs));
  }
  trace::Phase finish("finish_rootfs", "init");
  BERTH_TRY(apply_sysctls(plan.rootfs));
  if (plan.process.terminal) BERTH_TRY_CTX(setup_console(plan.process, ctx.console_fd, plan.rootfs.console), "set up console");
  BERTH_TRY(finish_rootfs(k, plan.rootfs));
  finish.end();
  trace::Phase process("process", "init");
  BERTH_TRY(set_rlimits(plan.process.rlimits));
  // Raising a priority needs capabilities the process may be about to drop.
  if (plan.process.sched) BERTH_TRY(apply_sched_attr(*plan.process.sched));
  if (plan.process.io_priority) BERTH_TRY(apply_io_priority(*plan.process.io_priority));
  if (plan.process.personality && ::personality(*plan.process.personality) < 0) return sys_error("set personality");
  std::vector<std::string> env = process_env(plan.process);
  auto exe = resolve_executable(plan.process.args[0], env, plan.process.cwd);
  if (!exe) return std::move(exe).error();
  // argv/envp are built before the handshake so that after READY nothing
  // but exec itself can fail.
  std::vector<char*> argv, envp;
  for (const auto& a : plan.process.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  BERTH_TRY(prepare_fds(ctx.preserve_fds));
  // Without no_new_privs the kernel wants CAP_SYS_ADMIN to install a
  // filter, so it goes in before the capabilities are dropped; with it, as
  // late as possible so the filter constrains as little of the set-up.
  process.end();
  trace::Phase credentials("credentials", "init");
  const auto& filter = plan.process.seccomp;
  if (filter && !plan.process.no_new_privs) BERTH_TRY(load_seccomp(*filter, ctx.sync_fd));
  BERTH_TRY(apply_credentials(plan.process));
  if (filter && plan.process.no_new_privs) BERTH_TRY(load_seccomp(*filter, ctx.sync_fd));
  credentials.end();
  // From here the container must outlive the runtime (create returns).
  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  BERTH_TRY(sync_send(ctx.sync_fd, SyncType::ready));
  *after_ready = true;
  BERTH_TRY(wait_for_start(ctx));
  BERTH_TRY(run_hooks(plan.start_container_hooks, "startContainer", created_state));
  ::execve(exe->c_str(), argv.data(), envp.data());
  return sys_error("exec ", quote(*exe));
}

}  // namespace

void run_init(const InitContext& ctx) {
  bool after_ready = false;
  // The init starts with a copy of the runtime's fd table: the locked state
  // directory, the cgroup dirfd, whatever the caller leaked.
  std::vector<int> keep = {ctx.sync_fd, ctx.console_fd, ctx.state_dirfd, ctx.log_fd};
  keep.insert(keep.end(), ctx.join_fds.begin(), ctx.join_fds.end());
  for (const auto& m : ctx.plan->rootfs.mounts) keep.push_back(m.tree_fd);
  close_fds_except(keep, ctx.preserve_fds);
  try {
    Status st = init_sequence(ctx, &after_ready);
    // With `run` the runtime still listens; after `create` it is gone and the
    // error goes to the log and to the container's stderr.
    if (!after_ready || ctx.state_dirfd < 0) {
      (void)sync_send_error(ctx.sync_fd, st.error());
    } else {
      std::string msg = st.error().message();
      if (ctx.log_fd >= 0) (void)write_all(ctx.log_fd, log::format_line(ctx.log_format, log::Level::error, msg, rfc3339_now()), "log");
      (void)write_all(2, cat(msg, "\n"), "stderr");
    }
  } catch (...) {
    // Unwinding must never reach the parent's frames copied into this process.
  }
  ::_exit(127);
}

}  // namespace berth::runtime
