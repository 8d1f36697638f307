#include "runtime/spawn.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/trace.hpp"
#include "common/strings.hpp"
#include "runtime/init.hpp"
#include "runtime/sched.hpp"
#include "runtime/sync_protocol.hpp"

namespace berth::runtime {

pid_t clone_into(uint64_t flags, int cgroup_fd) {
  clone_args args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  if (flags & CLONE_INTO_CGROUP) args.cgroup = static_cast<uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

namespace {

Result<std::vector<UniqueFd>> open_namespaces(const NamespacePlan& ns) {
  std::vector<UniqueFd> fds;
  for (const auto& j : ns.joins) {
    auto fd = open_file(j.path, O_RDONLY);
    if (!fd) return std::move(fd).error().wrap(cat("join ", j.type, " namespace"));
    int type = ::ioctl(fd->get(), NS_GET_NSTYPE);
    if (type >= 0 && type != j.flag) return make_error("join ", j.type, " namespace: ", j.path, " is not a ", j.type, " namespace");
    fds.push_back(std::move(*fd));
  }
  return fds;
}

Status write_id_maps(pid_t pid, const NamespacePlan& ns) {
  if (auto st = write_file(cat("/proc/", pid, "/uid_map"), ns.uid_map); !st)
    return Error(st.error().code(), "write uid_map of the container user namespace");
  if (auto st = write_file(cat("/proc/", pid, "/gid_map"), ns.gid_map); !st)
    return Error(st.error().code(), "write gid_map of the container user namespace");
  return {};
}

Status enter_time_namespace(const NamespacePlan& ns) {
  // Offsets can only be written before any process enters the namespace,
  // so the runtime creates it for its children and configures it first.
  if (::unshare(CLONE_NEWTIME) < 0) return sys_error("create time namespace");
  if (!ns.time_offsets.empty()) {
    if (auto st = write_file("/proc/self/timens_offsets", ns.time_offsets); !st)
      return Error(st.error().code(), "write time namespace offsets");
  }
  return {};
}

}  // namespace

Result<InitProcess> spawn_init(const SpawnOptions& opts) {
  const InitPlan& plan = *opts.plan;
  const NamespacePlan& ns = plan.ns;

  auto ns_fds = open_namespaces(ns);
  if (!ns_fds) return std::move(ns_fds).error();
  InitContext ctx;
  ctx.plan = opts.plan;
  ctx.console_fd = opts.console_fd;
  ctx.state_dirfd = opts.state_dirfd;
  ctx.preserve_fds = opts.preserve_fds;
  ctx.log_fd = opts.log_fd;
  ctx.log_format = opts.log_format;
  for (size_t i = 0; i < ns.joins.size(); ++i) {
    int fd = (*ns_fds)[i].get();
    // setns(CLONE_NEWPID) only affects children: in the fast path the
    // runtime joins, so clone3 puts the init straight into that namespace.
    // In the slow path the intermediate joins, staying in our pid namespace
    // so the pid it reports is valid here.
    if (ns.joins[i].flag == CLONE_NEWPID && !ns.intermediate) {
      if (::setns(fd, CLONE_NEWPID) < 0) return sys_error("join pid namespace ", ns.joins[i].path);
      fd = -1;
    }
    ctx.join_fds.push_back(fd);
  }
  if (ns.time_new) BERTH_TRY(enter_time_namespace(ns));

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("create sync socket");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  ctx.sync_fd = child_end.get();

  uint64_t flags = static_cast<uint64_t>(ns.clone_flags);
  if (opts.cgroup_fd >= 0) flags |= CLONE_INTO_CGROUP;
  // Not dumpable from birth (clone copies the flag, execve resets it): a
  // process that shares the container's pid namespace cannot open
  // /proc/<init>/exe and reach the runtime's executable on the host.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return sys_error("make the runtime non-dumpable");
  bool place_by_hand = false;
  ctx.wait_go = (ns.user_new && !ns.intermediate);
  trace::Phase clone_phase("clone");
  pid_t pid = clone_into(flags, opts.cgroup_fd);
  if (pid < 0 && (flags & CLONE_INTO_CGROUP) && (errno == EINVAL || errno == E2BIG || errno == EOPNOTSUPP)) {
    // Kernels without CLONE_INTO_CGROUP: move the init by hand before it goes on.
    flags &= ~CLONE_INTO_CGROUP;
    place_by_hand = true;
    ctx.wait_go = true;
    pid = clone_into(flags, -1);
  }
  if (pid < 0) return sys_error("clone container init");
  if (pid == 0) {
    parent_end.reset();
    run_init(ctx);
  }
  clone_phase.end();
  InitProcess init;
  init.child = ChildProcess(pid);
  init.pid = pid;
  child_end.reset();
  ns_fds->clear();

  if (place_by_hand) BERTH_TRY(opts.cgroup->add_process(pid));
  if (ns.user_new && !ns.intermediate) BERTH_TRY(write_id_maps(pid, ns));
  if (ctx.wait_go) BERTH_TRY(sync_send(parent_end.get(), SyncType::go));

  trace::Phase wait_ready("wait_ready");
  for (;;) {
    auto msg = sync_recv(parent_end.get());
    if (!msg) return std::move(msg).error();
    switch (msg->type) {
      case SyncType::map_request:
        BERTH_TRY(write_id_maps(pid, ns));
        BERTH_TRY(sync_send(parent_end.get(), SyncType::map_done));
        continue;
      case SyncType::child_pid: {
        // The intermediate is done; the init it forked is not our child.
        auto code = wait_exit_code(init.child.release());
        if (!code || *code != 0) return make_error("intermediate process failed");
        init.pid = msg->pid;
        continue;
      }
      case SyncType::seccomp_fd: {
        UniqueFd listener(msg->passed_fd);
        if (!listener || !opts.on_seccomp_fd) return make_error("unexpected seccomp listener fd from container init");
        BERTH_TRY(opts.on_seccomp_fd(listener.get(), init.pid));
        continue;
      }
      case SyncType::hooks: {
        if (!opts.on_hooks) return make_error("unexpected hooks request from container init");
        auto text = opts.on_hooks(init.pid);
        if (!text) return std::move(text).error();
        BERTH_TRY(sync_send(parent_end.get(), SyncType::hooks_done, 0, 0, *text));
        continue;
      }
      case SyncType::ready:
        break;
      case SyncType::error:
        return Error(msg->err_no, std::string(msg->message()));
      default:
        return make_error("unexpected sync message ", static_cast<uint32_t>(msg->type), " from container init");
    }
    break;
  }
  auto st = read_proc_stat(init.pid);
  if (!st) return make_error("container init ", init.pid, " exited during set-up");
  init.start_time = st->start_time;
  auto pidfd = open_pidfd(init.pid, init.start_time);
  if (!pidfd) return std::move(pidfd).error();
  init.pidfd = std::move(*pidfd);
  init.sync = std::move(parent_end);
  return init;
}

Status start_init(InitProcess& init) {
  trace::Phase start("start_exec");
  BERTH_TRY(sync_send(init.sync.get(), SyncType::start));
  auto msg = sync_recv(init.sync.get());
  init.sync.reset();
  if (msg) {
    if (msg->type == SyncType::error) return Error(msg->err_no, std::string(msg->message()));
    return make_error("unexpected sync message from container init");
  }
  // EOF: the socket was closed by execve (close-on-exec). Success.
  if (msg.error().code() == EPIPE) return {};
  return std::move(msg).error();
}

}  // namespace berth::runtime
