#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/unix_socket.hpp"
#include "runtime/container_internal.hpp"
#include "runtime/exec_child.hpp"
#include "runtime/linux_names.hpp"
#include "runtime/sched.hpp"
#include "runtime/sealed_exec.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/sync_protocol.hpp"
#include "runtime/supervise.hpp"

namespace berth::runtime {

namespace {

void add_unique(std::vector<std::string>& list, const std::string& v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

// The process to start: the --process file as it is, or the container's own
// process with the command line's changes, as runc builds it.
Result<Process> exec_process(const ExecOptions& o, const Process& base) {
  if (!o.process_file.empty()) {
    auto text = o.process_file == "-" ? read_fd(0) : read_file(o.process_file);
    if (!text) return std::move(text).error().wrap("read process file");
    auto p = parse_process_json(*text);
    if (!p) return p;
    if (!p->apparmor_profile.empty())
      return make_error("not supported: process.apparmorProfile (AppArmor is not enabled on this host)");
    if (!p->selinux_label.empty())
      return make_error("not supported: process.selinuxLabel (SELinux is not enabled on this host)");
    return p;
  }
  Process p = base;
  p.args = o.args;
  p.terminal = o.tty;
  p.console_size.reset();
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    // "NAME=" with its '=', so that FOO never matches FOOBAR.
    std::string name = eq == std::string::npos ? e + "=" : e.substr(0, eq + 1);
    // A later value replaces an earlier one: getenv() would return the first.
    std::erase_if(p.env, [&](const std::string& v) { return v.compare(0, name.size(), name) == 0; });
    p.env.push_back(e);
  }
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto parts = split(o.user, ':');
    auto uid = parse_int<uint32_t>(parts[0]);
    auto gid = parts.size() > 1 ? parse_int<uint32_t>(parts[1]) : std::optional<uint32_t>(p.user.gid);
    if (parts.size() > 2 || !uid || !gid) return make_error("--user: expected uid[:gid] as numbers, got ", quote(o.user));
    p.user.uid = *uid;
    p.user.gid = *gid;
  }
  if (!o.additional_gids.empty()) {
    p.user.additional_gids.clear();
    for (const auto& g : o.additional_gids) {
      auto gid = parse_int<uint32_t>(g);
      if (!gid) return make_error("--additional-gids: expected a number, got ", quote(g));
      p.user.additional_gids.push_back(*gid);
    }
  }
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = Capabilities{};
    for (const auto& c : o.caps) {
      if (!capability_number(c)) return make_error("--cap: unknown capability ", quote(c));
      for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->inheritable,
                        &p.capabilities->permitted, &p.capabilities->ambient})
        add_unique(*set, c);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  if (p.args.empty()) return make_error("exec: no command given (pass one after the container id, or --process)");
  BERTH_TRY(validate_process(p));
  return p;
}

// The container's lock is held from here until the new process has exec'd
// (not while it runs): execs are set up one at a time, so one that grants
// CAP_SYS_PTRACE has marked the container before its process exists, and
// every later exec sees the mark.
struct Target {
  StateDir dir;
  ContainerState state;
  std::string config_text;
};

Result<Target> load_target(const ExecOptions& o) {
  auto dir = StateDir::open(o.root, o.id);
  if (!dir) return std::move(dir).error();
  auto st = dir->load();
  if (!st) return std::move(st).error();
  switch (dir->status(*st)) {
    case ContainerStatus::stopped:
      return make_error("cannot exec in a stopped state");
    case ContainerStatus::paused:
      if (!o.ignore_paused) return make_error("cannot exec in a paused state (use --ignore-paused to override)");
      break;
    default:
      break;
  }
  auto text = read_file_at(dir->fd(), kSavedConfig);
  if (!text) return std::move(text).error().wrap("read the container's saved config");
  return Target{std::move(*dir), std::move(*st), std::move(*text)};
}

}  // namespace

Status send_pidfd(const std::string& socket_path, int pidfd) {
  auto sock = connect_unix(socket_path);
  if (!sock) return std::move(sock).error().wrap("open pidfd socket");
  return send_fd(sock->get(), pidfd, "pidfd");
}

Result<int> exec_container(const ExecOptions& o) {
  if (!o.apparmor.empty()) return make_error("not supported: --apparmor (AppArmor is not enabled on this host)");
  if (!o.process_label.empty()) return make_error("not supported: --process-label (SELinux is not enabled on this host)");
  auto target = load_target(o);
  if (!target) return std::move(target).error();
  const ContainerState& st = target->state;
  auto spec = parse_spec(target->config_text);
  if (!spec) return std::move(spec).error().wrap("parse the container's saved config");
  auto proc = exec_process(o, *spec->process);
  if (!proc) return std::move(proc).error();
  // A container process with CAP_SYS_PTRACE (and no user namespace) can
  // open a non-dumpable runtime's /proc/<pid>/exe: while one may exist, exec
  // runs from a sealed copy of itself. The mark is made before the process
  // that gets CAP_SYS_PTRACE exists.
  bool marked = ::faccessat(target->dir.fd(), kPtraceMarker, F_OK, 0) == 0;
  bool reachable = ptrace_reaches_runtime(*spec) && (has_ptrace(spec->process->capabilities) || marked);
  if (o.self_argv && reachable && !running_from_sealed_copy()) return reexec_from_sealed_copy(o.self_argv).error();
  if (ptrace_reaches_runtime(*spec) && has_ptrace(proc->capabilities) && !marked)
    BERTH_TRY_CTX(write_file_atomic(target->dir.fd(), kPtraceMarker, "", 0600), "mark the container");
  bool own_console = proc->terminal && o.console_socket.empty() && !o.detach;
  if (proc->terminal && o.console_socket.empty() && o.detach)
    return make_error("cannot allocate tty if berth-runtime will detach without setting console socket");
  if (!proc->terminal && !o.console_socket.empty())
    return make_error("cannot use console socket if berth-runtime will not detach or allocate tty");
  auto plan = make_process_plan(*proc, *spec->linux_);
  if (!plan) return std::move(plan).error();
  // Processes started by exec are held to the container's seccomp profile.
  if (spec->linux_->seccomp) {
    auto program = compile_seccomp(*spec->linux_->seccomp, seccomp_cache_dir(o.root));
    if (!program) return std::move(program).error();
    plan->seccomp = std::move(*program);
  }

  // The container's namespaces, reached through its init. The pidfd is
  // checked against the start time, and checked again after the namespace
  // files are open, so a recycled pid cannot lend us its namespaces.
  auto init = open_pidfd(st.pid, st.pid_start_time);
  if (!init) return make_error("cannot exec in a stopped state");
  ExecContext ctx;
  ctx.process = &*plan;
  ctx.preserve_fds = o.preserve_fds;
  std::vector<UniqueFd> ns_fds;
  UniqueFd pid_ns;
  for (const auto& kind : namespace_kinds()) {
    bool has = std::any_of(spec->linux_->namespaces.begin(), spec->linux_->namespaces.end(),
                           [&](const Namespace& n) { return n.type == kind.spec_name; });
    if (!has) continue;
    auto fd = open_file(cat("/proc/", st.pid, "/ns/", kind.proc_name), O_RDONLY);
    if (!fd) return std::move(fd).error().wrap(cat("open ", kind.spec_name, " namespace of the container"));
    if (kind.clone_flag == CLONE_NEWPID) {
      pid_ns = std::move(*fd);
      continue;
    }
    ctx.joins.push_back({kind.clone_flag, kind.spec_name, ""});
    ctx.join_fds.push_back(fd->get());
    ns_fds.push_back(std::move(*fd));
  }
  if (!process_matches(st.pid, st.pid_start_time)) return make_error("cannot exec in a stopped state");

  auto cgroup_fd = open_file(st.cgroup_mount + st.cgroup_path, O_RDONLY | O_DIRECTORY);
  if (!cgroup_fd) return std::move(cgroup_fd).error().wrap("open the container's cgroup");
  UniqueFd console, console_peer;
  if (own_console) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("create console socket");
    console.reset(sv[0]);
    console_peer.reset(sv[1]);
  } else if (!o.console_socket.empty()) {
    auto sock = connect_unix(o.console_socket);
    if (!sock) return std::move(sock).error().wrap("open console socket");
    console = std::move(*sock);
  }
  ctx.console_fd = console.get();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("create sync socket");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  ctx.sync_fd = child_end.get();

  // Not dumpable from birth (clone copies the flag, execve resets it): while
  // the child is still this binary, processes of the container cannot open
  // /proc/<pid>/exe to reach the runtime's executable on the host.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return sys_error("make the runtime non-dumpable");
  // setns(CLONE_NEWPID) only affects children: the clone is born in the
  // container's pid namespace, and its pid here is a host pid.
  if (pid_ns && ::setns(pid_ns.get(), CLONE_NEWPID) < 0) return sys_error("join pid namespace of the container");
  // execCPUAffinity.initial: where the process runs until it is in the
  // container's cgroup (it inherits the runtime's affinity at clone).
  if (plan->affinity_initial) BERTH_TRY(apply_cpu_affinity(*plan->affinity_initial, "initial"));
  pid_t pid = clone_into(CLONE_INTO_CGROUP, cgroup_fd->get());
  if (pid < 0) return sys_error("clone exec process");
  if (pid == 0) {
    parent_end.reset();
    run_exec_child(ctx);
  }
  ChildProcess child(pid);
  child_end.reset();
  ns_fds.clear();

  for (;;) {
    auto msg = sync_recv(parent_end.get());
    if (!msg) return std::move(msg).error();
    if (msg->type == SyncType::ready) break;
    if (msg->type == SyncType::error) return Error(msg->err_no, std::string(msg->message()));
    if (msg->type != SyncType::seccomp_fd) return make_error("unexpected sync message from exec process");
    UniqueFd listener(msg->passed_fd);
    if (!listener) return make_error("seccomp listener fd missing");
    BERTH_TRY(send_to_seccomp_listener(*plan->seccomp, listener.get(), pid,
                                       state_json(st, ContainerStatus::running, "", false)));
  }
  auto stat = read_proc_stat(pid);
  if (!stat) return make_error("exec process ", pid, " exited during set-up");
  auto pidfd = open_pidfd(pid, stat->start_time);
  if (!pidfd) return std::move(pidfd).error();
  if (!o.pid_file.empty()) BERTH_TRY(write_pid_file(o.pid_file, pid));
  if (!o.pidfd_socket.empty()) BERTH_TRY(send_pidfd(o.pidfd_socket, pidfd->get()));
  BERTH_TRY(sync_send(parent_end.get(), SyncType::start));
  auto after = sync_recv(parent_end.get());
  if (after) {
    if (after->type == SyncType::error) return Error(after->err_no, std::string(after->message()));
    return make_error("unexpected sync message from exec process");
  }
  if (after.error().code() != EPIPE) return std::move(after).error();
  // The process has exec'd: other verbs and execs may proceed.
  { StateDir unlock = std::move(target->dir); }
  if (o.detach) {
    child.release();
    return 0;
  }
  UniqueFd master;
  if (console_peer) {
    auto fd = recv_fd(console_peer.get(), nullptr);
    if (!fd) return std::move(fd).error().wrap("receive pty master");
    master = std::move(*fd);
  }
  // supervise() reaps the process itself.
  child.release();
  return supervise(pid, pidfd->get(), master.get());
}

}  // namespace berth::runtime
